// Raw IPv4 packet work that Node cannot do (no raw sockets): a small Python program, kept
// here as text and run as `python3 -c PROGRAM COMMAND JSON` inside a lab namespace (argv,
// no shell). Commands:
//   trigger  one trigger (TCP connect, UDP datagram or raw SYN) from a fresh source, then raw
//            SYN probes to the target's open service every `intervalUs`; the target's kernel
//            answers each with a SYN-ACK (our kernel resets it, so nothing piles up and no
//            user-space service on the target competes for CPU). The blackhole time is the
//            send time of the first probe after the last answered one; the resolution is
//            the probe interval. One clock: time.perf_counter_ns in this process.
//   lone     one trigger and nothing else (a UDP datagram, a TCP connect, or one raw SYN);
//            prints when it left, then holds the TCP connection open (no FIN on the wire)
//            until its stdin is closed.
//   flood    one SYN (or UDP datagram) per source address in `sources` to one port, paced
//            at `rate` per second; prints the wall-clock start and end (epoch ms).

import type { BenchLab } from './bench-lab.js';
import type { LabHost } from '../test/support/netns-lab.js';
import { LineRecorder } from './processes.js';

export const PYTHON_RAW = String.raw`
import json, socket, struct, sys, time, random, ipaddress

def csum(data):
    if len(data) % 2: data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def tcp_syn(src, dst, sport, dport, seq):
    tcp = struct.pack('!HHIIBBHHH', sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack('!H', csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), random.randint(1, 65535), 0, 64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return ip + tcp

def udp_dgram(src, dst, sport, dport, payload=b'bench'):
    udp = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 17, len(udp))
    udp = udp[:6] + struct.pack('!H', csum(pseudo + udp) or 0xffff) + udp[8:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), random.randint(1, 65535), 0, 64, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return ip + udp

def raw_sender():
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    return s

def trigger(r):
    src, dst, svc = r['source'], r['target'], r['servicePort']
    out = raw_sender()
    listen = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    listen.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    listen.setblocking(False)
    sport = random.randint(20000, 60000)
    kind = r['kind']
    if kind == 'udp':
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((src, 0))
    elif kind == 'tcp':
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM); c.bind((src, 0)); c.settimeout(2)
    interval = r['intervalUs'] * 1000
    connected = None
    answered = {}
    sent = []
    t0_wall = time.time() * 1000
    t0 = time.perf_counter_ns()
    if kind == 'udp':
        u.sendto(b'bench', (dst, r['port']))
    elif kind == 'tcp':
        try: c.connect((dst, r['port']))
        except OSError: pass
        connected = time.perf_counter_ns() - t0
    else:
        out.sendto(tcp_syn(src, dst, sport - 1, r['port'], 1), (dst, 0))
    give_up = t0 + r['giveUpMs'] * 1_000_000
    next_at = t0
    last_answered = -1
    i = 0
    while True:
        now = time.perf_counter_ns()
        if now >= next_at:
            out.sendto(tcp_syn(src, dst, sport, svc, 1_000_000 + i * 16), (dst, 0))
            sent.append(time.perf_counter_ns() - t0)
            i += 1
            next_at = now + interval
        while True:
            try: pkt = listen.recv(128)
            except BlockingIOError: break
            ihl = (pkt[0] & 0x0f) * 4
            if len(pkt) < ihl + 14: continue
            psrc = socket.inet_ntoa(pkt[12:16]); pdst = socket.inet_ntoa(pkt[16:20])
            sp, dp, seq, ack, off, flags = struct.unpack('!HHIIBB', pkt[ihl:ihl + 14])
            if psrc == dst and pdst == src and sp == svc and dp == sport and flags & 0x12 == 0x12:
                k = (ack - 1 - 1_000_000) // 16
                if 0 <= k < len(sent): last_answered = max(last_answered, k)
        # 30 ms with no answer after the last answered probe: the drop is in place.
        if i > 0 and sent[-1] - (sent[last_answered + 1] if last_answered + 1 < len(sent) else sent[-1]) > 30_000_000: break
        if now > give_up: break
        gap = next_at - time.perf_counter_ns()
        if gap > 60_000: time.sleep((gap - 50_000) / 1e9)
    if kind == 'tcp': c.close()
    first_silent = last_answered + 1
    blocked = first_silent < len(sent) and (sent[-1] - sent[first_silent]) > 20_000_000
    print(json.dumps({
        'blackholeMs': sent[first_silent] / 1e6 if blocked else None,
        'lastAnsweredMs': sent[last_answered] / 1e6 if last_answered >= 0 else None,
        'answeredProbes': last_answered + 1,
        'probes': len(sent),
        'triggerWallMs': t0_wall,
        'connectedMs': connected / 1e6 if connected is not None else None,
        'meanIntervalMs': (sent[-1] - sent[0]) / max(1, len(sent) - 1) / 1e6,
    }))

def flood(r):
    out = raw_sender()
    dst, port, rate, proto = r['target'], r['port'], r['rate'], r.get('protocol', 'tcp')
    sources = r['sources']
    if r.get('source'):
        sources = [r['source']] * r['count']
    if 'sourceRange' in r:
        net = ipaddress.ip_network(r['sourceRange'])
        first = int(net.network_address) + 1
        sources = [str(ipaddress.ip_address(first + k)) for k in range(r['count'])]
    per = 1e9 / rate
    start_wall = time.time() * 1000
    t0 = time.perf_counter_ns()
    for k, src in enumerate(sources):
        due = t0 + k * per
        while True:
            gap = due - time.perf_counter_ns()
            if gap <= 0: break
            if gap > 200_000: time.sleep((gap - 100_000) / 1e9)
        pkt = tcp_syn(src, dst, 40000 + k % 20000, port, k + 1) if proto == 'tcp' else udp_dgram(src, dst, 40000 + k % 20000, port)
        while True:
            try:
                out.sendto(pkt, (dst, 0)); break
            except BlockingIOError:
                time.sleep(0.0001)
    end_wall = time.time() * 1000
    print(json.dumps({'startedAt': start_wall, 'endedAt': end_wall, 'sent': len(sources), 'sources': sources if r.get('echoSources') else None}))

def lone(r):
    src, dst, kind, port = r['source'], r['target'], r['kind'], r['port']
    if kind == 'udp':
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((src, 0))
    elif kind == 'tcp':
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM); c.bind((src, 0)); c.settimeout(2)
    else:
        out = raw_sender()
    t0_wall = time.time() * 1000
    if kind == 'udp':
        u.sendto(b'bench', (dst, port))
    elif kind == 'tcp':
        try: c.connect((dst, port))
        except OSError: pass
    else:
        out.sendto(tcp_syn(src, dst, random.randint(20000, 60000), port, 1), (dst, 0))
    print(json.dumps({'triggerWallMs': t0_wall}), flush=True)
    sys.stdin.read()
    if kind == 'tcp': c.close()
req = json.loads(sys.argv[2])
{'trigger': trigger, 'flood': flood, 'lone': lone}[sys.argv[1]](req)
`;

