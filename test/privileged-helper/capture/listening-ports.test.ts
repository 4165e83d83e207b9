import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ownSocketInodes, parseProcNetPorts, parseProcNetSockets, ProcListeningPorts, socketInodes } from '../../../privileged-helper/capture/listening-ports.js';

const run = promisify(execFile);

// Copied in the kernel's layout: a header line, then one socket per line with the local
// address as hex address:hex port and the state as two hex digits (0A LISTEN, 01 ESTABLISHED).
const PROC_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21034 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   112        0 23011 1 0000000000000000 100 0 0 10 0
   2: 0A00000A:0016 0B00000A:D431 01 00000000:00000000 02:0000A3D2 00000000     0        0 31044 4 0000000000000000 20 4 29 10 -1
   3: 0A00000A:A1B2 0B00000A:01BB 01 00000000:00000000 00:00000000 00000000  1000        0 31045 1 0000000000000000 20 4 29 10 -1
   4: 0A00000A:1F90 0B00000A:C350 06 00000000:00000000 03:00001777 00000000     0        0 0 3 0000000000000000
  10: 00000000:7A69 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0
`;

const PROC_TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4711 1 0000000000000000 100 0 0 10 0
   1: 000080FE00000000FF005E0A0B000000:C001 000080FE00000000FF005E0A0A000000:0050 01 00000000:00000000 00:00000000 00000000     0        0 4712 1 0000000000000000 20 4 29 10 -1
   2: 00000000000000000000000001000000:FFFF 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4713 1 0000000000000000 100 0 0 10 0
`;

const PROC_UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 17771 2 0000000000000000 0
  201: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 17001 2 0000000000000000 0
  307: 0A00000A:D6D8 08080808:0035 01 00000000:00000000 00:00000000 00000000  1000        0 18002 2 0000000000000000 0
