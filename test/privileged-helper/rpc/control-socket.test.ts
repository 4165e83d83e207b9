// The control socket's own defences, against a real unix socket: permissions, stale and
// foreign files, directories it must not trust, idle connections, rate limits, in-flight caps, oversized frames, subscribers that stop reading.

import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ControlSocket, type ConnectionContext } from '../../../privileged-helper/rpc/control-socket.js';
import { findGroupId } from '../../../privileged-helper/rpc/group-file.js';
import type { MethodHandlers } from '../../../shared/protocol/json-rpc.js';
import { HelperClient, HelperError } from '../../../shared/rpc/helper-client.js';
import { until } from '../../support/wait.js';

function handlers(overrides: Partial<MethodHandlers<ConnectionContext>> = {}): MethodHandlers<ConnectionContext> {
  const never = () => {
    throw new Error('not in this test');
  };
  return {
    status: () => ({ version: 't', running: true, paused: false, modes: ['tcp'], uptimeSeconds: 1, blockedCount: 0, eventsStored: 0, captureActive: false, backend: 'none', role: 'operator' }),
    version: () => ({ version: 't', protocolVersion: 1 }),
    'events.list': never,
    'events.subscribe': (_p, context) => {
      context.subscribe();
      return { subscribed: true as const };
    },
    'blocks.list': never,
    'scans.list': never,
    block: never,
    unblock: never,
    'ignore.undo': never,
    'ignore.list': never,
    'ignore.add': never,
    'ignore.remove': never,
    'config.get': never,
    'config.set': never,
    pause: () => ({ paused: true }),
    resume: () => ({ paused: false }),
    stats: never,
    ...overrides,
  };
}

function lines(socket: Socket): { all: Array<Record<string, unknown>>; wait(n: number): Promise<void> } {
  const all: Array<Record<string, unknown>> = [];
  let buffer = '';
  let waiter: (() => void) | null = null;
  let want = 0;
  socket.on('data', (chunk) => {
    buffer += chunk.toString();
    let i: number;
    while ((i = buffer.indexOf('\n')) >= 0) {
      all.push(JSON.parse(buffer.slice(0, i)));
      buffer = buffer.slice(i + 1);
    }
    if (waiter !== null && all.length >= want) waiter();
  });
  return {
    all,
    wait: (n) =>
      new Promise<void>((resolve) => {
        want = n;
        if (all.length >= n) resolve();
        else waiter = resolve;
      }),
  };
}

