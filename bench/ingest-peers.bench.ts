// Ingest against its limits and a peer, in one run on one machine, at equal batch sizes:
//  1. ours end to end: simulator (own process, QoS 1, 200 devices × 100 msg/s offered, more than
//     2 cores can take) → MQTT → rule → channel → filter + math pipeline → DuckDB, the demo
//     configuration as e2e-ingest runs it; its rows as committed are kept. Batches: the writer's
//     (5000 rows or 50 ms, whichever first).
//  2. the same stored rows, repeated to BENCH_PEER_ROWS with times moved on so none repeats, for
//     each batch size B (1000, the writer's 5000, 10 000):
//     - ours without MQTT: the demo's channel, pipeline, datastore and detectors in the analytics
//       facade with the writer's batch set to B, fed the archived payloads one per ingest() call
//       as a rule's channel action does;
//     - the raw DuckDB appender (analytics/datastore/duckdb.ts), pre-converted rows, B per commit:
//       the physical limit of our storage;
//     - InfluxDB 1.6 (Debian's package, started by bench/peers/influxdb.ts): the same rows as line
//       protocol, B points per HTTP /write, one request at a time, bodies built before the clock.
//     The three take turns batch size by batch size; InfluxDB waits idle while the others run.
// Run: npm run bench -- ingest-peers   (BENCH_DURATION_S, default 10; BENCH_PEER_ROWS, default 300 000)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RESOURCES } from '../broker/index.js';
import { openAnalytics, type ArchivedMessage } from '../analytics/index.js';
import { openEngine } from '../analytics/datastore/duckdb.js';
import { columnTypeFromSql, convertForColumn, MISMATCH, type Column } from '../analytics/datastore/schema.js';
import { machineHeader, table } from './machine.js';
import { runE2E } from './e2e-run.js';
import { startInfluxDB, type InfluxPeer } from './peers/influxdb.js';
import { lineShape, toLine } from './peers/line-protocol.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const PEER_ROWS = Number(process.env.BENCH_PEER_ROWS ?? 300_000);
const DEVICES = 200;
const RATE = 100;
/** the batching writer's default batchRows (analytics/datastore/writer.ts DEFAULTS) */
const WRITER_BATCH = 5000;
const BATCHES = [1000, WRITER_BATCH, 10_000];
/** messages in flight into the facade: many publishers' rule actions at once (as pipeline-ingest) */
const IN_FLIGHT = 2000;
const STORE = DEFAULT_RESOURCES.datastores[0].datastoreName;
const CHANNEL = DEFAULT_RESOURCES.channels[0].channelName;

interface Measured { rows: number; commits: number; seconds: number }
const rate = (m: Measured): number => m.rows / m.seconds;

// ---------- 1. ours end to end, keeping what it stored and what it archived ----------

let columns: Column[] = [];
const archived: ArchivedMessage[] = [];
const e2e = await runE2E({
  devices: DEVICES,
  rate: RATE,
  durationS: DURATION_S,
  secure: false,
  keepRows: true,
  beforeStop: async (server) => {
    await server.analytics.datasets.create({ datasetName: 'peer_shape', actions: [{ actionName: 'q', queryAction: { sqlQuery: `SELECT * FROM ${STORE} LIMIT 1` } }] });
    columns = (await server.analytics.runDataset('peer_shape')).columns.map((c) => ({ name: c.name, type: columnTypeFromSql(c.type) }));
    for await (const m of server.analytics.readChannel(CHANNEL)) archived.push(m);
  },
});
if (e2e.rows.length === 0) throw new Error('the end-to-end step stored no rows; nothing to compare');
const ours: Measured = { rows: e2e.stored, commits: e2e.commits, seconds: e2e.stored / e2e.storedPerSec };

// ---------- 2. the peer row set ----------