export interface RawTriggerRequest {
  readonly kind: 'tcp' | 'udp' | 'syn';
  readonly source: string;
  readonly target: string;
  readonly port: number;
  readonly servicePort: number;
  readonly intervalUs: number;
  readonly giveUpMs: number;
}

export interface RawTriggerResult {
  readonly blackholeMs: number | null;
  readonly lastAnsweredMs: number | null;
  readonly answeredProbes: number;
  readonly probes: number;
  readonly meanIntervalMs: number;
  /** -tcp: when connect() returned (handshake done), ms after the trigger left; else null. */
  readonly connectedMs?: number | null;
  /** Epoch ms (sub-ms) when the trigger left: lines up the daemon's log with the probe. */
  readonly triggerWallMs: number;
}

export interface FloodRequest {
  readonly target: string;
  readonly port: number;
  readonly rate: number;
  readonly protocol?: 'tcp' | 'udp';
  /** Explicit sources, `count` packets from one `source`, or the first `count` addresses of `sourceRange`. */
  readonly sources?: readonly string[];
  readonly source?: string;
  readonly sourceRange?: string;
  readonly count?: number;
  readonly echoSources?: boolean;
}

export interface FloodResult {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly sent: number;
  readonly sources: string[] | null;
}

async function python<T>(bench: BenchLab, host: LabHost, command: string, request: object, timeoutMs = 120_000): Promise<T> {
  const result = await bench.lab.exec(host, ['python3', '-c', PYTHON_RAW, command, JSON.stringify(request)], { timeoutMs });
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? 'null') as T;
}

export function rawTrigger(bench: BenchLab, request: RawTriggerRequest): Promise<RawTriggerResult> {
  return python(bench, bench.attacker, 'trigger', request, request.giveUpMs + 30_000);
}

/**
 * Sends one trigger from the attacker and nothing else; resolves with the epoch ms it left at
 * and a release() that lets the sender end (closing a TCP trigger's connection).
 */
export async function loneTrigger(
  bench: BenchLab,
  request: { kind: 'tcp' | 'udp' | 'syn'; source: string; target: string; port: number },
): Promise<{ triggerWallMs: number; release: () => Promise<void> }> {
  const child = bench.lab.spawn(bench.attacker, ['python3', '-c', PYTHON_RAW, 'lone', JSON.stringify(request)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = new LineRecorder(child);
  try {
    const line = await log.waitFor(/triggerWallMs/, 60_000);
    const { triggerWallMs } = JSON.parse(line.text) as { triggerWallMs: number };
    return {
      triggerWallMs,
      release: async () => {
        child.stdin?.end();
        await exited;
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

export function flood(bench: BenchLab, request: FloodRequest): Promise<FloodResult> {
  return python(bench, bench.attacker, 'flood', { sources: [], ...request }, 300_000);
}
