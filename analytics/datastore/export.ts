// Export of one datastore table as hive-partitioned Parquet that Spark, Trino or Athena can read
// (ARCHITECTURE: scale-out through existing engines). Layout under the export root:
//
//   <root>/<datastore>/__dt=YYYY-MM-DD/<attr>=<value>/…/[__year=…/__month=…/__day=…/__hour=…/]data_0.parquet
//
// Decisions (why):
// - An export covers whole UTC days ([startTime, endTime) widened to day boundaries) and replaces
//   those day directories as a unit: it is written to <root>/.staging first, then each old day
//   directory is swapped for the new one. Re-running an export never duplicates rows, and a day
//   that has no rows any more (retention) disappears. Without a range every day is exported and
//   the datastore's directory mirrors the table.
// - Files hold every column but `__dt` (a partition column must not also be a file column:
//   Spark refuses the duplicate); the exact ingestion time stays in the file as `__ingested_at`.
//   Attribute partition columns live in the path only, as hive writers do. JSON columns are
//   written as text (a plain Parquet string every reader understands).
// - Rows whose partition attribute is missing go to `<attr>=__HIVE_DEFAULT_PARTITION__`, the name
//   Hive, Spark and Trino read back as NULL; DuckDB percent-encodes other special characters.

import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { invalidRequest } from '../errors.js';
import type { DuckEngine } from './duckdb.js';
import type { PartitionPlan } from './partitions.js';
import { TIME_PARTITION_COLUMNS } from './partitions.js';
import type { Column } from './schema.js';
import { DT_COLUMN, quoteIdentifier } from './schema.js';

const DAY_MS = 86_400_000;
/** files listed in the answer; `fileCount` always has the total */
const MAX_LISTED_FILES = 1000;
const STAGING = '.staging';

export interface ExportRange {
  /** epoch ms, inclusive; widened down to the start of its UTC day */
  startTime?: number;
  /** epoch ms, exclusive; widened up to the end of its UTC day */
  endTime?: number;
}

export interface ExportResult {
  datastoreName: string;
  /** absolute directory of the datastore's export (point the reader's table location here) */
  directory: string;
  /** the day-aligned range exported (epoch ms), absent when everything was exported */
  startTime?: number;
  endTime?: number;
  rowCount: number;
  /** `__dt=` day directories written by this export */
  days: string[];
  fileCount: number;
  /** Parquet files of those days, relative to `directory`, sorted; at most 1000 */
  files: string[];
}

export interface ExportJob {
  table: string;
  columns: readonly Column[];
  plan: PartitionPlan;
  root: string;
  range: ExportRange;
}

