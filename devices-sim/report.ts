// The run's summary: counters, achieved rate and publish-to-PUBACK latency percentiles.
// Latencies go into a bounded reservoir (uniform sample of everything seen), so a long run at a
// high rate keeps memory flat while the percentiles stay representative.

import type { AnomalyStats } from './anomaly-injector.js';
import type { Random } from './random.js';

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

  summarize(): LatencySummary | null {
    if (this.seen === 0) return null;
    const sorted = this.samples.slice(0, this.kept).sort();
    return {
      p50: round3(percentile(sorted, 50) as number),
      p90: round3(percentile(sorted, 90) as number),
      p99: round3(percentile(sorted, 99) as number),
      max: round3(this.maxSeen),
      count: this.seen,
    };
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}


export function buildSummary(counters: Counters, durationMs: number, latency: LatencyRecorder | null, anomalies?: AnomalySummary, shadow?: ShadowSummary): Summary {
  const durationS = Math.max(0, durationMs) / 1000;
  return {
    ...counters,
    durationS: Math.round(durationS * 1000) / 1000,
    msgPerSec: durationS > 0 ? Math.round((counters.sent / durationS) * 10) / 10 : 0,
    latencyMs: counters.qos === 1 && latency ? latency.summarize() : null,
    ...(anomalies ? { anomalies } : {}),
    ...(shadow ? { shadow } : {}),
  };
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
  if (summary.anomalies) lines.push(`anomalies    ${formatAnomalies(summary.anomalies)}`);
  if (summary.shadow) {
    const { applied, ignored, reported } = summary.shadow;
    lines.push(`shadow       ${applied} deltas applied, ${ignored} ignored, ${reported} reports sent`);
  }
  return lines.join('\n');
}
