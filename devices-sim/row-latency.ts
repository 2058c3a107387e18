// Publish-to-row latency for the summary and the report. The simulator only talks to the broker
// over the network, so it cannot see rows land; the server counts, per datastore, how long each
// row took from the broker receiving the message to the commit that made it queryable (the
// histogram iotcore_datastore_row_lag_seconds on /metrics). We read it before the run and again
// once the rows stop coming, and take percentiles of the difference.
//
// What that leaves out: the time a message spends between the device and the broker reading it
// (network, socket buffers), which publish-to-PUBACK covers for QoS 1. Rows other publishers
// wrote to the same datastores during the run are counted too; --datastore narrows it to one.
// Percentiles are interpolated within buckets, as Prometheus' histogram_quantile does; beyond the
// last finite bucket (600 s) the last bound is reported.

import { SimError } from './errors.js';

export const ROW_LAG_METRIC = 'iotcore_datastore_row_lag_seconds';

/** One datastore's histogram: `cumulative[i]` rows with lag ≤ `bounds[i]` s; `count` is +Inf. */
export interface LagHistogram {
  bounds: number[];
  cumulative: number[];
  count: number;
  sumS: number;
}

export interface RowLatencySummary {
  /** interpolated percentiles of receive-to-commit time in ms; null when no row was counted */
  p50: number | null;
  p90: number | null;
  p99: number | null;
  meanMs: number | null;
  /** rows committed during the run (from the first read of /metrics to the last) */
  count: number;
  /** the datastores whose rows are counted */
  datastores: string[];
  /** false: rows were still being committed when the wait ended (the figures miss the latest) */
  settled: boolean;
}

export interface RowLatencyOptions {
  metricsUrl: string;
  /** count one datastore only; default all */
  datastore?: string;
}

/** How long finish() waits for the row count to stop moving, and how often it reads. */
export interface SettleOptions {
  quietMs?: number;
  timeoutMs?: number;
  pollMs?: number;
}

const SETTLE_DEFAULTS = { quietMs: 1000, timeoutMs: 30_000, pollMs: 250 };
const FETCH_TIMEOUT_MS = 5000;

/** The histogram's samples from Prometheus text, by datastore label. */
export function parseRowLag(text: string): Map<string, LagHistogram> {
  const byStore = new Map<string, LagHistogram>();
  const store = (name: string): LagHistogram => {
    let h = byStore.get(name);
    if (!h) byStore.set(name, (h = { bounds: [], cumulative: [], count: 0, sumS: 0 }));
    return h;
  };
  for (const line of text.split('\n')) {
    if (!line.startsWith(ROW_LAG_METRIC)) continue;
    const sample = /^([a-z_]+)\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!sample) continue;
    const [, name, labelText, valueText] = sample;
    const labels = parseLabels(labelText);
    const value = Number(valueText);
    if (labels.datastore === undefined || !Number.isFinite(value)) continue;
    const h = store(labels.datastore);
    if (name === `${ROW_LAG_METRIC}_bucket` && labels.le !== undefined) {
      if (labels.le === '+Inf') continue; // the same as _count
      h.bounds.push(Number(labels.le));
      h.cumulative.push(value);
    } else if (name === `${ROW_LAG_METRIC}_count`) h.count = value;
    else if (name === `${ROW_LAG_METRIC}_sum`) h.sumS = value;
  }
  return byStore;
}

/** `k="v",...` with the text format's escapes (\\, \", \n) undone. */
function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [, key, raw] of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    labels[key] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

/** The rows of `after` that `before` did not have. A datastore new since then counts whole, and
 * so does one whose counts went down (the server restarted, or the datastore was recreated). */
export function lagSince(after: LagHistogram, before: LagHistogram | undefined): LagHistogram {
  if (!before || after.count < before.count) return after;
  return {
    bounds: after.bounds,
    cumulative: after.cumulative.map((n, i) => n - (before.cumulative[i] ?? 0)),
    count: after.count - before.count,
    sumS: after.sumS - before.sumS,
  };
}

