// What the syslog reporter hands to syslog, read by a receiver on a socket of the test's own
// (logger(1) is the real one the helper runs): lines as 1.2 wrote them, to the last space.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SyslogReporter } from '../../privileged-helper/reporters/syslog.js';
import { messages } from '../../privileged-helper/reporters/messages.js';
import { SyslogSink } from '../support/syslog-sink.js';

describe('syslog reporter', () => {
  it('keeps 1.2\'s trailing space ("manually exclude port: 113 ") and still makes one record of one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'syslog-unit-'));
    const sink = await SyslogSink.listen(join(dir, 'log'));
    const echoed: string[] = [];
    const reporter = new SyslogReporter({ socketPath: join(dir, 'log'), echo: (line) => echoed.push(line) });
    try {
      reporter.log(messages.advancedExclude(113));
      reporter.log('adminalert: forged\nattackalert: line\n');
      await reporter.close();
      const exclude = await sink.waitFor(/manually exclude port: 113/);
      assert.ok(exclude.endsWith('adminalert: Advanced mode will manually exclude port: 113 '), JSON.stringify(exclude));
      assert.ok(echoed[0]!.endsWith('exclude port: 113 '), JSON.stringify(echoed[0]));
      const forged = await sink.waitFor(/forged/);
      assert.ok(forged.endsWith('adminalert: forged attackalert: line'), JSON.stringify(forged));
    } finally {
      await sink.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