export async function exportTable(engine: DuckEngine, job: ExportJob): Promise<ExportResult> {
  const { start, end } = dayRange(job.range);
  const target = join(job.root, job.table);
  const staging = join(job.root, STAGING, `${job.table}-${randomUUID()}`);
  await mkdir(join(job.root, STAGING), { recursive: true });
  try {
    const { select, partitionBy } = exportSelect(job.table, job.columns, job.plan, start, end);
    const rowCount = await engine.copyToParquet(select, staging, partitionBy);
    const staged = await dayDirs(staging);
    await mkdir(target, { recursive: true });
    // swap day by day: old days in range out, new ones in
    for (const day of await dayDirs(target)) {
      if (!staged.includes(day) && inRange(day, start, end)) await rm(join(target, day), { recursive: true, force: true });
    }
    for (const day of staged) {
      const old = join(job.root, STAGING, `${job.table}-${randomUUID()}-old`);
      await rename(join(target, day), old).catch(() => undefined); // absent: nothing to replace
      await rename(join(staging, day), join(target, day));
      await rm(old, { recursive: true, force: true });
    }
    const files: string[] = [];
    for (const day of staged) files.push(...(await parquetFiles(target, day)));
    files.sort();
    const result: ExportResult = {
      datastoreName: job.table,
      directory: target,
      rowCount,
      days: staged,
      fileCount: files.length,
      files: files.slice(0, MAX_LISTED_FILES),
    };
    if (start !== undefined) result.startTime = start;
    if (end !== undefined) result.endTime = end;
    return result;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function dayRange(range: ExportRange): { start?: number; end?: number } {
  for (const k of ['startTime', 'endTime'] as const) {
    const v = range[k];
    if (v !== undefined && (!Number.isFinite(v) || v < 0 || v > 253_402_300_799_999)) throw invalidRequest(`${k} must be epoch milliseconds between 1970 and 9999`);
  }
  const start = range.startTime === undefined ? undefined : Math.floor(range.startTime / DAY_MS) * DAY_MS;
  const end = range.endTime === undefined ? undefined : Math.ceil(range.endTime / DAY_MS) * DAY_MS;
  if (start !== undefined && end !== undefined && start >= end) throw invalidRequest('startTime must be before endTime');
  return { start, end };
}

function inRange(dayDir: string, start: number | undefined, end: number | undefined): boolean {
  const ms = Date.parse(`${dayDir.slice('__dt='.length)}T00:00:00Z`);
  if (Number.isNaN(ms)) return false; // not ours: leave it
  return (start === undefined || ms >= start) && (end === undefined || ms < end);
}

/** The SELECT the export copies and its PARTITION_BY columns (exported for tests). */
export function exportSelect(
  table: string,
  columns: readonly Column[],
  plan: PartitionPlan,
  start?: number,
  end?: number,
): { select: string; partitionBy: string[] } {
  const byKey = new Map(columns.map((c) => [c.name.toLowerCase(), c]));
  const partitionKeys = new Set(plan.attributes.map((a) => a.toLowerCase()));
  const out: string[] = [];
  for (const c of columns) {
    if (c.name === DT_COLUMN || partitionKeys.has(c.name.toLowerCase())) continue;
    out.push(c.type === 'JSON' ? `CAST(${quoteIdentifier(c.name)} AS VARCHAR) AS ${quoteIdentifier(c.name)}` : quoteIdentifier(c.name));
  }
  out.push(`${quoteIdentifier(DT_COLUMN)} AS "__ingested_at"`);
  out.push(`CAST(${quoteIdentifier(DT_COLUMN)} AS DATE) AS ${quoteIdentifier(DT_COLUMN)}`);
  const partitionBy = [DT_COLUMN];
  for (const a of plan.attributes) {
    const c = byKey.get(a.toLowerCase());
    out.push(c ? `${c.type === 'JSON' ? `CAST(${quoteIdentifier(c.name)} AS VARCHAR)` : quoteIdentifier(c.name)} AS ${quoteIdentifier(a)}` : `CAST(NULL AS VARCHAR) AS ${quoteIdentifier(a)}`);
    partitionBy.push(a);
  }
  let from = quoteIdentifier(table);
  if (plan.timestamp) {
    const ms = timestampMillis(byKey.get(plan.timestamp.attributeName.toLowerCase()), plan.timestamp.strptime);
    from = `(SELECT *, make_timestamp(CAST(${ms} AS BIGINT) * 1000) AS "__iotcore_partition_ts" FROM ${from}) AS "__iotcore_rows"`;
    const [y, mo, d, h] = TIME_PARTITION_COLUMNS;
    out.push(`year("__iotcore_partition_ts") AS ${y}`, `month("__iotcore_partition_ts") AS ${mo}`, `day("__iotcore_partition_ts") AS ${d}`, `hour("__iotcore_partition_ts") AS ${h}`);
    partitionBy.push(...TIME_PARTITION_COLUMNS);
  }
  const where: string[] = [];
  if (start !== undefined) where.push(`${quoteIdentifier(DT_COLUMN)} >= make_timestamp(${Math.trunc(start) * 1000})`);
  if (end !== undefined) where.push(`${quoteIdentifier(DT_COLUMN)} < make_timestamp(${Math.trunc(end) * 1000})`);
  const select = `SELECT ${out.join(', ')} FROM ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  return { select, partitionBy };
}

/** SQL for the epoch ms of the timestamp partition's attribute; NULL when absent or unreadable. */
function timestampMillis(column: Column | undefined, strptime: string | undefined): string {
  if (!column) return 'NULL';
  const ref = quoteIdentifier(column.name);
  const kind = typeof column.type === 'object' ? column.type.kind : column.type;
  if (kind === 'TIMESTAMP') return `epoch_ms(${ref})`;
  if (kind === 'DATE') return `epoch_ms(CAST(${ref} AS TIMESTAMP))`;
  if (strptime !== undefined) return `epoch_ms(try_strptime(CAST(${ref} AS VARCHAR), '${strptime.replace(/'/g, "''")}'))`;
  // default format: seconds since the epoch, within years 1..9999
  const secs = `TRY_CAST(CAST(${ref} AS VARCHAR) AS DOUBLE)`;
  return `CASE WHEN ${secs} BETWEEN -62135596800 AND 253402300799 THEN CAST(${secs} * 1000 AS BIGINT) END`;
}

async function dayDirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && e.name.startsWith('__dt='))
      .map((e) => e.name)
      .sort();
  } catch {
    return []; // nothing written (no rows) or no export yet
  }
}

async function parquetFiles(root: string, sub: string): Promise<string[]> {
  const entries = await readdir(join(root, sub), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(root.length + 1));
}
