// The analytics facade: channels (raw archive), pipelines (compiled activity chains), datastores
// (DuckDB) and datasets (saved SQL) behind one object. The broker's composition root is its only
// user; it talks in AWS IoT Analytics definitions and plain counters. The interface and its
// options are in facade-types.ts, the implementation in service.ts.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { openDatabase } from './datastore/index.js';
import type { AlertStore } from './anomaly/alerts.js';
import { openAlertStore } from './anomaly/alerts.js';
import { loadDefinitions } from './definitions.js';
import type { Analytics, AnalyticsOptions } from './facade-types.js';
import { AnalyticsService } from './service.js';

export type { Analytics, AnalyticsOptions, AnalyticsCounters, PipelineCountersSnapshot, RunPipelineActivityResult } from './facade-types.js';

export async function openAnalytics(opts: AnalyticsOptions): Promise<Analytics> {
  await mkdir(opts.dataDir, { recursive: true });
  // the one directory DuckDB may write files to (Parquet exports); absolute for allowed_directories
  const exportDirectory = resolve(opts.dataDir, 'exports');
  await mkdir(exportDirectory, { recursive: true });
  const db = await openDatabase(join(opts.dataDir, 'iotcore.duckdb'), { ...opts.database, exportDirectory });
  // open alerts are back before anything (a replay while restoring) can raise
  let alerts: AlertStore;
  try {
    alerts = await openAlertStore(db, { now: opts.now, ...opts.alerts });
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
  const a = new AnalyticsService(opts, db, alerts);
  try {
    await a.restore(await loadDefinitions(opts.dataDir));
  } catch (e) {
    await a.close().catch(() => undefined);
    throw e;
  }
  return a;
}
