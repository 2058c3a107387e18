// Dataset query latency on a large datastore: 10 million rows (1000 devices, one week) by default,
// the same query set three ways in one run:
//  - ours: each query as a dataset through the facade's runDataset(): Presto translation,
//    read-only transaction, time limit, result conversion to JSON-safe rows, as
//    /api/datasets/{name}/run does;
//  - raw DuckDB: the same SQL (DuckDB's quoting) straight to the engine under the facade, on a
//    copy of the same file (analytics/datastore/duckdb.ts select(): still a read-only transaction
//    on a fresh connection and the same conversion of the result to JS values): our storage's limit;
//  - InfluxDB 1.6 (Debian's package, bench/peers/influxdb.ts) holding the same points (measurement
//    `telemetry`, tag `device`, fields temperature and humidity, millisecond times), loaded as line
//    protocol over HTTP /write, queried with the InfluxQL equivalents over HTTP /query.
// The engines take turns query by query, round by round, so a busy moment of a shared machine
// falls on all of them. The rows are bulk-loaded into a real analytics datastore table through the same DuckDB appender
// the batching writer uses (the facade has no SQL write path, and dataset SQL is read-only).
// Run: npm run bench -- query-latency   (BENCH_QUERY_ROWS, default 10 000 000; BENCH_QUERY_RUNS,
// default 10; BENCH_INFLUX_BATCH, points per /write while loading InfluxDB, default 20 000)
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAnalytics } from '../analytics/index.js';
import { openEngine } from '../analytics/datastore/duckdb.js';
import type { Column } from '../analytics/datastore/schema.js';
import { machineHeader, table } from './machine.js';
import { startInfluxDB, type InfluxPeer } from './peers/influxdb.js';

const ROWS = Number(process.env.BENCH_QUERY_ROWS ?? 10_000_000);
const RUNS = Number(process.env.BENCH_QUERY_RUNS ?? 10);
const DEVICES = 1000;
const WEEK_MS = 7 * 86_400_000;
const START = Date.UTC(2025, 0, 6); // a Monday, 00:00 UTC
const BATCH = 100_000;
const INFLUX_BATCH = Number(process.env.BENCH_INFLUX_BATCH ?? 20_000);
const INFLUX_DB = 'bench';
const PER_DEVICE = Math.ceil(ROWS / DEVICES);
const STEP_MS = WEEK_MS / PER_DEVICE; // each device reports evenly over the week

/** The columns the writer would create for {device, temperature, humidity} payloads. */
const ATTRIBUTES: Column[] = [
  { name: 'device', type: 'VARCHAR' },
  { name: 'temperature', type: 'DOUBLE' },
  { name: 'humidity', type: 'DOUBLE' },
];

const DAY = '2025-01-08'; // a Wednesday inside the generated week
const NEXT_DAY = '2025-01-09';
const WEEK_FROM = '2025-01-06';
const WEEK_TO = '2025-01-13';
/**
 * `sql` is Presto as an AWS user writes a dataset (back-quoted `__dt`); raw DuckDB runs the same
 * text with DuckDB's double quotes. `influxql` asks InfluxDB for the same answer: the same rows
 * (fill(none) leaves out empty buckets, as GROUP BY does), the same aggregates.
 */
