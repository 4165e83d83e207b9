import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildCaptureFilter } from '../../../privileged-helper/capture/capture-filter.js';
import type { DecodedPacket } from '../../../privileged-helper/capture/packet-decoder.js';
import { CaptureError, startCapture, type CaptureHandle } from '../../../privileged-helper/capture/tcpdump-capture.js';
import { createLab, type Lab } from '../../support/netns-lab.js';

// startCapture runs tcpdump in its own network namespace. To watch the lab's "watcher"
// host instead, tcpdumpPath points at a two-line script that enters that namespace first.

const run = promisify(execFile);

const TCP_PORT = 4444;
const UDP_PORT = 5555;

interface Captured {
  readonly handle: CaptureHandle;
  readonly packets: { packet: DecodedPacket; at: number }[];
  readonly failures: string[];
}

/** Our own child processes whose argv (NUL-separated) contains this. */
function childrenRunning(argvPart: string): number {
  let count = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const ppid = Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      if (ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(argvPart)) count++;
    } catch {
      // gone while we looked
    }
  }
  return count;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('startCapture with tcpdump in a network namespace', () => {
  let lab: Lab<'watcher' | 'sender'>;
  let dir = '';
  let wrapper = '';

  before(async () => {
    lab = await createLab(['watcher', 'sender']);
    dir = await mkdtemp(join(tmpdir(), 'tcpdump-capture-'));
    wrapper = join(dir, 'tcpdump-in-watcher');
    await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec ${lab.hosts.watcher.netns} tcpdump "$@"\n`);
    await chmod(wrapper, 0o755);
  });

  after(async () => {
    await lab?.destroy();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  async function capture(filter: string): Promise<Captured> {
    const packets: Captured['packets'] = [];
    const failures: string[] = [];
    const handle = await startCapture({ filter, tcpdumpPath: wrapper, onPacket: (packet, at) => packets.push({ packet, at }), onFailure: (message) => failures.push(message) });
    return { handle, packets, failures };
  }

  /** tcpdump processes running in the watcher's namespace. */
  async function tcpdumpPids(): Promise<number[]> {
    const { stdout } = await run('ip', ['netns', 'pids', lab.hosts.watcher.netns]);
    const pids: number[] = [];
    for (const text of stdout.split('\n').filter((line) => line !== '')) {
      const comm = await readFile(`/proc/${text}/comm`, 'utf8').catch(() => '');
      if (comm.trim() === 'tcpdump') pids.push(Number(text));
    }
    return pids;
  }

  it('decodes SYN, FIN, NULL, XMAS and UDP probes from the sender; the filter keeps out ACKs and other ports', async () => {
    const { watcher, sender } = lab.hosts;
    const started = Date.now();
    const { handle, packets, failures } = await capture(buildCaptureFilter({ tcp: { kind: 'list', ports: [TCP_PORT] }, udp: { kind: 'list', ports: [UDP_PORT] }, outbound: false }));
    try {
      // Each probe leaves from its own source port, which is how it is found again below.
      const probes: [number, string[]][] = [
        [31001, ['-S', '-p', String(TCP_PORT)]],
        [31002, ['-F', '-p', String(TCP_PORT)]],
        [31003, ['-p', String(TCP_PORT)]], // no flag option: a NULL packet
        [31004, ['-F', '-P', '-U', '-p', String(TCP_PORT)]],
        [31005, ['-2', '-p', String(UDP_PORT)]],
        [31006, ['-A', '-p', String(TCP_PORT)]], // ACK: filtered out
        [31007, ['-S', '-p', String(TCP_PORT + 1)]], // unwatched port: filtered out
      ];
      await Promise.all(
        probes.map(([sourcePort, args]) => lab.exec(sender, ['hping3', '-q', '-c', '1', '-s', String(sourcePort), '-k', ...args, watcher.v4], { allowFailure: true, timeoutMs: 10_000 })),
      );
      // A barrier, not a sleep: a sentinel SYN sent after every probe above has left reaches
      // tcpdump after them, so once it is here anything the filter let through is here too.
      await lab.exec(sender, ['hping3', '-q', '-c', '1', '-s', '31008', '-k', '-S', '-p', String(TCP_PORT), watcher.v4], { allowFailure: true, timeoutMs: 10_000 });
      await waitFor('the sentinel', () => packets.some(({ packet }) => packet.sourcePort === 31008), 60_000);
      const bySourcePort = new Map(packets.filter(({ packet }) => packet.sourcePort !== 31008).map(({ packet }) => [packet.sourcePort, packet]));
      assert.deepEqual([...bySourcePort.keys()].sort(), [31001, 31002, 31003, 31004, 31005]);
      const common = { direction: 'in', family: 4, source: sender.v4, destination: watcher.v4, ipOptions: false } as const;
      assert.deepEqual(bySourcePort.get(31001), { ...common, protocol: 'tcp', sourcePort: 31001, destinationPort: TCP_PORT, tcpFlags: 0x02 });
      assert.deepEqual(bySourcePort.get(31002), { ...common, protocol: 'tcp', sourcePort: 31002, destinationPort: TCP_PORT, tcpFlags: 0x01 });
      assert.deepEqual(bySourcePort.get(31003), { ...common, protocol: 'tcp', sourcePort: 31003, destinationPort: TCP_PORT, tcpFlags: 0x00 });
      assert.deepEqual(bySourcePort.get(31004), { ...common, protocol: 'tcp', sourcePort: 31004, destinationPort: TCP_PORT, tcpFlags: 0x29 });
      assert.deepEqual(bySourcePort.get(31005), { ...common, protocol: 'udp', sourcePort: 31005, destinationPort: UDP_PORT, tcpFlags: 0 });
      assert.equal(packets.length, 6, 'each probe once, then the sentinel');
      // Capture time is wall-clock milliseconds from the pcap record.
      for (const { at } of packets) assert.ok(at >= started - 1000 && at <= Date.now() + 1000, `at ${at}`);
      assert.deepEqual(handle.stats(), { frames: 6, undecoded: 0, badSource: 0 });
      assert.deepEqual(failures, []);
    } finally {
      await handle.stop();
    }
  });

  it('decodes an IPv6 SYN scan from nmap', async () => {
    const { watcher, sender } = lab.hosts;
    const { handle, packets, failures } = await capture(buildCaptureFilter({ tcp: { kind: 'list', ports: [TCP_PORT] }, udp: null, outbound: false }));
    try {
      await lab.exec(sender, ['nmap', '-6', '-sS', '-Pn', '-n', '-p', String(TCP_PORT), watcher.v6], { timeoutMs: 20_000 });
      await waitFor('the IPv6 SYN', () => packets.length >= 1);
      const [first] = packets;
      assert.ok(first !== undefined);
      assert.equal(first.packet.direction, 'in');
      assert.equal(first.packet.family, 6);
      assert.equal(first.packet.source, sender.v6);
      assert.equal(first.packet.destination, watcher.v6);
      assert.equal(first.packet.protocol, 'tcp');
      assert.equal(first.packet.destinationPort, TCP_PORT);
      assert.equal(first.packet.tcpFlags, 0x02);
      // nmap may retransmit, but only SYNs to the port pass the filter.
      for (const { packet } of packets) assert.deepEqual([packet.source, packet.destinationPort, packet.tcpFlags], [sender.v6, TCP_PORT, 0x02]);
      assert.deepEqual(failures, []);
    } finally {
      await handle.stop();
    }
  });

  it("with outbound on, this host's own SYN is captured with direction out", async () => {
    const { watcher, sender } = lab.hosts;
    const { handle, packets } = await capture(buildCaptureFilter({ tcp: { kind: 'list', ports: [TCP_PORT] }, udp: null, outbound: true }));
    try {
      const sent = await lab.exec(watcher, ['hping3', '-q', '-c', '1', '-S', '-s', '31020', '-k', '-p', '7777', sender.v4], { allowFailure: true, timeoutMs: 10_000 });
      // hping3 saw the sender's RST/ACK answer, so it reached the watcher before the sentinel
      // SYN below leaves: once the sentinel is captured, the answer would have been too.
      assert.match(sent.stderr, /1 packets received/, sent.stderr);
      await lab.exec(watcher, ['hping3', '-q', '-c', '1', '-S', '-s', '31021', '-k', '-p', '7778', sender.v4], { allowFailure: true, timeoutMs: 10_000 });
      await waitFor('the sentinel SYN', () => packets.some(({ packet }) => packet.sourcePort === 31021), 60_000);
      // The sender's RST/ACK answer is inbound to an unwatched port: not captured.
      const out = { direction: 'out', family: 4, source: watcher.v4, destination: sender.v4, protocol: 'tcp', destinationPort: 7777, tcpFlags: 0x02, ipOptions: false } as const;
      assert.deepEqual(
        packets.map(({ packet }) => packet),
        [
          { ...out, sourcePort: 31020 },
          { ...out, sourcePort: 31021, destinationPort: 7778 },
        ],
      );
    } finally {
      await handle.stop();
    }
  });

  it('stop() ends tcpdump and reports no failure; a second stop() is harmless', async () => {
    const { handle, failures } = await capture(buildCaptureFilter({ tcp: { kind: 'list', ports: [TCP_PORT] }, udp: null, outbound: false }));
    assert.equal((await tcpdumpPids()).length, 1);
    // How long the stop takes is the bench's business, not a verdict here.
    await handle.stop();
    assert.deepEqual(await tcpdumpPids(), []);
    await handle.stop();
    // A failure is reported only from the child's 'close', which the first stop() awaited.
    assert.deepEqual(failures, []);
  });

  /** Starts a capture and kills its tcpdump (our own child) with SIGKILL; returns the failure reports. */
  async function killedCapture(): Promise<string[]> {
    const { failures } = await capture(buildCaptureFilter({ tcp: { kind: 'list', ports: [TCP_PORT] }, udp: null, outbound: false }));
    const pids = await tcpdumpPids();
    assert.equal(pids.length, 1);
    process.kill(pids[0]!, 'SIGKILL');
    // Reported from the child's 'close': by then tcpdump has exited and been reaped, once.
    await waitFor('the failure report', () => failures.length > 0);
    assert.deepEqual(await tcpdumpPids(), []);
    return failures;
  }

  it('tcpdump dying after the start is reported through onFailure, once', async () => {
    const failures = await killedCapture();
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /^packet capture stopped: /);
  });

  it('the failure report of a killed tcpdump says how it ended', async () => {
    assert.deepEqual(await killedCapture(), ['packet capture stopped: exit SIGKILL']);
  });

  /** startCapture with a tcpdump that does not exist; returns the rejection and any later onFailure calls. */
  async function missingTcpdump(): Promise<{ error: unknown; failures: string[] }> {
    const failures: string[] = [];
    const error = await startCapture({ filter: 'tcp', tcpdumpPath: '/nonexistent/tcpdump', onPacket: () => undefined, onFailure: (message) => failures.push(message) }).then(
      () => assert.fail('a missing tcpdump must not start'),
      (reason: unknown) => reason,
    );
    await sleep(100); // let the child's 'close' event arrive too
    return { error, failures };
  }

  it('a missing tcpdump rejects with a CaptureError saying it is not installed', async () => {
    const { error } = await missingTcpdump();
    assert.ok(error instanceof CaptureError);
    assert.equal(error.name, 'CaptureError');
    assert.equal(error.message, '/nonexistent/tcpdump is not installed; the stealth and advanced modes need it (apt-get install tcpdump)');
  });

  it('a capture that never started does not also report a failure later', async () => {
    const { failures } = await missingTcpdump();
    assert.deepEqual(failures, []);
  });

  it("an invalid filter rejects with tcpdump's own complaint and leaves no tcpdump behind", async () => {
    const failures: string[] = [];
    await assert.rejects(startCapture({ filter: 'tcp dst port (', tcpdumpPath: wrapper, onPacket: () => undefined, onFailure: (message) => failures.push(message) }), (error: unknown) => {
      assert.ok(error instanceof CaptureError);
      assert.match(error.message, /^packet capture stopped: tcpdump: .*syntax error/);
      return true;
    });
    assert.deepEqual(await tcpdumpPids(), []);
    assert.deepEqual(failures, []);
  });

  it('a stream that is not pcap is a failure, and the capture process is killed', async () => {
    // Not tcpdump: a stand-in that says it listens, then writes text where pcap belongs.
    const fake = join(dir, 'not-pcap');
    await writeFile(fake, "#!/bin/sh\necho 'listening on fake, link-type LINUX_SLL2' >&2\nsleep 0.3\necho 'this is text, not a pcap global header'\nexec sleep 300\n");
    await chmod(fake, 0o755);
    const failures: string[] = [];
    const handle = await startCapture({ filter: 'tcp', tcpdumpPath: fake, onPacket: () => undefined, onFailure: (message) => failures.push(message) });
    await waitFor('the failure report', () => failures.length > 0);
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /^packet capture stream is corrupt: not a pcap stream \(magic 0x[0-9a-f]{8}\)$/);
    // The process was killed (the script, or the sleep 300 it became, gone long before its own
    // end; 60 s safety net), so stopping has nothing left to do.
    await waitFor('the stand-in killed', () => childrenRunning(fake) + childrenRunning('sleep\0' + '300') === 0, 60_000);
    await handle.stop();
  });
});