/** Several datastores as one histogram (the server gives them all the same buckets). */
export function mergeLag(parts: readonly LagHistogram[]): LagHistogram {
  const bounds = parts[0]?.bounds ?? [];
  const merged: LagHistogram = { bounds, cumulative: bounds.map(() => 0), count: 0, sumS: 0 };
  for (const h of parts) {
    if (h.bounds.length !== bounds.length || h.bounds.some((b, i) => b !== bounds[i])) {
      throw new SimError('MetricsUnavailableException', `${ROW_LAG_METRIC}: datastores report different buckets`);
    }
    h.cumulative.forEach((n, i) => (merged.cumulative[i] += n));
    merged.count += h.count;
    merged.sumS += h.sumS;
  }
  return merged;
}

/** The q-quantile (0..1) in seconds, linear within its bucket; null for an empty histogram. */
export function lagQuantile(h: LagHistogram, q: number): number | null {
  if (h.count <= 0) return null;
  const rank = q * h.count;
  let below = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    if (h.cumulative[i] >= rank && h.cumulative[i] > below) {
      const lower = i === 0 ? 0 : h.bounds[i - 1];
      return lower + ((h.bounds[i] - lower) * (rank - below)) / (h.cumulative[i] - below);
    }
    below = h.cumulative[i];
  }
  return h.bounds.at(-1) ?? null; // in the +Inf bucket: at least the last bound
}

export function summarizeLag(h: LagHistogram, datastores: string[], settled: boolean): RowLatencySummary {
  const ms = (q: number) => {
    const s = lagQuantile(h, q);
    return s === null ? null : Math.round(s * 10_000) / 10;
  };
  return {
    p50: ms(0.5),
    p90: ms(0.9),
    p99: ms(0.99),
    meanMs: h.count > 0 ? Math.round((h.sumS / h.count) * 10_000) / 10 : null,
    count: h.count,
    datastores,
    settled,
  };
}

/** Reads the histogram before the run; finish() reads it until the rows stop coming. */
export class RowLatencyProbe {
  private constructor(
    private readonly options: RowLatencyOptions,
    private readonly baseline: Map<string, LagHistogram>,
  ) {}

  /** MetricsUnavailableException when /metrics cannot be read, lacks the histogram or the datastore. */
  static async start(options: RowLatencyOptions): Promise<RowLatencyProbe> {
    return new RowLatencyProbe(options, await readLag(options));
  }

  async finish(settle: SettleOptions = {}): Promise<RowLatencySummary> {
    const { quietMs, timeoutMs, pollMs } = { ...SETTLE_DEFAULTS, ...settle };
    const started = Date.now();
    let last = this.since(await readLag(this.options));
    let quietSince = Date.now();
    let settled = false;
    while (Date.now() - started < timeoutMs) {
      if (Date.now() - quietSince >= quietMs) {
        settled = true;
        break;
      }
      await new Promise((r) => setTimeout(r, pollMs));
      const now = this.since(await readLag(this.options));
      if (now.histogram.count !== last.histogram.count) quietSince = Date.now();
      last = now;
    }
    return summarizeLag(last.histogram, last.datastores, settled);
  }

  private since(current: Map<string, LagHistogram>): { histogram: LagHistogram; datastores: string[] } {
    const datastores = [...current.keys()].sort();
    return { histogram: mergeLag(datastores.map((d) => lagSince(current.get(d)!, this.baseline.get(d)))), datastores };
  }
}

async function readLag({ metricsUrl, datastore }: RowLatencyOptions): Promise<Map<string, LagHistogram>> {
  let text: string;
  try {
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    text = await res.text();
  } catch (error) {
    // fetch says "fetch failed"; the cause says why (ECONNREFUSED, bad port, ...)
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new SimError('MetricsUnavailableException', `reading ${metricsUrl} failed: ${reason}`);
  }
  if (!text.includes(`# TYPE ${ROW_LAG_METRIC} histogram`)) {
    throw new SimError('MetricsUnavailableException', `${metricsUrl} has no ${ROW_LAG_METRIC} (not an iotcore server, or an older one)`);
  }
  const all = parseRowLag(text);
  if (datastore === undefined) return all;
  const one = all.get(datastore);
  if (!one) throw new SimError('MetricsUnavailableException', `${metricsUrl} reports no datastore "${datastore}" (it has: ${[...all.keys()].join(', ') || 'none'})`);
  return new Map([[datastore, one]]);
}
