// The project's targets checked against the results, each missed one with the measured
// parts that bound it. Pure.

import { prefixLimitBound } from './exclusions.js';
import type { BenchResults } from './results.js';

const f = (v: number | null | undefined, d = 2) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(d));

export function analyseTargets(results: BenchResults): string[] {
  const { figures } = results;
  const lines: string[] = [];
  const mark = (ok: boolean) => (ok ? 'met' : '**not met**');
  const trigger = (mode: string) => figures.triggerToBlackhole.find((r) => r.detector === 'ours' && r.mode === mode);
  const nftDaemon = figures.blockCost.find((r) => r.backend === 'nftables set (ours)')?.addOneDaemonMs?.median ?? null;
  for (const [modes, limit] of [
    [['tcp', 'udp'], 1],
    [['stcp', 'atcp'], 2],
  ] as const) {
    for (const mode of modes) {
      const row = trigger(mode);
      const median = row?.blackholeMs?.median ?? null;
      const first = row?.firstAfterStartMs ?? null;
      const never = (row?.neverBlocked ?? 0) + (row?.firstNeverBlocked ?? 0);
      const ok = median !== null && median <= limit && first !== null && first <= limit && never === 0;
      const peer = figures.triggerToBlackhole.find((r) => r.detector === 'peer' && r.mode === mode);
      let line = `- Trigger to blackhole, ours -${mode}: median ${f(median)} ms, first after start ${f(first)} ms (target <= ${limit} ms for both, none never blocked; the peer: ${f(peer?.blackholeMs?.median)} ms, first ${f(peer?.firstAfterStartMs)} ms): ${mark(ok)}.`;
      if (never > 0)
        line += ` Never blocked: ${row?.neverBlocked ?? 0} of ${row?.repetitions ?? 'n/a'} repetitions and ${row?.firstNeverBlocked ?? 0} of ${row?.starts ?? 1} first triggers after start.`;
      if (!ok && row?.handshakeMs !== undefined && row.handshakeMs !== null) {
        line += ` Of that, the attacker's own handshake (its connect() returning) took ${f(row.handshakeMs.median)} ms, and in ${row.blockedBeforeFirstProbe ?? 'n/a'} of ${row.repetitions} repetitions not one probe was answered: the block was in place before the first probe left.`;
      }
      if (!ok && row !== undefined && row.respondMs !== null) {
        line += ` Measured parts: trigger to the daemon's attack line ${f(row.detectMs?.median)} ms, attack line to "has been blocked" ${f(row.respondMs?.median)} ms; the nftables transaction alone (the daemon's persistent nft, figure 5) ${f(nftDaemon)} ms.`;
      }
      lines.push(line);
    }
  }
  const startOurs = figures.startup.find((r) => r.detector === 'ours')?.toAllBoundMs?.median ?? null;
  const startPeer = figures.startup.find((r) => r.detector === 'peer')?.toAllBoundMs?.median ?? null;
  if (startOurs !== null && startPeer !== null) {
    lines.push(
      `- Start-up to every tripwire bound (same run, each from its own exec; ours including its launcher): ours ${f(startOurs, 1)} ms, the peer ${f(startPeer, 1)} ms, ratio ${f(startOurs / startPeer)} (target <= 1): ${mark(startOurs <= startPeer)}.`,
    );
  }
  const leakRow = figures.leak.find((r) => r.detector === 'ours');
  const leak = leakRow?.learnedPorts?.median ?? null;
  const peerLeak = figures.leak.find((r) => r.detector === 'peer')?.learnedPorts?.median ?? null;
  let leakLine = `- Leak (ours, -atcp): median ${f(leak, 0)} ports learned (target <= 1; the peer: ${f(peerLeak, 0)}): ${mark(leak !== null && leak <= 1)}.`;
  if (leak !== null && leak > 1 && leakRow !== undefined) {
    const fast = figures.capturePath[figures.capturePath.length - 1];
    leakLine += ` At 20,000 probes/s every millisecond before the drop rule costs ~20 ports. Measured: nmap start (including its own start-up) to the daemon's attack line ${f(leakRow.toAttackLineMs?.median, 1)} ms and to its "blocked" line ${f(leakRow.toBlockedLineMs?.median, 1)} ms; the capture pipe alone adds ${f(fast?.latencyMs?.median, 2)} / ${f(fast?.latencyMs?.p95, 2)} ms (median / p95) at ${fast?.achievedPerSecond ?? 'n/a'} packets/s; and after the first block every further packet of the scan to a watched port still reaches the daemon (capture sits before netfilter) as an "already blocked" event.`;
  }
  lines.push(leakLine);
  const scale = figures.scale.filter((r) => r.detector === 'ours').sort((a, b) => b.sources - a.sources)[0];
  const scaleOk = scale !== undefined && scale.blockedPerSecond >= 5000 && scale.missed === 0;
  let scaleLine = `- Scale (ours): ${scale?.blockedPerSecond ?? 'n/a'} sources blocked/s, ${scale?.missed ?? 'n/a'} of ${scale?.sources ?? 'n/a'} missed (target >= 5000/s, none missed): ${mark(scaleOk)}.`;
  if (!scaleOk && scale !== undefined) {
    const at10k = figures.blockCost.find((r) => r.backend === 'nftables set (ours)' && r.existingBlocks === 10_000);
    scaleLine += ` Bound: the block transactions grow with the set (figure 5: one block through the daemon's persistent nft costs ${f(at10k?.addOneDaemonMs?.median)} ms with 10,000 already blocked), and the daemon's RSS reached ${f(scale.daemonRssMb, 1)} MB after ${scale.sources} blocks.`;
  }
  lines.push(scaleLine);
  const ours = figures.blockCost.filter((r) => r.backend === 'nftables set (ours)');
  const smallest = ours[0];
  const largest = ours[ours.length - 1];
  if (smallest !== undefined && largest !== undefined) {
    const a = smallest.addOneDaemonMs?.median ?? Number.NaN;
    const b = largest.addOneDaemonMs?.median ?? Number.NaN;
    const ca = smallest.connectMs?.median ?? Number.NaN;
    const cb = largest.connectMs?.median ?? Number.NaN;
    // Connect latency on a shared 2-core machine wanders by ~0.2 ms run to run: growth beyond
    // that is what one rule per host shows (see the iptables rows).
    const flat = b <= a * 2 + 0.5 && cb - ca <= 0.25;
    let flatLine = `- Flat block cost (ours): add one through the daemon's backend ${f(a)} ms at ${smallest.existingBlocks} vs ${f(b)} ms at ${largest.existingBlocks} blocked; client connect ${f(ca, 3)} vs ${f(cb, 3)} ms: ${mark(flat)}.`;
    if (!flat) {
      flatLine += ` A one-shot \`nft add element\` process costs ${f(smallest.addOneProcessMs?.median)} vs ${f(largest.addOneProcessMs?.median)} ms at the same sizes, which separates the kernel's cost from the daemon's path to it.`;
    }
    lines.push(flatLine);
  }
  const engine = figures.memory.engine.find((e) => e.scanTrigger === 0);
  if (engine !== undefined) {
    const ok = engine.rssMbAfter <= 200;
    let line = `- Memory with ${engine.count} distinct sources (engine in process, every source blocked at first touch): RSS ${f(engine.rssMbAfter, 1)} MB, heap ${f(engine.heapUsedMbAfter, 1)} MB (target <= 200 MB): ${mark(ok)}.`;
    if (!ok)
      line += ` Bound: the engine keeps one entry per blocked address in its blocks map, outside STATE_MAX_SOURCES (${engine.blocked} entries held); sources merely counted stay bounded (see the SCAN_TRIGGER 3 row).`;
    lines.push(line);
  }
  const fl = figures.flood;
  if (fl !== null && fl !== undefined) {
    const bound = Math.min(fl.sources, prefixLimitBound(fl.sources));
    const ok = fl.catchUpSeconds <= 2 && fl.peakRssMb !== null && fl.peakRssMb < 250 && fl.scannerAfterMs !== null && fl.failedBlocks === 0 && fl.reportedBlocked >= bound;
    lines.push(
      `- Flood (ours, ${fl.sources} spoofed sources at ${fl.offeredPerSecond}/s): ${fl.reportedBlocked} blocked of the ${bound} the per-/24 limit allows (see above), caught up ${f(fl.catchUpSeconds, 3)} s after the last packet (target <= 2 s), peak RSS ${f(fl.peakRssMb, 1)} MB (target < 250 MB), ${fl.failedBlocks} failed blocks, a scanner right after blackholed in ${fl.scannerAfterMs === null ? 'never' : `${f(fl.scannerAfterMs, 3)} ms`}: ${mark(ok)}.`,
    );
  }
  const cap = figures.capacity;
  if (cap !== null && cap !== undefined) {
    // Only what was read back from the kernel counts (results before read-back have no heldAfterLoad).
    const measured = cap.heldAfterLoad !== undefined;
    const ok = measured && cap.held >= 1_000_000 && cap.newestBlocked === true && cap.evicted > 0;
    lines.push(
      `- Capacity (ours): ${cap.held} blocks held in one set, ${measured ? 'read back from the kernel' : 'planned, not read back'}, the newest scanner ${cap.newestBlocked === true ? 'in it' : '**not** in it'} (${f(cap.kernelMb, 1)} MB of kernel memory), one more block ${f(cap.addOneMs[0])} ms, a block into the full set ${f(cap.addWhenFullFirstMs)} ms the first time and ${f(cap.addWhenFullNextMs[0])} ms after (the set is read in the background: ${f(cap.backgroundReadSeconds ?? undefined, 1)} s) (target: 1,000,000 per family, the newest scanner still blocked when full): ${mark(ok)}.`,
    );
  }
  for (const row of (figures.loneProbe ?? []).filter((r) => r.detector === 'ours')) {
    const peer = figures.loneProbe?.find((r) => r.detector === 'peer' && r.mode === row.mode);
    // Both are asked the same way, about once a millisecond: "no later than the peer" compares
    // the medians of the first yes.
    const ok = row.neverBlocked === 0 && row.toBlockMs !== null && (peer?.toBlockMs == null || row.toBlockMs.median <= peer.toBlockMs.median);
    lines.push(
      `- Lone probe on a quiet network, ours -${row.mode}: blocked in the kernel by ${f(row.toBlockMs?.median)} ms after the trigger, within the last ${f(row.resolutionMs?.median)} ms of that (from the last "no" to the first "yes"), ${row.neverBlocked} of ${row.repetitions} never blocked (target: every one blocked, no later than the peer: by ${f(peer?.toBlockMs?.median)} ms, ${peer?.neverBlocked ?? 'n/a'} never): ${mark(ok)}.`,
    );
  }
  // Only the installed REPEAT_LOG="minute" is held to the target: under 1.2's "every" each
  // probe of a blocked source is logged by design.
  for (const row of (figures.masscan ?? []).filter((r) => r.repeatLog === 'minute')) {
    // "Near zero" after the first probe: under 2 % of one core over the flood, one attack line.
    const ok = row.sourceBlocked && row.attackLinesForSource <= 1 && row.helperCpuSeconds <= 0.02 * row.seconds && row.controlTimeouts === 0;
    lines.push(
      `- One source at ${row.offeredPerSecond}/s (achieved ${row.achievedPerSecond}/s) for ${f(row.seconds, 1)} s: helper CPU ${f(row.helperCpuSeconds)} s, ${row.logLines} log lines, ${row.attackLinesForSource} attack lines for the source, blocked: ${row.sourceBlocked ? 'yes' : 'no'}, control socket ${f(row.controlLatencyMs?.median)} / ${f(row.controlLatencyMs?.p95)} ms (target: user-space CPU after the first probe near zero, under 2 % of a core; one attack line; the source blocked; the control socket answering): ${mark(ok)}.`,
    );
  }
  for (const row of figures.restart ?? []) {
    // No time target of its own: the tripwires must not wait for the blocks (start-up's target
    // covers them), and every stored block must be back in the kernel and the ledger.
    lines.push(
      `- Restart holding ${row.blocks} blocks, ${row.kind}: every tripwire bound ${f(row.toBoundMs?.median, 0)} ms, blocks reconciled ${f(row.toReconciledMs?.median, 0)} ms after exec (median of ${row.runs}); the kernel holds ${row.kernelHeld}, the ledger ${row.ledgerHeld ?? 'n/a'}, ${row.failed} failed, peak RSS ${f(row.peakRssMb?.median, 1)} MB (target: every stored block in the kernel and the ledger, read back)${row.problem === undefined ? '' : `; ${row.problem}`}: ${mark(row.reconciled)}.`,
    );
  }
  const matrix = figures.scanTypes.filter((r) => r.detector === 'ours');
  if (matrix.length > 0) {
    const missed = matrix
      .filter((r) => !r.blocked || r.learned !== 0)
      .map((r) => `${r.modes} ${r.scan} v${r.family}${r.blocked ? '' : ' not blocked'}${r.learned !== 0 ? `, ${r.learned ?? 'n/a'} states learned` : ''}`);
    lines.push(
      `- Scan matrix (ours): ${matrix.length - missed.length} of ${matrix.length} scans blocked with no port state learned${missed.length > 0 ? ` (not: ${missed.join('; ')})` : ''} (target: every kind, both modes, IPv4 and IPv6): ${mark(missed.length === 0)}.`,
    );
  }
  for (const row of (figures.falseBlocks ?? []).filter((r) => r.detector === 'ours')) {
    const peer = figures.falseBlocks?.find((r) => r.detector === 'peer' && r.modes === row.modes);
    const ok = row.barrier && row.blocked.length === 0;
    lines.push(
      `- False blocks on a laptop's LAN, ours ${row.modes}: ${row.blocked.length} of ${row.devices} neighbours blocked${row.blocked.length > 0 ? ` (${row.blocked.join(', ')})` : ''}${row.barrier ? '' : ', the barrier did not hold'} (target: none; the peer: ${peer === undefined ? 'n/a' : `${peer.blocked.length}${peer.blocked.length > 0 ? ` (${peer.blocked.join(', ')})` : ''}`}): ${mark(ok)}.`,
    );
  }
  const idle = figures.memory.idle.find((r) => r.detector === 'ours');
  // Two decimals: the target (0.1 %) sits at the resolution one decimal would give.
  lines.push(
    `- Idle CPU (ours, all processes): ${f(idle?.idleCpuPercent, 2)} % over ${idle?.idleSeconds ?? 'n/a'} s (target <= 0.1 % over 60 s): ${mark(idle !== undefined && idle.idleSeconds >= 60 && idle.idleCpuPercent <= 0.1)}.`,
  );
  lines.push(`- Idle RSS of the helper's main process: ${f(idle?.rssMb, 1)} MB (target <= 64 MB): ${mark(idle?.rssMb != null && idle.rssMb <= 64)}.`);
  return lines;
}
