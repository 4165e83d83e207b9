import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../privileged-helper/config/config.js';
import { EMBEDDED_CONFIG_TEXT } from '../../../privileged-helper/config/default-config.js';
import { ephemeralTripwireWarnings, parseLocalPortRange, readLocalPortRange } from '../../../privileged-helper/config/ephemeral-ports.js';

const LINUX: readonly [number, number] = [32768, 60999];
// PortSentry 1.2's own lists.
const CLASSIC = parseConfig(
  [
    'TCP_PORTS="1,11,15,79,111,119,143,540,635,1080,1524,2000,5742,6667,12345,12346,20034,27665,31337,32771,32772,32773,32774,40421,49724,54320"',
    'UDP_PORTS="1,7,9,69,161,162,513,635,640,641,700,37444,34555,31335,32770,32771,32772,32773,32774,31337,54321"',
  ].join('\n'),
  'classic.conf',
);

describe('tripwires inside the ephemeral port range', () => {
  it('reads the kernel file format, and nothing else', () => {
    assert.deepEqual(parseLocalPortRange('32768\t60999\n'), [32768, 60999]);
    assert.deepEqual(parseLocalPortRange('1024 65535'), [1024, 65535]);
    for (const bad of ['', '60999 32768', '0 10', '1 70000', 'a b', '1 2 3']) assert.equal(parseLocalPortRange(bad), null, bad);
  });

  it("1.2's lists: one warning per protocol, naming every port inside", () => {
    assert.deepEqual(ephemeralTripwireWarnings(CLASSIC, ['tcp', 'udp'], LINUX), [
      "TCP tripwire ports 32771,32772,32773,32774,40421,49724,54320 are inside this host's ephemeral port range 32768-60999 (net.ipv4.ip_local_port_range): a late reply to this host's own query can land there and block whoever answered",
      "UDP tripwire ports 32770,32771,32772,32773,32774,34555,37444,54321 are inside this host's ephemeral port range 32768-60999 (net.ipv4.ip_local_port_range): a late reply to this host's own query can land there and block whoever answered",
    ]);
    // The stealth modes watch the same lists.
    assert.equal(ephemeralTripwireWarnings(CLASSIC, ['sudp'], LINUX).length, 1);
    assert.deepEqual(ephemeralTripwireWarnings(parseConfig('UDP_PORTS="7,40000"', 'one.conf'), ['udp'], LINUX), [
      "UDP tripwire port 40000 is inside this host's ephemeral port range 32768-60999 (net.ipv4.ip_local_port_range): a late reply to this host's own query can land there and block whoever answered",
    ]);
  });

  it('the advanced modes: only when their range reaches into it', () => {
    assert.deepEqual(ephemeralTripwireWarnings(CLASSIC, ['atcp', 'audp'], LINUX), []);
    assert.deepEqual(ephemeralTripwireWarnings(parseConfig('ADVANCED_PORTS_UDP="40000"', 'a.conf'), ['audp'], LINUX), [
      "the advanced UDP range reaches 32768-40000, which is inside this host's ephemeral port range 32768-60999 (net.ipv4.ip_local_port_range): a late reply to this host's own query can land there and block whoever answered",
    ]);
  });

  it('nothing without a range to compare with', () => {
    assert.deepEqual(ephemeralTripwireWarnings(CLASSIC, ['tcp', 'udp'], null), []);
  });

  it('the shipped defaults lie outside the Linux default range', () => {
    const embedded = parseConfig(EMBEDDED_CONFIG_TEXT, 'embedded');
    assert.deepEqual(ephemeralTripwireWarnings(embedded, ['tcp', 'udp', 'atcp', 'audp'], LINUX), []);
  });

  it('readLocalPortRange: the file, or null when it cannot be read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ps-range-'));
    try {
      await writeFile(join(dir, 'range'), '40000\t50000\n');
      assert.deepEqual(await readLocalPortRange(join(dir, 'range')), [40000, 50000]);
      assert.equal(await readLocalPortRange(join(dir, 'missing')), null);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
