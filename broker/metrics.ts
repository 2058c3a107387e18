// Prometheus exposition for /metrics. The only file that imports prom-client. Counters live in
// the modules that own them as plain numbers; here they are read at scrape time (collect), so the
// hot path never touches the metrics library. Histograms are kept the same way, as bucket counts
// their owner fills, and rendered as they are.
import { Registry, Gauge, collectDefaultMetrics, type Histogram } from 'prom-client';

export type Sample = { labels?: Record<string, string>; value: number };
export type MetricSource = { name: string; help: string; labelNames?: string[]; read: () => Sample[] };

/** One labelled histogram: `cumulative[i]` observations ≤ `bounds[i]`; `count` is the +Inf bucket. */
export type HistogramSample = { labels: Record<string, string>; bounds: readonly number[]; cumulative: readonly number[]; count: number; sum: number };
export type HistogramSource = { name: string; help: string; labelNames: string[]; read: () => HistogramSample[] };

export interface Metrics {
  render(): Promise<{ contentType: string; body: string }>;
}

/**
 * prom-client's Histogram only observes one value at a time; its registry renders any metric
 * object whose get() returns name, help, type and values, which is what this one does from the
 * counts its owner keeps. (The cast: the typings list only the library's own classes.)
 */
function registerSnapshotHistogram(registry: Registry, source: HistogramSource): void {
  const { name, help } = source;
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    reset() {},
    async get() {
      const values = source.read().flatMap(({ labels, bounds, cumulative, count, sum }) => [
        ...bounds.map((le, i) => ({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative[i] })),
        { metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count },
        { metricName: `${name}_sum`, labels, value: sum },
        { metricName: `${name}_count`, labels, value: count },
      ]);
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  registry.registerMetric(metric as unknown as Histogram);
}

export function createMetrics(sources: MetricSource[], histograms: HistogramSource[] = []): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'iotcore_process_' });
  for (const source of sources) {
    new Gauge({
      name: source.name,
      help: source.help,
      labelNames: source.labelNames ?? [],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of source.read()) {
          if (s.labels) this.set(s.labels, s.value);
          else this.set(s.value);
        }
      },
    });
  }
  for (const source of histograms) registerSnapshotHistogram(registry, source);
  return {
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
