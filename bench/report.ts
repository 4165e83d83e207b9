// Renders bench/results.md from the results: one table per figure, the method, and the
// targets with what bounds each one that is missed. Pure.

import type { BenchResults } from './results.js';
import type { Summary } from './stats.js';
import { renderFleet } from './fig-fleet.js';
import { statedExclusions } from './exclusions.js';

const fmt = (value: number | null | undefined, digits = 2): string => (value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits));
const mp = (s: Summary | null | undefined, digits = 2): string => (s === null || s === undefined ? 'n/a' : `${fmt(s.median, digits)} / ${fmt(s.p95, digits)}`);

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function renderReport(results: BenchResults, analysis: readonly string[] = []): string {
  const { machine, figures } = results;
  const out: string[] = [];
  out.push('# portsentryd vs Debian portsentry 1.2: benchmark');
  out.push('');
  out.push(`Measured ${machine.date} on ${machine.cpuModel}, ${machine.cores} cores, Linux ${machine.kernel}, Node ${machine.node}, ${machine.nft}, ${machine.iptables}, peer: ${machine.peer}.`);
  out.push(
    `Run: \`npm run bench\`${results.quick ? ' --quick' : ''}, ${results.repetitions} repetitions per time figure, ${Math.round(results.durationSeconds)} s in all. Times are median / p95 in ms unless stated.`,
  );
  out.push(
    'Both detectors run in the same network-namespace lab (target, attacker, client on a bridge) with the same tripwire ports (PortSentry 1.2\'s lists), advanced range (1-1024), ignore list and SCAN_TRIGGER=0. Ours blocks with its nftables set; the peer with `KILL_ROUTE="/usr/sbin/iptables -I INPUT -s $TARGET$ -j DROP"`, launched in a private mount namespace with the config bind-mounted over its compiled-in path.',
  );
  out.push('');

  out.push('## 1. Trigger to blackhole');
  out.push('');
  out.push(
    'Method: a Python raw-socket program in the attacker\'s namespace sends the trigger from a fresh source address (TCP connect to tripwire 31337 for -tcp, a UDP datagram to 31337 for -udp, a bare SYN to 31337 for -stcp and to unused port 555 for -atcp), then sends raw SYNs to the target\'s open service (port 8080) every ~0.1 ms, each answered by the target\'s kernel with a SYN-ACK until the drop rule is in. All times come from one clock (`perf_counter_ns` in that process). The blackhole time is the send time of the first probe that is never answered after the last answered one; the true moment lies in the interval between the two probes, whose width is the resolution column. When even the first probe goes unanswered (the block was in place before it), the figure is an upper bound: the send time of the first probe. No user-space service on the target competes for the CPU. Each detector is started several times per mode (the starts column), the repetitions spread over the starts; the first trigger after each start is left out of the blackhole column and shown on its own, as the median / p95 over the starts (it meets whatever is still cold after start-up). For -tcp, handshake is how long the attacker\'s connect() took: its first probe leaves only after that, so the -tcp blackhole figure cannot be lower than the handshake, wherever the block happens; "blocked before the first probe" counts the repetitions in which not one probe was answered (the figure is then the upper bound described above). For ours, "detect" is trigger to the daemon\'s attack log line and "respond" attack line to "has been blocked" line (arrival of the lines here, wall clock, ~0.1 ms; so they include the hop of the daemon\'s stderr to the benchmark). Where the kernel drops the sender by itself (our stealth/advanced modes block inside nftables on the first packet), these log lines come after the blackhole.',
  );
  out.push('');
  out.push(
    table(
      [
        'detector',
        'mode',
        'blackhole ms (median / p95)',
        'resolution ms',
        'detect ms',
        'respond ms',
        'handshake ms',
        'blocked before the first probe',
        'first after start ms',
        'starts',
        'never blocked',
      ],
      figures.triggerToBlackhole.map((r) => [
        r.detector,
        `-${r.mode}`,
        mp(r.blackholeMs),
        mp(r.resolutionMs, 3),
        mp(r.detectMs),
        mp(r.respondMs),
        mp(r.handshakeMs),
        r.blockedBeforeFirstProbe === undefined ? 'n/a' : `${r.blockedBeforeFirstProbe} of ${r.repetitions}`,
        r.firstAfterStart === undefined ? fmt(r.firstAfterStartMs) : mp(r.firstAfterStart),
        String(r.starts ?? 1),
        `${r.neverBlocked} of ${r.repetitions}${r.firstNeverBlocked === undefined ? '' : `; first after start: ${r.firstNeverBlocked} of ${r.starts ?? 1}`}`,
      ]),
    ),
  );
  out.push('');

  out.push('## 2. Scan matrix: scan types blackholed, and port states learned (nmap, fresh source per scan)');
  out.push('');
  out.push(
    "Each cell: blocked (the source in the firewall within 1.5 s of the scan's end) and, after the slash, how many port states nmap learned anyway: ports (protocols, for -sO) it reported open, closed or unfiltered; filtered and open|filtered say nothing. Ports: the tripwires below 1024 (UDP for -sU, TCP for the rest, SCTP on the same numbers); -sO asks about IP protocols 99, 100 and 253.",
  );
  out.push('');
  const setups = [...new Set(figures.scanTypes.map((r) => `${r.detector} ${r.modes}`))];
  const scans = [...new Set(figures.scanTypes.map((r) => r.scan))];
  const cell = (setup: string, scan: string, family: number) => {
    const row = figures.scanTypes.find((r) => `${r.detector} ${r.modes}` === setup && r.scan === scan && r.family === family);
    if (row === undefined) return 'n/a';
    return `${row.blocked ? 'yes' : '**no**'} / ${row.learned ?? 'n/a'}`;
  };
  out.push(
    table(
      ['scan', 'family', ...setups],
      scans.flatMap((scan) => ([4, 6] as const).map((family) => [scan, `IPv${family}`, ...setups.map((setup) => cell(setup, scan, family))])),
    ),
  );
  // One line per setup and note, naming the scans it applies to (the peer's IPv6 column is one note).
  const noted = new Map<string, string[]>();
  for (const r of figures.scanTypes.filter((row) => row.note !== '' && row.note !== 'not blocked')) {
    const key = `${r.detector} ${r.modes}: ${r.note}`;
    noted.set(key, [...(noted.get(key) ?? []), `${r.scan} v${r.family}`]);
  }
  if (noted.size > 0) out.push('', ...[...noted].map(([note, scans]) => `- ${note} (${scans.join(', ')})`));
  out.push('');

  out.push('## 3. Leak: port states a fast full scan learns before the blackhole (advanced mode)');
  out.push('');
  out.push(
    '`nmap -sS -p- --min-rate 20000 --max-retries 0` from a fresh source against -atcp; "learned" = ports nmap reports open or closed (everything else ends up filtered). The target has one open service (8080), which counts if nmap reaches it first.',
  );
  out.push('');
  out.push(
    table(
      ['detector', 'learned ports (median / p95)', 'samples', 'nmap start to attack line ms', 'nmap start to blocked line ms'],
      figures.leak.map((r) => [r.detector, mp(r.learnedPorts, 0), r.samples.join(', '), mp(r.toAttackLineMs, 1), mp(r.toBlockedLineMs, 1)]),
    ),
  );
  out.push('');

  out.push('## 4. Scale: distinct sources detected and blocked per second');
  out.push('');
  out.push(
    'One spoofed SYN per source (198.18.128.0/17, routed back through the attacker) to watched port 555 in -atcp, paced by a Python raw sender; ours with BLOCK_RATE_PER_PREFIX=0, as the peer has no per-prefix limit (with the default, 64 new blocks a minute per /24, about 2,500 of these 10,000 are blocked, by design). Blocked/s = sources in the firewall / (last block - first packet), the last block being, for both detectors, the end of the firewall poll (every 100 ms) that first saw the final count; our own last "has been blocked" line is shown beside it. Missed = sent sources absent from the firewall at the end.',
  );
  out.push('');
  out.push(
    table(
      ['detector', 'sources', 'offered /s', 'blocked', 'missed', 'blocked /s', 's to last block', 'ours: s to last blocked line', 'daemon RSS MB (with children)'],
      figures.scale.map((r) => [
        r.detector,
        String(r.sources),
        String(r.offeredPerSecond),
        String(r.blocked),
        String(r.missed),
        String(r.blockedPerSecond),
        fmt(r.secondsToLastBlock, 3),
        fmt(r.secondsToLastBlockLine, 3),
        r.daemonRssMb === null ? 'n/a' : `${fmt(r.daemonRssMb, 1)} (${fmt(r.daemonTreeRssMb, 1)})`,
      ]),
    ),
  );
  out.push('');

  out.push('## 5. Cost as blocks grow');
  out.push('');
  out.push(
    "Add one block: ours through the daemon's own NftablesBackend (persistent `nft -i`), and as one `nft add element` process; the peer's way as one `iptables -I INPUT -s X -j DROP` process. Forwarding cost: connect latency (ms) of an unblocked client to the target's service, which every block is checked against.",
  );
  out.push('');
  out.push(
    table(
      ['backend', 'blocked hosts', 'bulk load s', 'add one: daemon path ms', 'add one: one process ms', 'client connect ms'],
      figures.blockCost.map((r) => [r.backend, String(r.existingBlocks), fmt(r.bulkLoadSeconds, 3), mp(r.addOneDaemonMs), mp(r.addOneProcessMs), mp(r.connectMs, 3)]),
    ),
  );
  out.push('');

  out.push('## 6. Memory and idle CPU');
  out.push('');
  out.push('Engine in process (privileged-helper/engine/engine.ts, STATE_MAX_SOURCES default), one probe per distinct source, own Node process, after a forced GC:');
  out.push('');
  out.push(
    table(
      ['sources', 'SCAN_TRIGGER', 'tracked', 'blocks held', 'heap MB', 'RSS MB', 'ns per probe'],
      figures.memory.engine.map((e) => [
        String(e.count),
        String(e.scanTrigger),
        String(e.trackedSources),
        String(e.blocked),
        `${fmt(e.heapUsedMbBefore, 1)} -> ${fmt(e.heapUsedMbAfter, 1)}`,
        `${fmt(e.rssMbBefore, 1)} -> ${fmt(e.rssMbAfter, 1)}`,
        String(e.nsPerProbe),
      ]),
    ),
  );
  out.push('');
  out.push(
    'Real daemons, idle after start (-tcp -udp -atcp -audp; the peer is four processes; ours is the helper and its children: nft, tcpdump, logger). RSS from /proc/PID/status (VmRSS: it counts the pages of the node binary the helper has touched, shared with every other Node process); CPU is utime+stime over the interval:',
  );
  out.push('');
  out.push(
    table(
      ['detector', 'RSS MB (main)', 'RSS MB (all processes)', 'idle CPU s over', 'idle CPU %', 'per process: RSS MB, CPU s'],
      figures.memory.idle.map((r) => [
        r.detector,
        fmt(r.rssMb, 1),
        fmt(r.treeRssMb, 1),
        `${fmt(r.idleCpuSeconds)} / ${r.idleSeconds} s`,
        fmt(r.idleCpuPercent, 2),
        r.processes === undefined ? 'n/a' : r.processes.map((p) => `${p.program} ${fmt(p.rssMb, 1)}, ${fmt(p.cpuSeconds)}`).join('; '),
      ]),
    ),
  );
  out.push('');

  out.push('## 7. Start-up (own exec to every tripwire bound)');
  out.push('');
  out.push(
    "Both seen the same way: `ss` polled in the target's namespace until every tripwire port is bound. Ours is clocked from the spawn of `ip netns exec ... node portsentryd`, so its figure includes that launcher (measured alone as `ip netns exec true`); the peer from the moment its launcher execs portsentry (-tcp and -udp at once), so its figure leaves out the launcher's unshare, Node and bind mount (measured: spawn of the launcher to that exec). Ours runs as the systemd unit runs it, with Node's compile cache (warm: the figures before this one started it).",
  );
  out.push('');
  out.push(
    table(
      ['detector', 'modes', 'clocked from', 'to all ports bound (ss) ms', 'to "active and listening" ms', 'launcher ms'],
      figures.startup.map((r) => [
        r.detector,
        r.modes,
        r.clockedFrom ?? 'spawn of the launcher',
        mp(r.toAllBoundMs, 1),
        mp(r.toActiveMs, 1),
        r.launcherMs === undefined ? 'n/a' : `${mp(r.launcherMs, 1)} (${r.launcherIncluded === true ? 'included' : 'left out'})`,
      ]),
    ),
  );
  out.push('');

  out.push('## Capture path (tcpdump pipe of the stealth/advanced modes)');
  out.push('');
  out.push(
    "tcpdump with the daemon's argv and advanced-mode filter, its pcap parsed by the product's PcapStreamParser/decodeFrame; UDP datagrams to a watched port at a paced rate. Latency: kernel capture timestamp to the frame decoded in Node (sampled every 16th frame).",
  );
  out.push('');
  out.push(
    table(
      ['offered /s', 'achieved /s', 'sent', 'seen by Node', 'tcpdump received', 'dropped by kernel', 'lost', 'latency ms (median / p95)'],
      figures.capturePath.map((r) => [
        String(r.offeredPerSecond),
        String(r.achievedPerSecond),
        String(r.sent),
        String(r.seenByNode),
        fmt(r.receivedByFilter, 0),
        fmt(r.droppedByKernel, 0),
        String(r.lost),
        mp(r.latencyMs, 3),
      ]),
    ),
  );
  out.push('');
  out.push(...renderFleet(figures.fleet));

  out.push('## 8. Flood absorbed (spoofed sources, -atcp)');
  out.push('');
  out.push(
    'One spoofed SYN per source (198.18.64.0/18 upward) to watched port 555, paced by the raw sender. Absorbed/s = sources the daemon reported blocked / (its last "has been blocked" line - first packet); catch-up = last packet sent to the daemon\'s last log line (log quiet for 2 s after); peak RSS = VmHWM of the daemon; then a fresh scanner\'s trigger to blackhole, as in figure 1.',
  );
  out.push('');
  const fl = figures.flood;
  out.push(
    table(
      ['sources', 'offered /s', 'send s', 'reported blocked', 'absorbed /s', 'catch-up s', 'peak RSS MB', 'failed blocks', 'scanner after: blackhole ms'],
      fl === null || fl === undefined
        ? []
        : [
            [
              String(fl.sources),
              String(fl.offeredPerSecond),
              fmt(fl.sendSeconds, 3),
              String(fl.reportedBlocked),
              String(fl.absorbedPerSecond),
              fmt(fl.catchUpSeconds, 3),
              fmt(fl.peakRssMb, 1),
              String(fl.failedBlocks),
              fl.scannerAfterMs === null ? 'never blocked' : fmt(fl.scannerAfterMs, 3),
            ],
          ],
    ),
  );
  out.push('');

  out.push('## 9. Capacity: a blocked set at BLOCK_SET_SIZE');
  out.push('');
  out.push(
    "One of our sets (blocked6_hosts; every set has the same size and kind) loaded with `nft -f` to the size less 5, then one more block at a time through the daemon's NftablesBackend. When full, the backend evicts up to 1 % of the set (soonest to expire, then oldest) from the blocks it knows, and adds the newcomer: no read of the set on that path. The elements loaded behind its back (as the kernel trap adds them when capture loses their probes) are read in the background (last column), after which evictions follow the policy over the whole set. In the daemon, start-up reconciliation reads the sets and the blocks of the trap are learned from capture, so the index normally knows the set. Kernel memory: growth of Slab + VmallocUsed in /proc/meminfo (machine-wide). Blocks held: the set read back from the kernel after the newest scanner's block (after the load in brackets), and whether that newest scanner's address is in it.",
  );
  out.push('');
  const cap = figures.capacity;
  out.push(
    table(
      [
        'set size',
        'blocks held (after load)',
        'newest scanner blocked',
        'bulk load s',
        'kernel MB',
        'add one (nearly full) ms',
        'add when full: first ms',
        'add when full: next ms',
        'evicted',
        'background read s',
      ],
      cap === null || cap === undefined
        ? []
        : [
            [
              String(cap.setSize),
              `${cap.held}${cap.heldAfterLoad === undefined ? ' (planned, not read back)' : ` (${cap.heldAfterLoad})`}`,
              cap.newestBlocked === undefined ? 'n/a' : cap.newestBlocked ? 'yes' : '**no**',
              fmt(cap.bulkLoadSeconds, 1),
              fmt(cap.kernelMb, 1),
              cap.addOneMs.map((v) => fmt(v)).join(', '),
              fmt(cap.addWhenFullFirstMs, 0),
              cap.addWhenFullNextMs.map((v) => fmt(v)).join(', '),
              String(cap.evicted),
              cap.backgroundReadSeconds == null ? 'n/a' : fmt(cap.backgroundReadSeconds, 1),
            ],
          ],
    ),
  );
  out.push('');

  const lone = figures.loneProbe ?? [];
  if (lone.length > 0) {
    out.push('## 10. Lone probe on a quiet network');
    out.push('');
    out.push(
      'One trigger from a fresh source (a UDP datagram to 31337 for -udp, a TCP connect to 31337 for -tcp, one bare SYN for -stcp and -atcp) and nothing else on the wire. To block: trigger to the answer of the first question to the kernel in the target\'s namespace that said yes; the questions go out from before the trigger leaves, about one a millisecond, through one long-lived `nft -i` for both (`get element` on our set, `list chain ip filter INPUT` for the peer\'s iptables-nft rule: a netlink round trip each, nothing on the wire). Resolution: from the last question that said no (or the trigger, if later) to that answer; the block lies inside it. Ours also: trigger to its attack line and to its "has been blocked" line (the peer logs to syslog only). Never blocked: not in the firewall 10 s after the trigger.',
    );
    out.push('');
    out.push(
      table(
        ['detector', 'mode', 'to block in the kernel ms', 'resolution ms', 'to attack line ms', 'to "blocked" line ms', 'never blocked'],
        lone.map((r) => [r.detector, `-${r.mode}`, mp(r.toBlockMs), mp(r.resolutionMs), mp(r.toLogLineMs), mp(r.toBlockedLineMs), `${r.neverBlocked} of ${r.repetitions}`]),
      ),
    );
    out.push('');
  }
  const masscans = figures.masscan ?? [];
  if (masscans.length > 0) {
    out.push("## 11. One source at masscan's pace (-atcp)");
    out.push('');
    out.push(
      'One spoofed source sends SYNs to watched port 555, paced by the raw sender (achieved rate shown). Helper CPU: utime+stime of the daemon and its children over the flood, up to a barrier (a sentinel\'s trigger, whose attack line comes after every earlier packet was handled). Attack lines for the source: one means every later packet cost no line. Control socket: JSON-RPC "status" round trips on the operator socket, ten a second, during the flood (their own cost is in the helper CPU). REPEAT_LOG: "minute" is the installed config (a blocked source\'s packets are dropped before capture); "every" is 1.2\'s default, what a config without the key gets: every probe of a blocked source is logged, as 1.2 does, so its cost grows with packets by design, and only the "minute" rows are held to the target.',
    );
    out.push('');
    out.push(
      table(
        [
          'REPEAT_LOG',
          'offered /s',
          'achieved /s',
          'sent',
          'helper CPU s',
          'log lines',
          'attack lines for the source',
          'source blocked',
          'control latency ms (median / p95)',
          'control requests (timeouts)',
        ],
        masscans.map((r) => [
          r.repeatLog === 'every' ? 'every (unset, 1.2)' : r.repeatLog,
          String(r.offeredPerSecond),
          String(r.achievedPerSecond),
          String(r.sent),
          fmt(r.helperCpuSeconds),
          String(r.logLines),
          String(r.attackLinesForSource),
          r.sourceBlocked ? 'yes' : '**no**',
          mp(r.controlLatencyMs),
          `${r.controlRequests} (${r.controlTimeouts})`,
        ]),
      ),
    );
    out.push('');
  }
  const falseRows = figures.falseBlocks ?? [];
  if (falseRows.length > 0) {
    out.push("## 13. False blocks on a laptop's LAN");
    out.push('');
    out.push(
      `The benign-LAN e2e test's traffic (test/support/lan-traffic.ts): ${falseRows[0]!.kinds} kinds of discovery and service packets from ${falseRows[0]!.devices} devices on the target's link, none in the ignore list (NetBIOS, SMB, LLMNR, WS-Discovery, SNMP, IPP, DHCP, SSDP, mDNS, KDE Connect, Spotify, Steam, Dropbox, backscatter, ICMP echo, and late replies to the target's own DNS, NTP and SSDP queries), played at each detector in each mode pair; then a sentinel's datagram to UDP 700 as a barrier, and the firewall read back. The peer is IPv4-only, so its count is out of the 11 IPv4 devices.`,
    );
    out.push('');
    out.push(
      table(
        ['detector', 'modes', 'devices blocked', 'which', 'barrier held'],
        falseRows.map((r) => [r.detector, r.modes, `${r.blocked.length} of ${r.devices}`, r.blocked.length === 0 ? 'none' : r.blocked.join(', '), r.barrier ? 'yes' : '**no**']),
      ),
    );
    out.push('');
  }
  const restarts = figures.restart ?? [];
  if (restarts.length > 0) {
    out.push('## 12. Restart while holding many blocks (-tcp -udp)');
    out.push('');
    out.push(
      'The store filled as a long-running helper leaves it (a "block added" event and a block row per address, permanent IPv6 host blocks, written through the product\'s EventStore), then one start with our nftables table gone (after a reboot: every block re-applied from the store) and restarts with the table kept (a helper restart: the kernel\'s sets still hold every block). Clocked from the spawn of `ip netns exec ... node portsentryd`, as figure 7: every tripwire bound (ss polled), the helper\'s "blocks at start" line (reconciliation done), its "active and listening" line. Then read back: the elements of our sets in the kernel (`nft -j list table`) and the ledger\'s confirmed blocks (status RPC blockedCount); reconciled = both equal the blocks stored, in every run. Peak RSS: the helper\'s VmHWM.',
    );
    out.push('');
    out.push(
      table(
        ['blocks stored', 'start', 'runs', 'to all ports bound ms', 'to blocks reconciled ms', 'to "active" ms', 'kernel holds', 'ledger holds', 'failed', 'reconciled', 'peak RSS MB'],
        restarts.map((r) => [
          String(r.blocks),
          r.kind,
          String(r.runs),
          mp(r.toBoundMs, 0),
          mp(r.toReconciledMs, 0),
          mp(r.toActiveMs, 0),
          String(r.kernelHeld),
          r.ledgerHeld === null ? 'n/a' : String(r.ledgerHeld),
          String(r.failed),
          r.reconciled ? 'yes' : `**no**${r.problem === undefined ? '' : `: ${r.problem}`}`,
          mp(r.peakRssMb, 1),
        ]),
      ),
    );
    out.push('');
  }
  const exclusions = statedExclusions(results);
  if (exclusions.length > 0) {
    out.push('## What the figures leave out, and unequal loads');
    out.push('');
    out.push(...exclusions);
    out.push('');
  }
  if (analysis.length > 0) {
    out.push('## Targets');
    out.push('');
    out.push(...analysis);
    out.push('');
  }
  const errors = Object.entries(results.errors);
  if (errors.length > 0) {
    out.push('## Not measured');
    out.push('');
    out.push(...errors.map(([figure, why]) => `- ${figure}: ${why}`));
    out.push('');
  }
  return out.join('\n');
}

/**
 * The README with its benchmark section (between `<!-- bench:start -->` and
 * `<!-- bench:end -->`) replaced by the report, title line dropped. Unchanged if the markers
 * are missing. Pure.
 */
export function spliceReadme(readme: string, report: string): string {
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) return readme;
  const body = report.replace(/^# [^\n]*\n+/, '').trimEnd();
  return `${readme.slice(0, from + start.length)}\n${body}\n${readme.slice(to)}`;
}
