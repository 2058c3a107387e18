// Prometheus exposition for /metrics. The only file that imports prom-client. Counters live in
// the modules that own them as plain numbers; here they are read at scrape time (collect), so the
// hot path never touches the metrics library.
import { Registry, Gauge, collectDefaultMetrics } from 'prom-client';

export type Sample = { labels?: Record<string, string>; value: number };
export type MetricSource = { name: string; help: string; labelNames?: string[]; read: () => Sample[] };

export interface Metrics {
  render(): Promise<{ contentType: string; body: string }>;
}

export function createMetrics(sources: MetricSource[]): Metrics {
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
  return {
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
