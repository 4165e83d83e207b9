// A routed lab for end-to-end tests: a client and a server on two different networks with a
// router namespace (forwarding on) between them, as on a home router, a Docker or a libvirt
// host. Client 198.18.1.2 / fd00:5e:1::2, router .1 on both sides, server 198.18.2.2 /
// fd00:5e:2::2. Names carry the pid; destroy() (also at exit) deletes every namespace.

import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { promisify } from 'node:util';
import { deleteNamespace, execIn, type Lab, type LabHost } from './netns-lab.js';

const run = promisify(execFile);
const live = new Set<string>();
process.on('exit', () => {
  for (const ns of live) {
    try {
      execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
});

export type RouterLab = Lab<'client' | 'router' | 'server'> & {
  /** The router's addresses on the server's side. */
  readonly routerServerSide: { readonly v4: string; readonly v6: string };
};

let counter = 0;

export async function createRouterLab(): Promise<RouterLab> {
  counter += 1;
  const prefix = `psr${process.pid}x${counter}`;
  const names = { client: `${prefix}c`, router: `${prefix}r`, server: `${prefix}s` };
  const created: string[] = [];
  const ip = (...args: string[]) => run('ip', args);
  const destroy = async () => {
    for (const ns of created.reverse()) {
      await deleteNamespace(ns);
      live.delete(ns);
    }
    created.length = 0;
  };
  const host = (name: 'client' | 'router' | 'server', v4: string, v6: string): LabHost => ({ name, netns: names[name], v4, v6 });
  const hosts = {
    client: host('client', '198.18.1.2', 'fd00:5e:1::2'),
    router: host('router', '198.18.1.1', 'fd00:5e:1::1'),
    server: host('server', '198.18.2.2', 'fd00:5e:2::2'),
  };
  try {
    for (const ns of Object.values(names)) {
      await ip('netns', 'add', ns);
      created.push(ns);
      live.add(ns);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    // client eth0 <-> router c0; router s0 <-> server eth0
    await ip('-n', names.client, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'c0', 'netns', names.router);
    await ip('-n', names.server, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 's0', 'netns', names.router);
    const address = async (ns: string, dev: string, v4: string, v6: string) => {
      await ip('-n', ns, 'addr', 'add', `${v4}/24`, 'dev', dev);
      await ip('-n', ns, 'addr', 'add', `${v6}/64`, 'dev', dev, 'nodad');
      await ip('-n', ns, 'link', 'set', dev, 'up');
    };
    await address(names.client, 'eth0', '198.18.1.2', 'fd00:5e:1::2');
    await address(names.router, 'c0', '198.18.1.1', 'fd00:5e:1::1');
    await address(names.router, 's0', '198.18.2.1', 'fd00:5e:2::1');
    await address(names.server, 'eth0', '198.18.2.2', 'fd00:5e:2::2');
    await run('ip', ['netns', 'exec', names.router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    for (const [ns, v4, v6] of [
      [names.client, '198.18.1.1', 'fd00:5e:1::1'],
      [names.server, '198.18.2.1', 'fd00:5e:2::1'],
    ] as const) {
      await ip('-n', ns, 'route', 'add', 'default', 'via', v4);
      await ip('-n', ns, '-6', 'route', 'add', 'default', 'via', v6);
    }
  } catch (error) {
    await destroy();
    throw error;
  }
  return {
    hosts,
    routerServerSide: { v4: '198.18.2.1', v6: 'fd00:5e:2::1' },
    exec: (h, argv, options = {}) => execIn(h.netns, argv, options),
    spawn: (h, argv, options: SpawnOptions = {}): ChildProcess => spawn('ip', ['netns', 'exec', h.netns, ...argv], options),
    destroy,
  };
}
