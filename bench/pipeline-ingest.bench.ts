// Sustained ingest through the analytics facade: channel (raw archive on disk) → pipeline
// (filter → math → addAttributes) → datastore (batching writer → DuckDB), fed one message per
// ingest() call as a rule's channel action does (broker/wiring.ts). The rate counts rows committed
// to DuckDB from the first ingest until flush() returns. Next to it, measured in the same run with
// the same row shape: the raw DuckDB appender alone (pre-converted rows), the physical limit; and
// the facade again with 100 messages per ingest() call (BatchPutMessage), to show per-call cost.
// Peak RSS is the whole process's, sampled every 50 ms during each facade run.
// Run: npm run bench -- pipeline-ingest   (BENCH_INGEST_MESSAGES, default 300 000)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAnalytics } from '../analytics/index.js';
import { openEngine } from '../analytics/datastore/duckdb.js';
import type { Column } from '../analytics/datastore/schema.js';
import { machineHeader, table } from './machine.js';

const MESSAGES = Number(process.env.BENCH_INGEST_MESSAGES ?? 300_000);
/** messages in flight at once: many publishers whose rule actions run concurrently */
const IN_FLIGHT = 2000;
const DEVICES = 1000;
/** the writer's default batch (analytics/datastore/writer.ts), used for the raw appender too */
const BATCH = 5000;

/** The stored row shape: `__dt`, the payload's attributes, then what math and addAttributes add. */
const COLUMNS: Column[] = [
  { name: '__dt', type: 'TIMESTAMP' },
  { name: 'device', type: 'VARCHAR' },
  { name: 'ts', type: 'DOUBLE' },
  { name: 'temperature', type: 'DOUBLE' },
  { name: 'humidity', type: 'DOUBLE' },
  { name: 'temperature_f', type: 'DOUBLE' },
  { name: 'deviceId', type: 'VARCHAR' },
];

function payload(i: number, ts: number): Buffer {
  const device = `dev-${i % DEVICES}`;
  return Buffer.from(JSON.stringify({ device, ts, temperature: 15 + (i % 200) / 10, humidity: 40 + (i % 30) }));
}

function peakRss(): { stop: () => number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  return { stop: () => (clearInterval(timer), Math.max(peak, process.memoryUsage().rss)) };
}

interface PipelineRun { rowsPerSec: number; msgPerSec: number; rows: number; seconds: number; peakRssMiB: number; columns: string[] }

