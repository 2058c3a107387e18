// Injects anomalies into one device's readings, after the profile produced them. The profile is
// called for every due publish either way (also while a dropout withholds it), so every reading
// outside an anomaly window is exactly what the same seed gives without anomalies.
//
// Windows are measured on the device's own clock (ms since its first message), and a label is
// closed by the first message past the window (or by finish() at the end of the run), so its
// startTs/endTs are the `ts` of messages really sent.

import { ANOMALY_KINDS, type AnomalyKind, type AnomalyLabel, type AnomalySpec } from './anomalies.js';
import { ENVIRONMENT_PROFILE } from './profiles/environment.js';
import { metricValue, type MetricSpec, type Reading } from './profiles/profile.js';
import { gaussian, type Random } from './random.js';

/** Random anomalies per device beyond which no more are started (counted in `randomCapped`). */
export const MAX_RANDOM_PER_DEVICE = 10_000;
/** Random windows last between these many seconds (spikes are one reading). */
const RANDOM_DURATION_S = [10, 60] as const;
/** What random anomalies are picked from: never a flood, which would multiply the load the run
 * was asked for (a flood is only injected when --anomaly names one). */
const RANDOM_KINDS = ANOMALY_KINDS.filter((k) => k !== 'flood');

/** Fleet-wide anomaly counters (one object shared by every device's injector). */
export interface AnomalyStats {
  /** anomalies with at least one anomalous (or, for dropout, withheld) message: one label each */
  injected: number;
  byKind: Record<AnomalyKind, number>;
  /** anomalies whose window produced no message (after the run ended, or while offline) */
  notReached: number;
  /** messages withheld by dropouts */
  withheld: number;
  /** random anomalies not started because a device reached MAX_RANDOM_PER_DEVICE */
  randomCapped: number;
}

export function createAnomalyStats(): AnomalyStats {
  const byKind = Object.fromEntries(ANOMALY_KINDS.map((k) => [k, 0])) as Record<AnomalyKind, number>;
  return { injected: 0, byKind, notReached: 0, withheld: 0, randomCapped: 0 };
}

interface Injection {
  spec: AnomalySpec;
  /** the window [startMs, endMs) on the device clock */
  startMs: number;
  endMs: number;
  messages: number;
  firstTs: number;
  lastTs: number;
  /** stuck: the value repeated */
  held: number | null;
  closed: boolean;
}

function injectionOf(spec: AnomalySpec): Injection {
  const startMs = spec.atS * 1000;
  const endMs = spec.kind === 'spike' ? Number.POSITIVE_INFINITY : startMs + spec.durationS * 1000;
  return { spec, startMs, endMs, messages: 0, firstTs: 0, lastTs: 0, held: null, closed: false };
}

export class DeviceAnomalies {
  /** the --anomaly injections, then (once one started) the current random one in the last slot */
  private readonly injections: Injection[];
  private readonly randomSlot: number;
  private randomInjection: Injection | null = null;
  private randomStarted = 0;
  /** device clock (ms) at which the next random anomaly starts */
  private nextRandomMs: number;
  /** -ln(1 - P): the Poisson rate per minute whose chance of at least one start per minute is P */
  private readonly randomPerMinute: number;
  private lastSent: Reading | null = null;
  /** random anomalies pick among these */
  private readonly metricNames: string[];

  constructor(
    private readonly deviceId: string,
    specs: readonly AnomalySpec[],
    /** this device's own stream for noise and random anomalies (not the profile's) */
    private readonly random: Random,
    ratePerMinute: number,
    private readonly stats: AnomalyStats,
    private readonly emit: (label: AnomalyLabel) => void,
    /** the profile's numeric metrics (ranges, resolution, default magnitudes); specs were
     * checked against them (resolveAnomalyDevices) */
    private readonly metrics: Readonly<Record<string, MetricSpec>> = ENVIRONMENT_PROFILE.metrics,
  ) {
    this.metricNames = Object.keys(metrics);
    this.injections = specs.map(injectionOf);
    this.randomSlot = this.injections.length;
    this.randomPerMinute = -Math.log(1 - ratePerMinute);
    this.nextRandomMs = this.randomPerMinute > 0 ? this.randomGapMs(0) : Number.POSITIVE_INFINITY;
  }

