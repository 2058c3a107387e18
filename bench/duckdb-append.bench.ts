// Datastore write throughput: raw appender batches (the sink under the writer) versus the full
// batching writer (schema mapping, conversion, commit per batch). Prints machine and versions.
// Run: npx tsx bench/duckdb-append.bench.ts [rows]
// (Prepared single-row INSERTs are not measured here: only analytics/datastore/duckdb.ts may import
// DuckDB, and ARCHITECTURE.md records them at ~1.5k rows/s against the appender's ~600-800k.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEngine } from '../analytics/datastore/duckdb.js';
import type { Column } from '../analytics/datastore/schema.js';
import { openDatabase } from '../analytics/datastore/index.js';
import { machineHeader, table } from './machine.js';

const ROWS = Number(process.argv[2] ?? 500_000);
const BATCH = 5000;

async function rawAppender(file: string): Promise<{ rowsPerSec: number; version: string }> {
  const engine = await openEngine(file);
  const columns: Column[] = [
    { name: '__dt', type: 'TIMESTAMP' },
    { name: 'device', type: 'VARCHAR' },
    { name: 'temperature', type: 'DOUBLE' },
    { name: 'ok', type: 'BOOLEAN' },
  ];
  await engine.createTable('raw', columns);
  const sink = await engine.openSink('raw');
  const now = Date.now();
  const batch = Array.from({ length: BATCH }, (_, i) => [now, `d${i % 100}`, 20 + (i % 10) / 10, i % 2 === 0]);
  const started = performance.now();
  for (let done = 0; done < ROWS; done += BATCH) await sink.appendRows(columns, batch);
  const seconds = (performance.now() - started) / 1000;
  const version = engine.version;
  await engine.close();
  return { rowsPerSec: ROWS / seconds, version };
}

async function throughWriter(file: string): Promise<number> {
  const db = await openDatabase(file, { batchRows: BATCH, flushDelayMs: 50 });
  await db.ensureDatastore({ datastoreName: 'telemetry' });
  const writer = db.writer('telemetry');
  const messages = Array.from({ length: 500 }, (_, i) => ({ device: `d${i % 100}`, temperature: 20 + (i % 10) / 10, ok: i % 2 === 0 }));
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let done = 0; done < ROWS; done += messages.length) pending.push(writer.append(messages, Date.now()));
  await Promise.all(pending);
  const seconds = (performance.now() - started) / 1000;
  await db.close();
  return ROWS / seconds;
}

const dir = mkdtempSync(join(tmpdir(), 'iotcore-bench-'));
try {
  const raw = await rawAppender(join(dir, 'raw.duckdb'));
  const writer = await throughWriter(join(dir, 'writer.duckdb'));
  console.log(machineHeader(`datastore append (DuckDB ${raw.version}), ${ROWS} rows, batches of ${BATCH}`));
  console.log(
    table([
      { path: 'appender (sink, pre-converted rows)', 'rows/s': Math.round(raw.rowsPerSec) },
      { path: 'batching writer (append -> commit)', 'rows/s': Math.round(writer) },
    ]),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