/** `perCall` messages per ingest() call: 1 as a rule's channel action, more as BatchPutMessage. */
async function throughPipeline(dataDir: string, perCall: number): Promise<PipelineRun> {
  const analytics = await openAnalytics({ dataDir });
  try {
    await analytics.createChannel({ channelName: 'telemetry_in' });
    await analytics.createDatastore({ datastoreName: 'telemetry' });
    await analytics.createPipeline({
      pipelineName: 'bench',
      pipelineActivities: [
        { channel: { name: 'from_channel', channelName: 'telemetry_in', next: 'plausible' } },
        { filter: { name: 'plausible', filter: 'temperature > -50 AND temperature < 150', next: 'fahrenheit' } },
        { math: { name: 'fahrenheit', attribute: 'temperature_f', math: 'temperature * 9 / 5 + 32', next: 'alias' } },
        { addAttributes: { name: 'alias', attributes: { device: 'deviceId' }, next: 'to_store' } },
        { datastore: { name: 'to_store', datastoreName: 'telemetry' } },
      ],
    });
    // payloads are built before the clock starts: the broker gets them as Buffers off the wire
    const now = Date.now();
    const payloads = Array.from({ length: MESSAGES }, (_, i) => payload(i, now + i));
    const memory = peakRss();
    const started = performance.now();
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < MESSAGES; i += perCall) {
      const receivedAt = Date.now();
      const msgs = payloads.slice(i, i + perCall).map((payload, j) => ({ payload, receivedAt, clientId: `dev-${(i + j) % DEVICES}`, topic: 'dt/telemetry' }));
      const p: Promise<void> = analytics.ingest('telemetry_in', msgs).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size * perCall >= IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await analytics.flush();
    const seconds = (performance.now() - started) / 1000;
    const peakRssMiB = memory.stop() / 2 ** 20;
    const rows = analytics.counters().datastores.telemetry.rowsWritten;
    // the stored columns, to check the raw appender writes the same shape
    await analytics.datasets.create({ datasetName: 'shape', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT * FROM telemetry LIMIT 1' } }] });
    const columns = (await analytics.runDataset('shape')).columns.map((c) => `${c.name}:${c.type}`);
    return { rowsPerSec: rows / seconds, msgPerSec: MESSAGES / seconds, rows, seconds, peakRssMiB, columns };
  } finally {
    await analytics.close();
  }
}

async function rawAppender(file: string): Promise<{ rowsPerSec: number; seconds: number; version: string }> {
  const engine = await openEngine(file);
  try {
    await engine.createTable('telemetry', COLUMNS);
    const sink = await engine.openSink('telemetry');
    const now = Date.now();
    // pre-converted rows in the writer's column order, one batch reused (conversion is not measured)
    const batch = Array.from({ length: BATCH }, (_, i) => {
      const t = 15 + (i % 200) / 10;
      return [now + i, `dev-${i % DEVICES}`, now + i, t, 40 + (i % 30), (t * 9) / 5 + 32, `dev-${i % DEVICES}`];
    });
    const started = performance.now();
    for (let done = 0; done < MESSAGES; done += BATCH) await sink.appendRows(COLUMNS, batch);
    const seconds = (performance.now() - started) / 1000;
    sink.close();
    return { rowsPerSec: MESSAGES / seconds, seconds, version: engine.version };
  } finally {
    await engine.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'iotcore-bench-'));
try {
  const raw = await rawAppender(join(dir, 'raw.duckdb'));
  const pipe = await throughPipeline(join(dir, 'single'), 1);
  const batched = await throughPipeline(join(dir, 'batched'), 100);
  console.log(machineHeader(`pipeline ingest (DuckDB ${raw.version}), ${MESSAGES} messages, ${DEVICES} devices, up to ${IN_FLIGHT} messages in flight`));
  console.log('pipeline: channel → filter → math → addAttributes → datastore; one message per ingest() call (a rule\'s channel action)');
  const expected = COLUMNS.map((c) => `${c.name}:${c.type}`).join(', ');
  const stored = pipe.columns.join(', ');
  console.log(`row shape: ${stored}${stored === expected ? '' : ` (raw appender used ${expected}: shapes differ!)`}`);
  console.log(
    table([
      { path: 'raw DuckDB appender (pre-converted rows, batches of 5000)', rows: MESSAGES, 'seconds': raw.seconds.toFixed(2), 'rows/s': Math.round(raw.rowsPerSec), 'peak RSS MiB': '-' },
      { path: 'facade, 1 message per ingest() (rule channel action)', rows: pipe.rows, 'seconds': pipe.seconds.toFixed(2), 'rows/s': Math.round(pipe.rowsPerSec), 'peak RSS MiB': Math.round(pipe.peakRssMiB) },
      { path: 'facade, 100 messages per ingest() (BatchPutMessage)', rows: batched.rows, 'seconds': batched.seconds.toFixed(2), 'rows/s': Math.round(batched.rowsPerSec), 'peak RSS MiB': Math.round(batched.peakRssMiB) },
    ]),
  );
  console.log(`one message per call reaches ${((pipe.rowsPerSec / raw.rowsPerSec) * 100).toFixed(1)} % of the raw appender (${Math.round(pipe.msgPerSec)} msg/s in)`);
  if (pipe.rows !== MESSAGES || batched.rows !== MESSAGES) {
    console.error(`expected ${MESSAGES} rows committed, got ${pipe.rows} and ${batched.rows}`);
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
