// Dataset query latency on a large datastore: 10 million rows (1000 devices, one week) by default.
// The rows are bulk-loaded into a real analytics datastore table through the same DuckDB appender
// the batching writer uses (the facade has no SQL write path, and dataset SQL is read-only); each
// query then runs as a dataset through the facade's runDataset(): Presto translation, read-only
// transaction, time limit, result conversion to JSON-safe rows, as /api/datasets/{name}/run does.
// Run: npm run bench -- query-latency   (BENCH_QUERY_ROWS, default 10 000 000; BENCH_QUERY_RUNS, default 10)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAnalytics } from '../analytics/index.js';
import { openEngine } from '../analytics/datastore/duckdb.js';
import type { Column } from '../analytics/datastore/schema.js';
import { machineHeader, table } from './machine.js';

const ROWS = Number(process.env.BENCH_QUERY_ROWS ?? 10_000_000);
const RUNS = Number(process.env.BENCH_QUERY_RUNS ?? 10);
const DEVICES = 1000;
const WEEK_MS = 7 * 86_400_000;
const START = Date.UTC(2025, 0, 6); // a Monday, 00:00 UTC
const BATCH = 100_000;
const PER_DEVICE = Math.ceil(ROWS / DEVICES);
const STEP_MS = WEEK_MS / PER_DEVICE; // each device reports evenly over the week

/** The columns the writer would create for {device, temperature, humidity} payloads. */
const ATTRIBUTES: Column[] = [
  { name: 'device', type: 'VARCHAR' },
  { name: 'temperature', type: 'DOUBLE' },
  { name: 'humidity', type: 'DOUBLE' },
];

const DAY = '2025-01-08'; // a Wednesday inside the generated week
const QUERIES: { name: string; what: string; sql: string }[] = [
  {
    name: 'latest_per_device',
    what: 'latest value per device',
    sql: 'SELECT device, max_by(temperature, `__dt`) AS temperature, max(`__dt`) AS at FROM telemetry GROUP BY device',
  },
  {
    name: 'device_day_by_minute',
    what: "one device's day in 1-minute buckets",
    sql:
      "SELECT date_trunc('minute', `__dt`) AS minute, avg(temperature) AS avg_t, min(temperature) AS min_t, max(temperature) AS max_t, count(*) AS n " +
      `FROM telemetry WHERE device = 'dev-42' AND \`__dt\` >= TIMESTAMP '${DAY} 00:00:00' AND \`__dt\` < TIMESTAMP '${DAY} 00:00:00' + INTERVAL '1' DAY ` +
      'GROUP BY 1 ORDER BY 1',
  },
  {
    name: 'fleet_week_by_hour',
    what: 'all devices in 1-hour buckets over a week',
    sql:
      "SELECT device, date_trunc('hour', `__dt`) AS hour, avg(temperature) AS avg_t, max(humidity) AS max_h FROM telemetry " +
      "WHERE `__dt` >= TIMESTAMP '2025-01-06 00:00:00' AND `__dt` < TIMESTAMP '2025-01-13 00:00:00' GROUP BY 1, 2 ORDER BY 1, 2",
  },
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function peakRss(): { stop: () => number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  return { stop: () => (clearInterval(timer), Math.max(peak, process.memoryUsage().rss)) };
}

/** Fills the datastore's table: row i is device i % DEVICES, reading number floor(i / DEVICES). */
async function bulkLoad(file: string): Promise<{ seconds: number; version: string }> {
  const engine = await openEngine(file);
  try {
    const sink = await engine.openSink('telemetry');
    await sink.addColumns(ATTRIBUTES);
    const columns: Column[] = [{ name: '__dt', type: 'TIMESTAMP' }, ...ATTRIBUTES];
    const started = performance.now();
    const batch: unknown[][] = [];
    for (let i = 0; i < ROWS; i++) {
      const device = i % DEVICES;
      const k = Math.floor(i / DEVICES);
      // a daily temperature cycle per device plus a little noise
      const at = START + Math.floor(k * STEP_MS) + device;
      const temperature = 20 + 5 * Math.sin((2 * Math.PI * (at % 86_400_000)) / 86_400_000) + (device % 7) + ((i * 7919) % 100) / 100;
      batch.push([at, `dev-${device}`, temperature, 30 + ((i * 31) % 50)]);
      if (batch.length === BATCH) {
        await sink.appendRows(columns, batch);
        batch.length = 0;
      }
    }
    if (batch.length > 0) await sink.appendRows(columns, batch);
    sink.close();
    return { seconds: (performance.now() - started) / 1000, version: engine.version };
  } finally {
    await engine.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'iotcore-bench-'));
try {
  // 1. a real analytics data directory with the datastore registered
  const setup = await openAnalytics({ dataDir: dir });
  await setup.createDatastore({ datastoreName: 'telemetry' });
  await setup.close();
  // 2. bulk load its table
  const load = await bulkLoad(join(dir, 'iotcore.duckdb'));
  // 3. reopen as the product does and run each query as a dataset
  const analytics = await openAnalytics({ dataDir: dir, datasetTimeoutMs: 300_000, database: { maxResultRows: 1_000_000 } });
  const results: Record<string, string | number>[] = [];
  const memory = peakRss();
  try {
    for (const q of QUERIES) {
      await analytics.datasets.create({ datasetName: q.name, actions: [{ actionName: 'q', queryAction: { sqlQuery: q.sql } }] });
      await analytics.runDataset(q.name); // warm-up: the first touch of the columns it reads
      const times: number[] = [];
      let resultRows = 0;
      for (let r = 0; r < RUNS; r++) {
        const started = performance.now();
        resultRows = (await analytics.runDataset(q.name)).rows.length;
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      results.push({
        query: q.what,
        'result rows': resultRows,
        runs: times.length,
        'median ms': percentile(times, 50).toFixed(1),
        'p95 ms': percentile(times, 95).toFixed(1),
        'min ms': times[0].toFixed(1),
      });
    }
  } finally {
    await analytics.close();
  }
  const rss = memory.stop() / 2 ** 20;
  console.log(machineHeader(`dataset query latency (DuckDB ${load.version}), ${ROWS} rows = ${DEVICES} devices × ${PER_DEVICE} readings over one week`));
  console.log(`bulk load through the appender: ${load.seconds.toFixed(1)} s (${Math.round(ROWS / load.seconds)} rows/s); queries through runDataset(), ${RUNS} timed runs each after one warm-up; peak RSS while querying ${Math.round(rss)} MiB`);
  console.log(table(results));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
