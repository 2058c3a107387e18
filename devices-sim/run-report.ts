// The --report files: the run's summary plus what is needed to compare it with another run
// (when, with which options, on which commit, machine and versions), as JSON and as a one-row
// CSV. Pure: main.ts gathers the environment and writes the files.

import type { FleetOptions } from './options.js';
import type { Summary } from './report.js';
import type { RunEnvironment } from './run-environment.js';

/** How the run ended: its duration elapsed, a signal stopped it, or it failed (no connection). */
export type RunOutcome = 'completed' | 'interrupted' | 'failed';

export interface RunReport extends RunEnvironment {
  startedAt: string;
  endedAt: string;
  outcome: RunOutcome;
  options: {
    devices: number;
    /** msg/s per device */
    rate: number;
    /** 0..1 of the per-device interval (see --jitter) */
    jitter: number;
    qos: 0 | 1;
    /** QoS 1 publishes a device may have awaiting their PUBACK (--max-inflight) */
    maxInflight: number;
    /** the scheduler's period (--tick-ms) */
    tickMs: number;
    profile: string;
    /** null = no padding; "MIN-MAX" for sizes spread over a range */
    payloadBytes: number | string | null;
    /** 0 = until stopped */
    durationS: number;
    /** without user name and password */
    url: string;
    /** processes the fleet ran in (--shards) */
    shards: number;
    /** the --fault specs, space-separated; null without faults */
    faults: string | null;
  };
  /** msg/s over the fleet: offered = devices × rate; sent and acknowledged as achieved */
  rates: { offered: number; sent: number; acknowledged: number | null };
  counts: {
    durationS: number;
    connected: number;
    sent: number;
    acknowledged: number | null;
    errors: number;
    skipped: number;
    reconnects: number;
  };
  /** publish-to-PUBACK in ms (QoS 1); every member null otherwise, so CSV columns never move */
  pubackLatencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null; count: number };
  /** broker receipt to committed row in ms, from the server's /metrics (see row-latency.ts); every
   * member null when not measured */
  rowLatencyMs: { p50: number | null; p90: number | null; p99: number | null; mean: number | null; count: number | null; settled: boolean | null; datastores: string | null };
  /** what injected faults did (see FaultStats); every member null without --fault */
  faults: {
    disconnects: number | null;
    reconnects: number | null;
    vanished: number | null;
    inflightAtDisconnect: number | null;
    redelivered: number | null;
    lost: number | null;
  };
}

/** The URL with any user name and password removed (a report is meant to be shared). */
export function urlWithoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    // not parseable as a URL: drop a "user:pass@" authority part all the same
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

export function buildRunReport(
  summary: Summary,
  options: Pick<FleetOptions, 'devices' | 'rate' | 'qos' | 'maxInflight' | 'tickMs' | 'profile' | 'payloadBytes' | 'payloadBytesMax' | 'durationS' | 'url'> & { shards?: number; jitter?: number },
  run: { startedAt: Date; endedAt: Date; outcome: RunOutcome },
  environment: RunEnvironment,
): RunReport {
  const qos1 = summary.qos === 1;
  const latency = summary.latencyMs;
  return {
    startedAt: run.startedAt.toISOString(),
    endedAt: run.endedAt.toISOString(),
    outcome: run.outcome,
    commit: environment.commit,
    machine: { ...environment.machine },
    versions: { ...environment.versions },
    options: {
      devices: options.devices,
      rate: options.rate,
      jitter: options.jitter ?? 0,
      qos: options.qos,
      maxInflight: options.maxInflight,
      tickMs: options.tickMs,
      profile: options.profile,
      payloadBytes: options.payloadBytesMax === undefined ? options.payloadBytes ?? null : `${options.payloadBytes}-${options.payloadBytesMax}`,
      durationS: options.durationS,
      url: urlWithoutCredentials(options.url),
      shards: options.shards ?? 1,
      faults: summary.faults ? summary.faults.specs.join(' ') : null,
    },
    rates: {
      offered: round1(options.devices * options.rate),
      sent: summary.msgPerSec,
      acknowledged: qos1 ? (summary.durationS > 0 ? round1(summary.acknowledged / summary.durationS) : 0) : null,
    },
    counts: {
      durationS: summary.durationS,
      connected: summary.connected,
      sent: summary.sent,
      acknowledged: qos1 ? summary.acknowledged : null,
      errors: summary.errors,
      skipped: summary.skipped,
      reconnects: summary.reconnects,
    },
    pubackLatencyMs: latency
      ? { p50: latency.p50, p90: latency.p90, p99: latency.p99, max: latency.max, count: latency.count }
      : { p50: null, p90: null, p99: null, max: null, count: 0 },
    rowLatencyMs: rowLatency(summary),
    faults: faultCounts(summary),
  };
}

function rowLatency(summary: Summary): RunReport['rowLatencyMs'] {
  const r = summary.rowLatencyMs;
  if (!r) return { p50: null, p90: null, p99: null, mean: null, count: null, settled: null, datastores: null };
  return { p50: r.p50, p90: r.p90, p99: r.p99, mean: r.meanMs, count: r.count, settled: r.settled, datastores: r.datastores.join(' ') };
}

function faultCounts(summary: Summary): RunReport['faults'] {
  const f = summary.faults;
  if (!f) return { disconnects: null, reconnects: null, vanished: null, inflightAtDisconnect: null, redelivered: null, lost: null };
  const qos1 = summary.qos === 1;
  return {
    disconnects: f.disconnects,
    reconnects: f.reconnects,
    vanished: f.vanished,
    inflightAtDisconnect: qos1 ? f.inflightAtDisconnect : null,
    redelivered: qos1 ? f.redelivered : null,
    lost: qos1 ? f.lost : null,
  };
}

type Flat = Record<string, string | number | boolean | null>;

/** Nested objects become dotted keys ({a: {b: 1}} -> {"a.b": 1}); arrays are kept as JSON text. */
export function flatten(value: object, prefix = '', into: Flat = {}): Flat {
  for (const [key, member] of Object.entries(value)) {
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (member !== null && typeof member === 'object' && !Array.isArray(member)) flatten(member as object, name, into);
    else if (Array.isArray(member)) into[name] = JSON.stringify(member);
    else if (member !== undefined) into[name] = member as string | number | boolean | null;
  }
  return into;
}

/** One RFC 4180 field: quoted when it holds a comma, a quote or a line break; quotes doubled. */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A header row and one data row, CRLF-terminated as RFC 4180 says. */
export function toCsv(value: object): string {
  const flat = flatten(value);
  const keys = Object.keys(flat);
  return `${keys.map(csvField).join(',')}\r\n${keys.map((key) => csvField(flat[key])).join(',')}\r\n`;
}