describe('ControlSocket', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctlsock-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the socket 0660 root:group in a 0750 directory, and replaces only a dead socket', async () => {
    const path = join(dir, 'a', 'helper.sock');
    const first = new ControlSocket({ path, role: 'operator', groupId: 4242, log: () => undefined }, handlers());
    await first.listen();
    const info = await stat(path);
    assert.equal(info.mode & 0o777, 0o660);
    assert.deepEqual([info.uid, info.gid], [0, 4242]);
    assert.equal((await stat(join(dir, 'a'))).mode & 0o777, 0o750);
    const second = new ControlSocket({ path, role: 'admin', groupId: null, log: () => undefined }, handlers());
    await assert.rejects(second.listen(), /already answering/);
    await first.close();
    const root = new ControlSocket({ path, role: 'admin', groupId: null, log: () => undefined }, handlers());
    await root.listen(); // nobody answered: taken over
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    await root.close();
    const file = join(dir, 'a', 'not-a-socket');
    await writeFile(file, 'precious');
    await assert.rejects(new ControlSocket({ path: file, role: 'admin', groupId: null, log: () => undefined }, handlers()).listen(), /not a socket/);
  });

  it('the admin socket is root 0600 in a 0700 directory, whatever group is passed', async () => {
    const path = join(dir, 'adm', 'helper.sock');
    const server = new ControlSocket({ path, role: 'admin', groupId: 4242, log: () => undefined }, handlers());
    await server.listen();
    const info = await stat(path);
    assert.equal(info.mode & 0o777, 0o600);
    assert.equal(info.gid, 0);
    assert.equal((await stat(join(dir, 'adm'))).mode & 0o777, 0o700);
    await server.close();
  });

  it('uses an existing root-only directory as it is, and refuses one that others can write, a symlink, or a foreign owner, changing nothing', async () => {
    const kept = join(dir, 'kept');
    await mkdir(kept, { mode: 0o755 });
    await chmod(kept, 0o755);
    const server = new ControlSocket({ path: join(kept, 'helper.sock'), role: 'operator', groupId: 4242, log: () => undefined }, handlers());
    await server.listen();
    const keptInfo = await stat(kept);
    assert.deepEqual([keptInfo.mode & 0o7777, keptInfo.uid, keptInfo.gid], [0o755, 0, 0], 'not re-moded or re-owned: we did not create it');
    await server.close();

    const sticky = join(dir, 'sticky');
    await mkdir(sticky);
    await chmod(sticky, 0o1777);
    await assert.rejects(
      new ControlSocket({ path: join(sticky, 'helper.sock'), role: 'operator', groupId: 4242, log: () => undefined }, handlers()).listen(),
      /can be written by users other than root \(mode 1777\)/,
    );
    const stickyInfo = await stat(sticky);
    assert.deepEqual([stickyInfo.mode & 0o7777, stickyInfo.uid, stickyInfo.gid], [0o1777, 0, 0], 'a refused directory is left exactly as it was');
    await assert.rejects(stat(join(sticky, 'helper.sock')), /ENOENT/);

    const foreign = join(dir, 'foreign');
    await mkdir(foreign, { mode: 0o755 });
    await chown(foreign, 4243, 4243);
    await assert.rejects(new ControlSocket({ path: join(foreign, 'helper.sock'), role: 'admin', groupId: null, log: () => undefined }, handlers()).listen(), /belongs to uid 4243/);
    assert.equal((await stat(foreign)).uid, 4243);

    const link = join(dir, 'link');
    await symlink(kept, link);
    await assert.rejects(new ControlSocket({ path: join(link, 'helper.sock'), role: 'admin', groupId: null, log: () => undefined }, handlers()).listen(), /symbolic link/);
  });

  it('closes a connection that stays idle, but never a subscriber', async () => {
    const path = join(dir, 'idle.sock');
    const server = new ControlSocket({ path, role: 'operator', groupId: null, idleTimeoutMs: 300, log: () => undefined }, handlers());
    await server.listen();
    const idle = createConnection(path);
    const idleClosed = new Promise<void>((r) => idle.once('close', () => r()));
    const subscriber = await HelperClient.connect(path);
    await subscriber.subscribe(() => undefined);
    await idleClosed;
    // The idle one is gone; the subscriber still gets answers after several idle periods. A
    // barrier, not a sleep: each idle connection opened after the subscriber's last word is
    // closed only after the subscriber's own idle timer (same length, started earlier) fired.
    for (let period = 0; period < 3; period++) {
      const later = createConnection(path);
      await new Promise<void>((r) => later.once('close', () => r()));
    }
    assert.deepEqual(await subscriber.call('version', {}), { version: 't', protocolVersion: 1 });
    assert.equal(server.connectionCount, 1);
    subscriber.close();
    await server.close();
  });

  it('rate-limits requests per connection and answers each refused one', async () => {
    const path = join(dir, 'rate.sock');
    const server = new ControlSocket({ path, role: 'admin', groupId: null, requestsPerSecond: 1, burst: 5, log: () => undefined }, handlers());
    await server.listen();
    const socket = createConnection(path);
    const got = lines(socket);
    socket.write(Array.from({ length: 20 }, (_, i) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'version' })).join('\n') + '\n');
    await got.wait(20);
    assert.equal(got.all.filter((m) => m['result'] !== undefined).length, 5);
    assert.equal(got.all.filter((m) => (m['error'] as { code?: number } | undefined)?.code === -32002).length, 15);
    socket.destroy();
    await server.close();
  });

  it('one budget per socket: many connections, or a new one for every burst, buy no more requests; the other socket keeps its own', async () => {
    const path = join(dir, 'budget.sock');
    const adminPath = join(dir, 'budget-admin.sock');
    // Refill so slow that none arrives during the test: the counts are the budgets themselves.
    const limits = { requestsPerSecond: 0.001, burst: 10, socketRequestsPerSecond: 0.001, socketBurst: 12, log: () => undefined };
    const operators = new ControlSocket({ path, role: 'operator', groupId: null, ...limits }, handlers());
    const admin = new ControlSocket({ path: adminPath, role: 'admin', groupId: null, ...limits }, handlers());
    await operators.listen();
    await admin.listen();
    try {
      const burst = (socketPath: string) => async () => {
        const socket = createConnection(socketPath);
        const got = lines(socket);
        socket.write(Array.from({ length: 10 }, (_, i) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'version' })).join('\n') + '\n');
        await got.wait(10);
        socket.destroy();
        return got.all.filter((m) => m['result'] !== undefined).length;
      };
      // Four connections one after another, each within its own per-connection burst.
      let answered = 0;
      for (let i = 0; i < 4; i++) answered += await burst(path)();
      assert.equal(answered, 12, 'the operator socket answered its budget, not 4 x 10');
      assert.equal(await burst(adminPath)(), 10, "root's socket is not charged for the operators' requests");
    } finally {
      await operators.close();
      await admin.close();
    }
  });

  it('caps requests in flight and answers oversized frames without buffering them', async () => {
    const path = join(dir, 'inflight.sock');
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const server = new ControlSocket(
      { path, role: 'operator', groupId: null, maxInFlight: 2, maxFrameBytes: 1024, log: () => undefined },
      handlers({ pause: async () => (await gate, { paused: true }) }),
    );
    await server.listen();
    const socket = createConnection(path);
    const got = lines(socket);
    socket.write([1, 2, 3].map((id) => JSON.stringify({ jsonrpc: '2.0', id, method: 'pause' })).join('\n') + '\n');
    await got.wait(1);
    assert.deepEqual(got.all[0], { jsonrpc: '2.0', id: 3, error: { code: -32002, message: 'too many requests in flight; wait for answers' } });
    socket.write(`${'x'.repeat(5000)}\n`);
    await got.wait(2);
    assert.equal((got.all[1]?.['error'] as { code: number }).code, -32600);
    release();
    await got.wait(4);
    socket.destroy();
    await server.close();
  });

  it('many clients that stop reading cannot hold more than the socket bound between them: the one furthest behind is dropped', async () => {
    const path = join(dir, 'unread.sock');
    const logged: string[] = [];
    const cap = 512 * 1024;
    let handled = 0;
    // About 110 KB an answer; each client asks 10 times and reads none, each under its own 4 MiB.
    const entries = Array.from({ length: 1000 }, (_, i) => ({ entry: `198.18.${i >> 8}.${i & 255}`, comment: 'x'.repeat(90) }));
    const server = new ControlSocket({ path, role: 'operator', groupId: null, socketMaxQueuedBytes: cap, log: (m) => logged.push(m) }, handlers({ 'ignore.list': () => (handled++, { entries }) }));
    await server.listen();
    const clients = Array.from({ length: 8 }, () => createConnection(path));
    try {
      for (const client of clients) {
        client.pause();
        client.on('error', () => undefined);
        client.write(Array.from({ length: 10 }, (_, i) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'ignore.list' })).join('\n') + '\n');
      }
      await until('every request answered, or a client dropped', () => handled === 80 || logged.length > 0);
      await new Promise<void>((resolve) => setImmediate(resolve)); // the answers of the handled requests are written
      assert.ok(server.queuedBytes <= cap, `${server.queuedBytes} bytes queued to clients that do not read`);
      assert.ok(logged.some((line) => /furthest behind/.test(line)));
    } finally {
      for (const client of clients) client.destroy();
      await server.close();
    }
  });

  it('cuts off a subscriber that stops reading instead of buffering without end', async () => {
    const path = join(dir, 'slow.sock');
    const logged: string[] = [];
    const server = new ControlSocket({ path, role: 'admin', groupId: null, maxQueuedBytes: 64 * 1024, log: (m) => logged.push(m) }, handlers());
    await server.listen();
    const client = await HelperClient.connect(path);
    await client.subscribe(() => undefined);
    const closed = new Promise<Error>((r) => client.onClose(r));
    // Stop reading on the client side: pause the socket so the kernel buffers fill up.
    (client as unknown as { socket: Socket }).socket.pause();
    const event = {
      type: 'scan' as const,
      at: 1,
      source: '198.18.0.9',
      family: 4 as const,
      port: 1,
      protocol: 'tcp' as const,
      kind: 'syn' as const,
      mode: 'stcp' as const,
      action: 'blocked' as const,
      reason: 'x'.repeat(900),
      id: 1,
    };
    for (let i = 0; i < 20_000 && server.connectionCount > 0; i += 1) server.broadcast({ ...event, id: i + 1 });
    await until('the stuck subscriber is dropped', () => server.connectionCount === 0);
    assert.ok(logged.some((l) => /stopped reading; disconnected/.test(l)));
    (client as unknown as { socket: Socket }).socket.resume();
    assert.ok((await closed) instanceof Error);
    await server.close();
  });

  it('the client reports helper errors and an absent helper clearly', async () => {
    const path = join(dir, 'client.sock');
    const server = new ControlSocket({ path, role: 'admin', groupId: null, log: () => undefined }, handlers());
    await server.listen();
    const client = await HelperClient.connect(path);
    assert.deepEqual(await client.call('version', {}), { version: 't', protocolVersion: 1 });
    await assert.rejects(client.call('blocks.list', {}), (e: unknown) => e instanceof HelperError && e.code === -32603);
    client.close();
    await server.close();
    await assert.rejects(HelperClient.connect(path), /not running/);
  });

  it('finds group ids in /etc/group text', () => {
    const text = 'root:x:0:\nportsentry:x:998:alice,bob\nbroken\nweird:x:abc:\n';
    assert.equal(findGroupId(text, 'portsentry'), 998);
    assert.equal(findGroupId(text, 'root'), 0);
    assert.equal(findGroupId(text, 'weird'), null);
    assert.equal(findGroupId(text, 'missing'), null);
  });
});