  /**
   * The reading to send at `nowMs` (epoch ms, the payload's ts), `elapsedMs` after the device's
   * first message, or null when a dropout withholds it. Call with non-decreasing times.
   */
  apply<R extends Reading>(reading: R, nowMs: number, elapsedMs: number): R | null {
    if (elapsedMs >= this.nextRandomMs) this.startRandom(elapsedMs);
    const all = this.injections; // includes the current random anomaly, if any
    for (const inj of all) {
      if (!inj.closed && elapsedMs >= inj.endMs) this.close(inj, elapsedMs);
    }

    let withheld = false;
    for (const inj of all) {
      if (inj.closed || elapsedMs < inj.startMs || inj.spec.kind !== 'dropout') continue;
      withheld = true;
      record(inj, nowMs);
    }
    if (withheld) {
      this.stats.withheld++;
      return null;
    }

    let out = reading;
    for (const inj of all) {
      if (inj.closed || elapsedMs < inj.startMs || inj.spec.kind === 'dropout') continue;
      if (inj.spec.kind === 'flood') {
        record(inj, nowMs); // every message of the window is part of the flood; readings stay normal
        continue;
      }
      const metric = inj.spec.metric!;
      out = { ...out, [metric]: this.inject(inj, out[metric] as number, elapsedMs) };
      record(inj, nowMs);
      if (inj.spec.kind === 'spike') this.close(inj, elapsedMs);
    }
    this.lastSent = out;
    return out;
  }

  /** Messages to send per scheduled one at `elapsedMs`: an open flood's factor, else 1. */
  messagesPerPublish(elapsedMs: number): number {
    let factor = 1;
    for (const inj of this.injections) {
      if (inj.spec.kind === 'flood' && !inj.closed && elapsedMs >= inj.startMs && elapsedMs < inj.endMs) factor = Math.max(factor, inj.spec.magnitude!);
    }
    return factor;
  }

  /** Closes every window still open (the run is over) and counts the ones never reached. */
  finish(): void {
    for (const inj of this.injections) if (!inj.closed) this.close(inj, Number.POSITIVE_INFINITY);
  }

  private inject(inj: Injection, value: number, elapsedMs: number): number {
    const { kind, magnitude, metric } = inj.spec;
    const m = magnitude ?? 0;
    const spec = this.metrics[metric!];
    switch (kind) {
      case 'spike':
      case 'shift':
        return metricValue(spec, value + m);
      case 'drift':
        return metricValue(spec, value + (m * (elapsedMs - inj.startMs)) / (inj.endMs - inj.startMs));
      case 'noise':
        return metricValue(spec, value + m * gaussian(this.random));
      case 'stuck':
        // a frozen sensor repeats what it last reported
        inj.held ??= (this.lastSent?.[metric!] as number | undefined) ?? value;
        return inj.held;
      case 'dropout':
      case 'flood':
        return value;
    }
  }

  private close(inj: Injection, elapsedMs: number): void {
    inj.closed = true;
    if (inj === this.randomInjection && this.randomPerMinute > 0) {
      this.nextRandomMs = this.randomGapMs(Math.min(elapsedMs, inj.endMs));
    }
    if (inj.messages === 0) {
      this.stats.notReached++;
      return;
    }
    this.stats.injected++;
    this.stats.byKind[inj.spec.kind]++;
    const { kind, metric, magnitude } = inj.spec;
    this.emit({ deviceId: this.deviceId, metric, kind, startTs: inj.firstTs, endTs: inj.lastTs, magnitude, messages: inj.messages });
  }

  /** Starts a random anomaly now; only one at a time per device, the next one after it ends. */
  private startRandom(elapsedMs: number): void {
    this.nextRandomMs = Number.POSITIVE_INFINITY; // until this one closes
    if (this.randomStarted >= MAX_RANDOM_PER_DEVICE) {
      this.stats.randomCapped++;
      this.nextRandomMs = this.randomGapMs(elapsedMs);
      return;
    }
    this.randomStarted++;
    const r = this.random;
    const kind = RANDOM_KINDS[Math.floor(r() * RANDOM_KINDS.length)];
    const metric = kind === 'dropout' ? null : this.metricNames[Math.floor(r() * this.metricNames.length)];
    const magnitude =
      kind === 'stuck' || kind === 'dropout' ? null : roundTo(this.metrics[metric!].anomaly[kind] * (0.5 + r()), Math.max(2, this.metrics[metric!].decimals));
    const [minS, maxS] = RANDOM_DURATION_S;
    const durationS = kind === 'spike' ? 0 : Math.round(minS + r() * (maxS - minS));
    this.randomInjection = injectionOf({ kind, metric, atS: elapsedMs / 1000, magnitude, durationS });
    this.injections[this.randomSlot] = this.randomInjection;
  }

  /** Exponential gap after `fromMs` (a Poisson process of the configured rate). */
  private randomGapMs(fromMs: number): number {
    return fromMs + (-Math.log(1 - this.random()) / this.randomPerMinute) * 60_000;
  }
}

function record(inj: Injection, nowMs: number): void {
  if (inj.messages === 0) inj.firstTs = nowMs;
  inj.lastTs = nowMs;
  inj.messages++;
}

function roundTo(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}
