// The run's summary: counters, achieved rate and publish-to-PUBACK latency percentiles.
// Latencies go into a bounded reservoir (uniform sample of everything seen), so a long run at a
// high rate keeps memory flat while the percentiles stay representative.

import type { AnomalyStats } from './anomaly-injector.js';
import type { FaultStats } from './fault-injector.js';
import type { Random } from './random.js';
import type { RowLatencySummary } from './row-latency.js';

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** PUBACKs measured (all of them, not only those kept in the reservoir) */
  count: number;
}

export interface Counters {
  devices: number;
  /** devices that connected at least once */
  connected: number;
  qos: 0 | 1;
  sent: number;
  /** QoS 1 PUBACKs received (0 for QoS 0) */
  acknowledged: number;
  errors: number;
  /** publishes due while the device was offline, or dropped because the scheduler fell behind */
  skipped: number;
  reconnects: number;
}

export interface Summary extends Counters {
  /** seconds from the first scheduled publish to the stop */
  durationS: number;
  /** sent / durationS */
  msgPerSec: number;
  /** publish-to-PUBACK latency in ms; null for QoS 0 or when nothing was acknowledged */
  latencyMs: LatencySummary | null;
  /** present when anomalies were configured */
  anomalies?: AnomalySummary;
  /** present for a profile whose devices obey their shadow (plug) */
  shadow?: ShadowSummary;
  /** present when connection faults were injected (--fault) */
  faults?: FaultSummary;
  /** present for a run over several processes (--shards): each shard's part */
  shards?: ShardPart[];
  /** broker-receive-to-row latency read from the server's /metrics (see row-latency.ts); null
   * when it could not be read, absent when not asked for */
  rowLatencyMs?: RowLatencySummary | null;
}

/** What the injected faults did; `specs` as given to --fault. */
export interface FaultSummary extends FaultStats {
  specs: string[];
}

/** One shard of a sharded run (shard k holds devices k+1, k+1+N, ...): its counters. */
export interface ShardPart {
  shard: number;
  devices: number;
  connected: number;
  sent: number;
  acknowledged: number;
  errors: number;
}

/** Shadow traffic over the fleet: reports published (at connect and after every applied
 * delta), deltas applied, deltas ignored (nothing the device understands in them). */
export interface ShadowSummary {
  reported: number;
  applied: number;
  ignored: number;
}

export interface AnomalySummary extends AnomalyStats {
  labelsFile: string | null;
  /** labels not written (buffer full or write error) */
  labelsDropped: number;
}

/** Nearest-rank percentile of ascending `sorted` values; `p` in [0, 100]. Null when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** A recorder's state, to summarise several recorders (shards) together: the kept samples stand
 * for `seen` measurements. */
export interface LatencySnapshot {
  samples: Float64Array;
  seen: number;
  max: number;
}

/**
 * Percentiles over several reservoirs, exact when none of them overflowed. Each kept sample of a
 * reservoir weighs seen / kept (a reservoir is a uniform sample of its own stream), so a shard that
 * measured twice as much counts twice as much: the nearest-rank percentile over the weighted union
 * rather than any average of per-shard percentiles, which would be meaningless.
 */
export function summarizeLatency(snapshots: readonly LatencySnapshot[]): LatencySummary | null {
  const parts = snapshots.filter((s) => s.seen > 0 && s.samples.length > 0);
  const count = snapshots.reduce((n, s) => n + s.seen, 0);
  if (parts.length === 0 || count === 0) return null;
  const max = Math.max(...snapshots.map((s) => s.max));
  const exact = parts.every((s) => s.seen === s.samples.length);
  let at: (p: number) => number;
  if (parts.length === 1 || exact) {
    const sorted = parts.length === 1 ? parts[0].samples.slice().sort() : concatSorted(parts);
    at = (p) => percentile(sorted, p) as number;
  } else {
    at = weightedPercentiles(parts);
  }
  return { p50: round3(at(50)), p90: round3(at(90)), p99: round3(at(99)), max: round3(max), count };
}

function concatSorted(parts: readonly LatencySnapshot[]): Float64Array {
  const all = new Float64Array(parts.reduce((n, s) => n + s.samples.length, 0));
  let offset = 0;
  for (const s of parts) {
    all.set(s.samples, offset);
    offset += s.samples.length;
  }
  return all.sort();
}

/** Nearest rank on cumulative weights: the smallest value whose cumulative weight reaches p %. */
function weightedPercentiles(parts: readonly LatencySnapshot[]): (p: number) => number {
  const pairs: [number, number][] = [];
  for (const s of parts) for (const value of s.samples) pairs.push([value, s.seen / s.samples.length]);
  pairs.sort((a, b) => a[0] - b[0]);
  const cumulative = new Float64Array(pairs.length);
  let sum = 0;
  pairs.forEach(([, w], i) => (cumulative[i] = sum += w));
  return (p) => {
    const target = (p / 100) * sum;
    let lo = 0;
    let hi = pairs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] >= target) hi = mid;
      else lo = mid + 1;
    }
    return pairs[lo][0];
  };
}

export class LatencyRecorder {
  private readonly samples: Float64Array;
  private kept = 0;
  private seen = 0;
  private maxSeen = 0;