describe('Windows named pipes as the control channel', () => {
  it('tells a named pipe from a socket file', async () => {
    const { isNamedPipe } = await import('../../../privileged-helper/rpc/control-socket.js');
    assert.equal(isNamedPipe('\\\\.\\pipe\\portsentry-desktop-helper'), true);
    assert.equal(isNamedPipe('\\\\?\\pipe\\x'), true);
    assert.equal(isNamedPipe('/run/portsentry-desktop/helper.sock'), false);
    assert.equal(isNamedPipe('\\\\.\\pipe\\'), false);
    assert.equal(isNamedPipe('\\\\server\\pipe\\x'), false, 'a remote pipe is never ours');
  });

  it('accepts RPC_SOCKET as a local pipe name, and nothing that merely looks like one', async () => {
    const { parseConfig } = await import('../../../privileged-helper/config/config.js');
    assert.equal(parseConfig('RPC_SOCKET="\\\\.\\pipe\\portsentry-desktop-helper"\n', 'w.conf').rpcSocket, '\\\\.\\pipe\\portsentry-desktop-helper');
    assert.throws(() => parseConfig('RPC_SOCKET="\\\\.\\pipe\\a b"\n', 'w.conf'), /RPC_SOCKET must be an absolute path/);
    assert.throws(() => parseConfig('RPC_SOCKET="\\\\remote\\pipe\\x"\n', 'w.conf'), /RPC_SOCKET must be an absolute path/);
    assert.equal(parseConfig('RPC_SOCKET=""\n', 'w.conf').rpcSocket, '', 'empty: no control channel');
  });
});