`;

const HEADER_ONLY = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

function sorted(set: Set<number>): number[] {
  return [...set].sort((a, b) => a - b);
}

describe('parseProcNetPorts', () => {
  it('TCP: only sockets in LISTEN (0A), hex ports decoded', () => {
    // 0x16 = 22, 0x0CEA = 3306, 0x7A69 = 31337; 0xA1B2 and 0x1F90 are not listening.
    assert.deepEqual(sorted(parseProcNetPorts(PROC_TCP, 'tcp')), [22, 3306, 31337]);
  });

  it('TCP6: the long address is split at its last colon', () => {
    assert.deepEqual(sorted(parseProcNetPorts(PROC_TCP6, 'tcp')), [80, 65535]);
  });

  it('UDP: every bound socket counts, whatever its state', () => {
    // 0x44 = 68, 0x35 = 53, 0xD6D8 = 55000 (a connected client socket is still bound).
    assert.deepEqual(sorted(parseProcNetPorts(PROC_UDP, 'udp')), [53, 68, 55000]);
  });

  it('the header line is never read as a socket, even if it looked like one', () => {
    const header = '   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n';
    assert.deepEqual(sorted(parseProcNetPorts(header, 'tcp')), []);
    assert.deepEqual(sorted(parseProcNetPorts(`${header}${header}`, 'tcp')), [22]);
  });

  it('empty tables, blank lines, garbage and port 0 give nothing', () => {
    assert.deepEqual(sorted(parseProcNetPorts('', 'tcp')), []);
    assert.deepEqual(sorted(parseProcNetPorts(HEADER_ONLY, 'tcp')), []);
    const junk = `${HEADER_ONLY}\n   \n   0: 00000000:0000 00000000:0000 0A\n   1: 00000000:XYZ1 00000000:0000 0A\n   2: 00000000:12345 00000000:0000 0A\n   3: short\n`;
    assert.deepEqual(sorted(parseProcNetPorts(junk, 'tcp')), []);
    assert.deepEqual(sorted(parseProcNetPorts(junk, 'udp')), []);
  });

  it('lower-case hex is read too', () => {
    assert.deepEqual(sorted(parseProcNetPorts(`${HEADER_ONLY}   0: 00000000:1f90 00000000:0000 0A\n`, 'tcp')), [8080]);
  });
});

/** A /proc/net reader over an in-memory table, counting reads. */
function fakeProc(initial: Record<string, string>): { files: Record<string, string>; reads: string[]; read: (path: string) => string } {
  const files = { ...initial };
  const reads: string[] = [];
  return {
    files,
    reads,
    read: (path: string) => {
      reads.push(path);
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
      return text;
    },
  };
}

describe('parseProcNetSockets and socketInodes', () => {
  it('each socket comes with its inode (field 9), the key of /proc/<pid>/fd links', () => {
    assert.deepEqual(parseProcNetSockets(PROC_TCP, 'tcp'), [
      { port: 22, inode: '21034' },
      { port: 3306, inode: '23011' },
      { port: 31337, inode: '31337' },
    ]);
    // A line cut short has no inode: it can never be taken for one of ours.
    assert.deepEqual(parseProcNetSockets(`${HEADER_ONLY}   0: 00000000:0016 00000000:0000 0A\n`, 'tcp'), [{ port: 22, inode: '' }]);
  });

  it('socketInodes keeps only socket links', () => {
    assert.deepEqual([...socketInodes(['socket:[123]', 'pipe:[456]', '/dev/null', 'socket:[9]', 'socket:[x]', 'anon_inode:[eventpoll]'])], ['123', '9']);
  });

  it('ownSocketInodes names a socket this process holds', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const mine = parseProcNetSockets(readFileSync('/proc/net/tcp', 'utf8'), 'tcp').filter((socket) => socket.port === port);
      assert.equal(mine.length, 1);
      assert.ok(ownSocketInodes().has(mine[0]!.inode));
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('ProcListeningPorts', () => {
  it("the helper's own tripwire sockets are not a service listening; its other sockets and other programs' are", () => {
    // 22 (inode 21034) and 31337 (inode 31337) are ours; only 31337 is one of our tripwires.
    const proc = fakeProc({ '/proc/net/tcp': PROC_TCP, '/proc/net/tcp6': PROC_TCP6, '/proc/net/udp': PROC_UDP, '/proc/net/udp6': HEADER_ONLY });
    let inodeReads = 0;
    const own = {
      ports: () => ({ tcp: new Set([31337, 80]), udp: new Set<number>() }),
      inodes: () => {
        inodeReads += 1;
        return new Set(['21034', '31337']);
      },
    };
    const ports = new ProcListeningPorts(250, proc.read, () => 0, own);
    assert.equal(ports.isListening('tcp', 31337), false, 'our own tripwire');
    assert.equal(ports.isListening('tcp', 22), true, 'ours, but not a tripwire (e.g. the metrics endpoint)');
    assert.equal(ports.isListening('tcp', 80), true, "a tripwire port of ours, but this socket (inode 4711) is another program's");
    assert.equal(ports.isListening('tcp', 3306), true);
    assert.equal(inodeReads, 1, '/proc/self/fd is read once per refresh, and only when a port could be ours');
    const none = new ProcListeningPorts(250, proc.read, () => 0, { ports: () => ({ tcp: new Set(), udp: new Set() }), inodes: () => assert.fail('no port is ours: nothing to look up') });
    assert.equal(none.isListening('tcp', 31337), true);
  });

  it('the first question reads all four tables; TCP and UDP are kept apart', () => {
    const proc = fakeProc({ '/proc/net/tcp': PROC_TCP, '/proc/net/tcp6': PROC_TCP6, '/proc/net/udp': PROC_UDP, '/proc/net/udp6': HEADER_ONLY });
    const ports = new ProcListeningPorts(250, proc.read, () => 1000);
    assert.equal(ports.isListening('tcp', 22), true);
    assert.deepEqual(proc.reads, ['/proc/net/tcp', '/proc/net/tcp6', '/proc/net/udp', '/proc/net/udp6']);
    assert.equal(ports.isListening('tcp', 80), true); // from tcp6
    assert.equal(ports.isListening('udp', 53), true);
    assert.equal(ports.isListening('udp', 22), false);
    assert.equal(ports.isListening('tcp', 53), false);
    assert.equal(ports.isListening('tcp', 41394), false); // 0xA1B2: established, not listening
    assert.equal(proc.reads.length, 4, 'fresh cache: no re-read');
  });

  it('any answer re-reads once the cache is at least maxAge old, a hit too (a stopped service is a tripwire again)', () => {
    const proc = fakeProc({ '/proc/net/tcp': HEADER_ONLY, '/proc/net/tcp6': HEADER_ONLY, '/proc/net/udp': HEADER_ONLY, '/proc/net/udp6': HEADER_ONLY });
    let now = 10_000;
    const ports = new ProcListeningPorts(250, proc.read, () => now);
    ports.refresh();
    assert.equal(proc.reads.length, 4);

    // A service starts; within maxAge the cache still says no.
    proc.files['/proc/net/tcp'] = PROC_TCP;
    now += 249;
    assert.equal(ports.isListening('tcp', 22), false);
    assert.equal(proc.reads.length, 4);

    // At maxAge the miss triggers one refresh, which finds it.
    now += 1;
    assert.equal(ports.isListening('tcp', 22), true);
    assert.equal(proc.reads.length, 8);

    // The service stops: within maxAge a hit still answers from the cache...
    proc.files['/proc/net/tcp'] = HEADER_ONLY;
    now += 249;
    assert.equal(ports.isListening('tcp', 22), true);
    assert.equal(proc.reads.length, 8);

    // ...and at maxAge it re-reads and finds the port free.
    now += 1;
    assert.equal(ports.isListening('tcp', 22), false);
    assert.equal(proc.reads.length, 12);
    assert.equal(ports.isListening('tcp', 23), false);
    assert.equal(proc.reads.length, 12, 'the refresh just happened: no second read');
  });

  it('maxAge 0 re-reads on every miss', () => {
    const proc = fakeProc({ '/proc/net/tcp': HEADER_ONLY, '/proc/net/tcp6': HEADER_ONLY, '/proc/net/udp': HEADER_ONLY, '/proc/net/udp6': HEADER_ONLY });
    const ports = new ProcListeningPorts(0, proc.read, () => 5);
    for (let i = 0; i < 3; i += 1) assert.equal(ports.isListening('udp', 53), false);
    assert.equal(proc.reads.length, 12);
  });

  it('a missing table (IPv6 disabled) counts as empty; the others still count', () => {
    const proc = fakeProc({ '/proc/net/tcp': PROC_TCP, '/proc/net/udp': PROC_UDP });
    const ports = new ProcListeningPorts(250, proc.read, () => 0);
    assert.equal(ports.isListening('tcp', 31337), true);
    assert.equal(ports.isListening('udp', 68), true);
    assert.equal(ports.isListening('tcp', 80), false); // only in the missing tcp6
  });

  it('with no tables at all nothing is listening, and nothing throws', () => {
    const proc = fakeProc({});
    const ports = new ProcListeningPorts(250, proc.read, () => 0);
    assert.equal(ports.isListening('tcp', 22), false);
    assert.equal(ports.isListening('udp', 53), false);
  });
});

describe('parseProcNetPorts on a real kernel table', () => {
  it('sees a socat listener in a fresh network namespace, and not before it starts', async () => {
    const ns = `pslp${process.pid}lp`;
    await run('ip', ['netns', 'add', ns]);
    const readInNs = (path: string) => execFileSync('ip', ['netns', 'exec', ns, 'cat', path], { encoding: 'utf8' });
    const listeners: ReturnType<typeof spawn>[] = [];
    try {
      assert.deepEqual(sorted(parseProcNetPorts(readInNs('/proc/net/tcp'), 'tcp')), []);
      assert.equal(new ProcListeningPorts(0, readInNs).isListening('tcp', 4321), false);

      // TCP4-/UDP4- rather than TCP-LISTEN: newer socat versions listen on IPv6 (tcp6) by default.
      listeners.push(spawn('ip', ['netns', 'exec', ns, 'socat', 'TCP4-LISTEN:4321,reuseaddr', '-'], { stdio: 'ignore' }));
      listeners.push(spawn('ip', ['netns', 'exec', ns, 'socat', '-u', 'UDP4-RECV:4322', 'STDOUT'], { stdio: 'ignore' }));
      let tcp = new Set<number>();
      let udp = new Set<number>();
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        tcp = parseProcNetPorts((await run('ip', ['netns', 'exec', ns, 'cat', '/proc/net/tcp'])).stdout, 'tcp');
        udp = parseProcNetPorts((await run('ip', ['netns', 'exec', ns, 'cat', '/proc/net/udp'])).stdout, 'udp');
        if (tcp.has(4321) && udp.has(4322)) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.deepEqual(sorted(tcp), [4321]);
      assert.deepEqual(sorted(udp), [4322]);

      // The cached view over the same files, read through the namespace.
      const ports = new ProcListeningPorts(250, readInNs);
      assert.equal(ports.isListening('tcp', 4321), true);
      assert.equal(ports.isListening('udp', 4322), true);
      assert.equal(ports.isListening('tcp', 4322), false);
      assert.equal(ports.isListening('udp', 4321), false);
    } finally {
      for (const child of listeners) {
        if (child.exitCode === null && child.signalCode === null) {
          const closed = once(child, 'close');
          child.kill('SIGTERM');
          await closed;
        }
      }
      await run('ip', ['netns', 'delete', ns]);
    }
    const { stdout } = await run('ip', ['netns', 'list']);
    assert.ok(!stdout.split('\n').some((line) => line.split(' ')[0] === ns), 'namespace deleted');
  });
});