const QUERIES: { name: string; what: string; sql: string; influxql: string }[] = [
  {
    name: 'latest_per_device',
    what: 'latest value per device',
    sql: 'SELECT device, max_by(temperature, `__dt`) AS temperature, max(`__dt`) AS at FROM telemetry GROUP BY device',
    influxql: 'SELECT last(temperature) FROM telemetry GROUP BY "device"',
  },
  {
    name: 'device_day_by_minute',
    what: "one device's day in 1-minute buckets",
    sql:
      "SELECT date_trunc('minute', `__dt`) AS minute, avg(temperature) AS avg_t, min(temperature) AS min_t, max(temperature) AS max_t, count(*) AS n " +
      `FROM telemetry WHERE device = 'dev-42' AND \`__dt\` >= TIMESTAMP '${DAY} 00:00:00' AND \`__dt\` < TIMESTAMP '${DAY} 00:00:00' + INTERVAL '1' DAY ` +
      'GROUP BY 1 ORDER BY 1',
    influxql:
      'SELECT mean(temperature), min(temperature), max(temperature), count(temperature) FROM telemetry ' +
      `WHERE "device" = 'dev-42' AND time >= '${DAY}T00:00:00Z' AND time < '${NEXT_DAY}T00:00:00Z' GROUP BY time(1m) fill(none)`,
  },
  {
    name: 'fleet_week_by_hour',
    what: 'all devices in 1-hour buckets over a week',
    sql:
      "SELECT device, date_trunc('hour', `__dt`) AS hour, avg(temperature) AS avg_t, max(humidity) AS max_h FROM telemetry " +
      `WHERE \`__dt\` >= TIMESTAMP '${WEEK_FROM} 00:00:00' AND \`__dt\` < TIMESTAMP '${WEEK_TO} 00:00:00' GROUP BY 1, 2 ORDER BY 1, 2`,
    influxql:
      'SELECT mean(temperature), max(humidity) FROM telemetry ' +
      `WHERE time >= '${WEEK_FROM}T00:00:00Z' AND time < '${WEEK_TO}T00:00:00Z' GROUP BY time(1h), "device" fill(none)`,
  },
  {
    name: 'last_hour_per_device',
    what: 'mean per device over the last hour',
    sql:
      'SELECT device, avg(temperature) AS avg_t FROM telemetry ' +
      `WHERE \`__dt\` >= TIMESTAMP '${WEEK_TO} 00:00:00' - INTERVAL '1' HOUR AND \`__dt\` < TIMESTAMP '${WEEK_TO} 00:00:00' GROUP BY device`,
    influxql: `SELECT mean(temperature) FROM telemetry WHERE time >= '${WEEK_TO}T00:00:00Z' - 1h AND time < '${WEEK_TO}T00:00:00Z' GROUP BY "device"`,
  },
  {
    name: 'fleet_day_by_hour',
    what: 'all devices together, one day in 1-hour buckets',
    sql:
      "SELECT date_trunc('hour', `__dt`) AS hour, avg(temperature) AS avg_t FROM telemetry " +
      `WHERE \`__dt\` >= TIMESTAMP '${DAY} 00:00:00' AND \`__dt\` < TIMESTAMP '${NEXT_DAY} 00:00:00' GROUP BY 1 ORDER BY 1`,
    influxql: `SELECT mean(temperature) FROM telemetry WHERE time >= '${DAY}T00:00:00Z' AND time < '${NEXT_DAY}T00:00:00Z' GROUP BY time(1h) fill(none)`,
  },
  {
    name: 'device_raw_hour',
    what: "one device's raw rows over an hour",
    sql:
      'SELECT `__dt`, temperature, humidity FROM telemetry ' +
      `WHERE device = 'dev-42' AND \`__dt\` >= TIMESTAMP '${DAY} 12:00:00' AND \`__dt\` < TIMESTAMP '${DAY} 13:00:00' ORDER BY 1`,
    influxql: `SELECT temperature, humidity FROM telemetry WHERE "device" = 'dev-42' AND time >= '${DAY}T12:00:00Z' AND time < '${DAY}T13:00:00Z'`,
  },
  {
    name: 'week_count',
    what: 'count over the week',
    sql: `SELECT count(*) AS n FROM telemetry WHERE \`__dt\` >= TIMESTAMP '${WEEK_FROM} 00:00:00' AND \`__dt\` < TIMESTAMP '${WEEK_TO} 00:00:00'`,
    influxql: `SELECT count(temperature) FROM telemetry WHERE time >= '${WEEK_FROM}T00:00:00Z' AND time < '${WEEK_TO}T00:00:00Z'`,
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

interface Timed { times: number[]; rows: number }
interface Engine { name: string; run: (q: (typeof QUERIES)[number]) => Promise<number> }

/**
 * One warm-up run per engine (the first touch of the columns it reads), then RUNS rounds in which
 * every engine runs the query once, the order rotating by round, so that whatever else the machine
 * is doing falls on all engines alike. Returns each engine's times, sorted, and its result rows.
 */
async function timeInterleaved(q: (typeof QUERIES)[number], engines: readonly Engine[]): Promise<Map<string, Timed>> {
  const timed = new Map<string, Timed>(engines.map((e) => [e.name, { times: [], rows: 0 }]));
  for (const e of engines) timed.get(e.name)!.rows = await e.run(q);
  for (let r = 0; r < RUNS; r++) {
    for (let j = 0; j < engines.length; j++) {
      const e = engines[(r + j) % engines.length];
      const started = performance.now();
      const rows = await e.run(q);
      const t = timed.get(e.name)!;
      t.times.push(performance.now() - started);
      t.rows = rows;
    }
  }
  for (const t of timed.values()) t.times.sort((x, y) => x - y);
  return timed;
}

/** Reading i: device i % DEVICES, its reading number floor(i / DEVICES), evenly over the week. */
function reading(i: number): { at: number; device: number; temperature: number; humidity: number } {
  const device = i % DEVICES;
  const k = Math.floor(i / DEVICES);
  const at = START + Math.floor(k * STEP_MS) + device;
  // a daily temperature cycle per device plus a little noise
  const temperature = 20 + 5 * Math.sin((2 * Math.PI * (at % 86_400_000)) / 86_400_000) + (device % 7) + ((i * 7919) % 100) / 100;
  return { at, device, temperature, humidity: 30 + ((i * 31) % 50) };
}

/** Fills the datastore's table through the appender, BATCH rows per commit. */
async function bulkLoad(file: string): Promise<{ seconds: number; version: string }> {
  const engine = await openEngine(file);
  try {
    const sink = await engine.openSink('telemetry');
    await sink.addColumns(ATTRIBUTES);
    const columns: Column[] = [{ name: '__dt', type: 'TIMESTAMP' }, ...ATTRIBUTES];
    const started = performance.now();
    const batch: unknown[][] = [];
    for (let i = 0; i < ROWS; i++) {
      const r = reading(i);
      batch.push([r.at, `dev-${r.device}`, r.temperature, r.humidity]);
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

/** The same readings as points, INFLUX_BATCH per /write; the next body is built while one is in flight. */
async function influxLoad(influx: InfluxPeer): Promise<number> {
  await influx.createDatabase(INFLUX_DB);
  const started = performance.now();
  let pending: Promise<void> = Promise.resolve();
  let lines: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    const r = reading(i);
    lines.push(`telemetry,device=dev-${r.device} temperature=${r.temperature},humidity=${r.humidity} ${r.at}`);
    if (lines.length === INFLUX_BATCH || i === ROWS - 1) {
      const body = lines.join('\n');
      lines = [];
      await pending;
      pending = influx.write(INFLUX_DB, body, 'ms');
    }
  }
  await pending;
  return (performance.now() - started) / 1000;
}

function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'iotcore-bench-'));
const results = new Map<string, Map<string, Timed>>();
let load: { seconds: number; version: string };
let duckdbBytes = 0;
let influxLine = '';
let rssLine = '';
let influx: InfluxPeer | null = null;
try {
  // 1. a real analytics data directory with the datastore registered
  const setup = await openAnalytics({ dataDir: dir });
  await setup.createDatastore({ datastoreName: 'telemetry' });
  await setup.close();
  // 2. bulk load its table; a copy of the file for the raw engine, since one process cannot open
  //    one file twice (duckdb.ts refuses it) and the facade holds the original
  const file = join(dir, 'iotcore.duckdb');
  load = await bulkLoad(file);
  duckdbBytes = fileBytes(file) + fileBytes(`${file}.wal`);
  const rawFile = join(dir, 'raw-copy.duckdb');
  copyFileSync(file, rawFile);
  // 3. InfluxDB with the same points, loaded while DuckDB is idle
  let influxLoadS = 0;
  try {
    influx = await startInfluxDB();
    influxLoadS = await influxLoad(influx);
  } catch (err) {
    influxLine = `InfluxDB not measured: ${(err as Error).message}`;
    await influx?.stop();
    influx = null;
  }
  const settleS = influx ? await influx.settle(600_000) : 0;
  // 4. the facade as the product opens it, the raw engine on the copy; every query on each
  const analytics = await openAnalytics({ dataDir: dir, datasetTimeoutMs: 300_000, database: { maxResultRows: 1_000_000 } });
  const engine = await openEngine(rawFile);
  const memory = peakRss();
  try {
    for (const q of QUERIES) await analytics.datasets.create({ datasetName: q.name, actions: [{ actionName: 'q', queryAction: { sqlQuery: q.sql } }] });
    const engines: Engine[] = [
      { name: 'ours', run: async (q) => (await analytics.runDataset(q.name)).rows.length },
      // DuckDB quotes identifiers with double quotes where Presto uses back quotes
      { name: 'raw DuckDB', run: async (q) => (await engine.select(q.sql.replace(/`/g, '"'), { timeoutMs: 300_000, maxRows: 1_000_000 })).rows.length },
    ];
    const peer = influx;
    if (peer) engines.push({ name: 'InfluxDB', run: async (q) => (await peer.query(INFLUX_DB, q.influxql)).rows });
    for (const q of QUERIES) results.set(q.name, await timeInterleaved(q, engines));
  } finally {
    rssLine = `peak RSS of the bench process (both DuckDB instances) while querying ${Math.round(memory.stop() / 2 ** 20)} MiB`;
    await engine.close();
    await analytics.close();
  }
  if (influx) {
    // one point per reading: a repeated (series, time) would have replaced an earlier point
    const counted = (await influx.query(INFLUX_DB, 'SELECT count(temperature) FROM telemetry')).series[0]?.values[0]?.[1];
    influxLine =
      `InfluxDB ${influx.version}: load as line protocol, ${INFLUX_BATCH} points per /write: ${influxLoadS.toFixed(1)} s (${Math.round(ROWS / influxLoadS)} points/s, ` +
      `${counted === ROWS ? 'all' : `only ${String(counted)} of`} ${ROWS} points stored), then ${settleS.toFixed(0)} s until its background snapshots and ` +
      `compactions were done; ${(influx.diskBytes() / 2 ** 20).toFixed(0)} MiB on disk (data + WAL); influxd peak RSS ${Math.round(influx.peakRssBytes() / 2 ** 20)} MiB; ` +
      `${influx.writeRetries} writes retried on a full cache`;
  }
} finally {
  await influx?.stop();
  rmSync(dir, { recursive: true, force: true });
}

console.log(machineHeader(`dataset query latency (DuckDB ${load.version}), ${ROWS} rows = ${DEVICES} devices × ${PER_DEVICE} readings over one week`));
console.log(`DuckDB bulk load through the appender: ${load.seconds.toFixed(1)} s (${Math.round(ROWS / load.seconds)} rows/s), ${(duckdbBytes / 2 ** 20).toFixed(0)} MiB file; ${rssLine}`);
console.log(influxLine);
console.log(`${RUNS} timed rounds per query after one warm-up run each, the engines taking turns; p99 of ${RUNS} runs is their slowest`);
const ms = (t: Timed | undefined, p: number): string => (t ? percentile(t.times, p).toFixed(1) : '-');
const ratio = (a: Timed | undefined, b: Timed | undefined): string => (a && b ? (percentile(a.times, 50) / percentile(b.times, 50)).toFixed(2) : '-');
const rows = QUERIES.map((q) => {
  const [ours, raw, peer] = ['ours', 'raw DuckDB', 'InfluxDB'].map((n) => results.get(q.name)?.get(n));
  const counts = [...new Set([ours, raw, peer].filter((t): t is Timed => !!t).map((t) => t.rows))];
  return {
    query: q.what,
    'result rows': counts.length === 1 ? String(counts[0]) : `differ: ${[ours, raw, peer].map((t) => t?.rows ?? '-').join('/')}`,
    'ours p50 ms': ms(ours, 50),
    'ours p99': ms(ours, 99),
    'raw DuckDB p50': ms(raw, 50),
    'raw p99': ms(raw, 99),
    'InfluxDB p50': ms(peer, 50),
    'Influx p99': ms(peer, 99),
    'ours ÷ raw': ratio(ours, raw),
    'Influx ÷ ours': ratio(peer, ours),
  };
});
console.log(table(rows));