  constructor(
    private readonly random: Random,
    capacity = 100_000,
  ) {
    this.samples = new Float64Array(capacity);
  }

  record(latencyMs: number): void {
    this.seen++;
    if (latencyMs > this.maxSeen) this.maxSeen = latencyMs;
    if (this.kept < this.samples.length) {
      this.samples[this.kept++] = latencyMs;
      return;
    }
    // Reservoir sampling (Algorithm R): every sample seen has the same chance to be kept.
    const slot = Math.floor(this.random() * this.seen);
    if (slot < this.samples.length) this.samples[slot] = latencyMs;
  }

  /** Samples seen that the reservoir did not keep. */
  get dropped(): number {
    return this.seen - this.kept;
  }

  /** A copy of the kept samples with what they stand for (see summarizeLatency). */
  snapshot(): LatencySnapshot {
    return { samples: this.samples.slice(0, this.kept), seen: this.seen, max: this.maxSeen };
  }

  summarize(): LatencySummary | null {
    return summarizeLatency([this.snapshot()]);
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}


export function buildSummary(
  counters: Counters,
  durationMs: number,
  latency: LatencyRecorder | LatencySummary | null,
  anomalies?: AnomalySummary,
  shadow?: ShadowSummary,
  faults?: FaultSummary,
): Summary {
  const durationS = Math.max(0, durationMs) / 1000;
  const latencyMs = latency instanceof LatencyRecorder ? latency.summarize() : latency;
  return {
    ...counters,
    durationS: Math.round(durationS * 1000) / 1000,
    msgPerSec: durationS > 0 ? Math.round((counters.sent / durationS) * 10) / 10 : 0,
    latencyMs: counters.qos === 1 ? latencyMs : null,
    ...(anomalies ? { anomalies } : {}),
    ...(shadow ? { shadow } : {}),
    ...(faults ? { faults } : {}),
  };
}

/** One line: what the injected faults did to connections and to QoS 1 publishes in flight. */
export function formatFaults(f: FaultSummary, qos: 0 | 1): string {
  const parts = [`${f.disconnects} connections dropped`, `${f.reconnects} reconnects`];
  if (f.vanished > 0) parts.push(`${f.vanished} devices vanished`);
  if (qos === 1) parts.push(`${f.inflightAtDisconnect} QoS 1 in flight at a drop: ${f.redelivered} redelivered and acknowledged, ${f.lost} lost`);
  return `${parts.join(', ')} (${f.specs.join(' ')})`;
}

/** One line: what was injected, by kind, and what was not. */
export function formatAnomalies(a: AnomalySummary): string {
  const kinds = Object.entries(a.byKind)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind} ${n}`);
  const parts = [`${a.injected} injected${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}`, `${a.notReached} not reached`];
  if (a.withheld > 0) parts.push(`${a.withheld} messages withheld`);
  if (a.randomCapped > 0) parts.push(`${a.randomCapped} random ones over the per-device cap`);
  if (a.labelsFile !== null) parts.push(`labels in ${a.labelsFile}${a.labelsDropped > 0 ? ` (${a.labelsDropped} dropped)` : ''}`);
  return parts.join(', ');
}

/** One line: receive-to-row percentiles, how many rows, and whether they had all landed. */
export function formatRowLatency(r: RowLatencySummary | null): string {
  if (r === null) return 'not measured (/metrics could not be read)';
  if (r.p50 === null || r.p99 === null) return `no rows committed during the run (${r.datastores.join(', ') || 'no datastores'})`;
  const late = r.settled ? '' : ', still committing when the wait ended';
  return `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms (${r.count} rows in ${r.datastores.join(', ')}, broker receipt to commit${late})`;
}

/** Human-readable summary (several lines, no trailing newline). */
export function formatSummary(summary: Summary): string {
  const lines = [
    `devices      ${summary.devices} (${summary.connected} connected at least once, ${summary.reconnects} reconnects)`,
    `qos          ${summary.qos}`,
    `sent         ${summary.sent}`,
    `acknowledged ${summary.qos === 1 ? summary.acknowledged : 'n/a (QoS 0)'}`,
    `errors       ${summary.errors}`,
    `skipped      ${summary.skipped}`,
    `duration     ${summary.durationS.toFixed(1)} s`,
    `rate         ${summary.msgPerSec.toFixed(1)} msg/s`,
  ];
  if (summary.latencyMs) {
    const { p50, p99, max, count } = summary.latencyMs;
    lines.push(`latency      p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${max.toFixed(2)} ms (${count} PUBACKs)`);
  }
  if (summary.rowLatencyMs !== undefined) lines.push(`row latency  ${formatRowLatency(summary.rowLatencyMs)}`);
  if (summary.anomalies) lines.push(`anomalies    ${formatAnomalies(summary.anomalies)}`);
  if (summary.shadow) {
    const { applied, ignored, reported } = summary.shadow;
    lines.push(`shadow       ${applied} deltas applied, ${ignored} ignored, ${reported} reports sent`);
  }
  if (summary.faults) lines.push(`faults       ${formatFaults(summary.faults, summary.qos)}`);
  if (summary.shards) lines.push(`shards       ${summary.shards.length} processes, ${summary.shards.map((s) => `${s.devices} devices / ${s.sent} sent`).join(', ')}`);
  return lines.join('\n');
}