/** The stored rows in column order, converted as the writer converts them (not timed). */
const base = e2e.rows.map((r) => columns.map((c) => {
  const v = convertForColumn(r[c.name] ?? null, c.type);
  return v === MISMATCH ? null : v;
}));
let [minDt, maxDt] = [Infinity, -Infinity];
for (const r of base) [minDt, maxDt] = [Math.min(minDt, Number(r[0])), Math.max(maxDt, Number(r[0]))];
const span = maxDt - minDt + 1;
/** Row i of the peer set: base row i mod n, its `__dt` moved on by whole passes over the set. */
function peerRow(i: number): { row: unknown[]; dt: number } {
  const row = base[i % base.length];
  return { row, dt: Number(row[0]) + Math.floor(i / base.length) * span };
}

function batchesOf<T>(size: number, make: (i: number) => T): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < PEER_ROWS; i += size) out.push(Array.from({ length: Math.min(size, PEER_ROWS - i) }, (_, j) => make(i + j)));
  return out;
}

// ---------- 3. the raw DuckDB appender ----------

async function rawAppender(file: string, batch: number): Promise<Measured & { version: string }> {
  const engine = await openEngine(file);
  try {
    await engine.createTable(STORE, columns);
    const sink = await engine.openSink(STORE);
    const batches = batchesOf(batch, (i) => {
      const { row, dt } = peerRow(i);
      return [dt, ...row.slice(1)];
    });
    const started = performance.now();
    for (const b of batches) await sink.appendRows(columns, b);
    const seconds = (performance.now() - started) / 1000;
    sink.close();
    return { rows: PEER_ROWS, commits: batches.length, seconds, version: engine.version };
  } finally {
    await engine.close();
  }
}

// ---------- 4. ours without MQTT: the demo's analytics resources, writer batch = B ----------

async function facade(dataDir: string, batch: number): Promise<Measured> {
  const analytics = await openAnalytics({ dataDir, database: { batchRows: batch } });
  try {
    for (const c of DEFAULT_RESOURCES.channels) await analytics.putChannel(c);
    for (const d of DEFAULT_RESOURCES.datastores) await analytics.putDatastore(d);
    for (const p of DEFAULT_RESOURCES.pipelines) await analytics.putPipeline(p);
    for (const d of DEFAULT_RESOURCES.detectors ?? []) await analytics.detectors.put(d);
    const started = performance.now();
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < PEER_ROWS; i++) {
      const m = archived[i % archived.length];
      const p: Promise<void> = analytics.ingest(CHANNEL, [{ payload: m.payload, receivedAt: Date.now(), clientId: m.clientId, topic: m.topic }]).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await analytics.flush();
    const seconds = (performance.now() - started) / 1000;
    const c = analytics.counters().datastores[STORE];
    return { rows: c.rowsWritten, commits: c.batches, seconds };
  } finally {
    await analytics.close();
  }
}

// ---------- 5. InfluxDB /write ----------

/** The device id is the series key (a tag), as an InfluxDB user would model it. */
const TAGS = columns.some((c) => c.name === 'deviceId') ? ['deviceId'] : [];
const shape = lineShape(STORE, columns, TAGS, '__dt');

async function influxWrite(influx: InfluxPeer, batch: number): Promise<Measured & { counted: number; settleS: number }> {
  const db = `ingest_b${batch}`;
  await influx.createDatabase(db);
  // Nanosecond times: `__dt` in ms plus the row's number, so two rows of one device committed in
  // the same millisecond stay two points (InfluxDB keeps one point per series and time).
  const bodies = batchesOf(batch, (i) => {
    const { row, dt } = peerRow(i);
    return toLine(shape, row, `${dt}${String(i % 1_000_000).padStart(6, '0')}`);
  }).map((lines) => lines.join('\n'));
  const started = performance.now();
  for (const body of bodies) await influx.write(db, body, 'ns');
  const seconds = (performance.now() - started) / 1000;
  // its snapshots and compactions run after the writes returned: let them finish before the next
  // measurement, whichever path it is
  const settleS = await influx.settle(60_000);
  const count = await influx.query(db, `SELECT count(*) FROM ${shape.measurement}`);
  const counted = Math.max(0, ...((count.series[0]?.values[0] ?? []).slice(1) as number[]));
  return { rows: PEER_ROWS, commits: bodies.length, seconds, counted, settleS };
}

// Batch size by batch size, each path in turn, so a busy moment of a shared machine does not fall
// on one path only. InfluxDB is started first and left idle (settled) while the others run.
const dir = mkdtempSync(join(tmpdir(), 'iotcore-bench-'));
const results: { path: string; batch: string; m: Measured }[] = [];
const pipelineAt = new Map<number, number>();
let duckdbVersion = '';
let influxLine = '';
let influx: InfluxPeer | null = null;
try {
  try {
    influx = await startInfluxDB();
  } catch (err) {
    influxLine = `InfluxDB not measured: ${(err as Error).message}`;
  }
  for (const batch of BATCHES) {
    const raw = await rawAppender(join(dir, `raw-${batch}.duckdb`), batch);
    duckdbVersion = raw.version;
    results.push({ path: 'raw DuckDB appender', batch: String(batch), m: raw });
    const m = await facade(join(dir, `facade-${batch}`), batch);
    pipelineAt.set(batch, rate(m));
    results.push({ path: 'ours without MQTT (facade, 1 msg per ingest)', batch: String(batch), m });
    if (influx) {
      try {
        const w = await influxWrite(influx, batch);
        results.push({ path: 'InfluxDB HTTP /write, line protocol', batch: String(batch), m: w });
        if (w.counted !== PEER_ROWS) influxLine += ` Batch ${batch}: ${w.counted} points counted, ${PEER_ROWS} written!`;
      } catch (err) {
        influxLine += ` Batch ${batch} not measured: ${(err as Error).message}.`;
      }
    }
  }
  if (influx) {
    influxLine = `InfluxDB ${influx.version}: one /write at a time, fsync per write (wal-fsync-delay 0s), ${influx.writeRetries} writes retried on a full cache; peak RSS ${Math.round(influx.peakRssBytes() / 2 ** 20)} MiB.${influxLine}`;
  }
} finally {
  await influx?.stop();
  rmSync(dir, { recursive: true, force: true });
}

console.log(machineHeader(`ingest vs the raw DuckDB appender (DuckDB ${duckdbVersion}) and InfluxDB, equal batch sizes`));
console.log(`ours end to end: ${DEVICES} devices × ${RATE} msg/s offered for ${DURATION_S} s, QoS 1; demo configuration (filter + math pipeline, 2 detectors); writer batches ≤ ${WRITER_BATCH} rows or 50 ms`);
console.log(`peers: the ${base.length} rows it stored (${columns.length} columns: ${columns.map((c) => `${c.name}:${c.type}`).join(', ')}), repeated to ${PEER_ROWS} rows with later times`);
const oursRate = rate(ours);
const rows = [{ path: 'ours end to end (sim → MQTT → rule → channel → pipeline → DuckDB)', batch: `≤${WRITER_BATCH}/50ms`, m: ours }, ...results].map(({ path, batch, m }) => {
  const r = rate(m);
  const same = pipelineAt.get(Number(batch));
  return {
    path,
    'batch rows': batch,
    rows: m.rows,
    'rows/commit': Math.round(m.rows / Math.max(1, m.commits)),
    seconds: m.seconds.toFixed(2),
    'rows/s': Math.round(r),
    '× ours e2e': (r / oursRate).toFixed(2),
    '× ours facade, same batch': same ? (r / same).toFixed(2) : '-',
  };
});
console.log(table(rows));
console.log(`ours end to end: ${e2e.sim.acknowledged} acknowledged, ${e2e.stored} stored (${Math.round(e2e.sim.msgPerSec)} msg/s sent)`);
console.log(influxLine);
