// One device's history from a datastore table, sized for a chart: the raw rows when the range
// holds few enough, otherwise one row per time bucket with each attribute's average, minimum and
// maximum (a spike inside a bucket survives as its maximum). DuckDB does the grouping, so a range
// of millions of rows costs one scan and returns at most `points` rows.
//
// Only our own statements run here: the table and attribute names are checked against the
// table's columns and quoted, the device id and the times are bound parameters.
import { AnalyticsError } from '../errors.js';
import type { SelectResult } from './duckdb.js';
import type { Column } from './schema.js';
import { DT_COLUMN, quoteIdentifier } from './schema.js';

export interface HistoryRequest {
  datastoreName: string;
  deviceId: string;
  /** the attribute that holds the device id (default `deviceId`) */
  deviceAttribute?: string;
  /** numeric attributes to return (default: every numeric column) */
  attributes?: string[];
  /** epoch ms, [from, to) */
  from: number;
  to: number;
  /** about how many rows (buckets) to return, 1..MAX_HISTORY_POINTS */
  points: number;
}

export interface HistoryResult {
  datastore: string;
  deviceId: string;
  from: number;
  to: number;
  /** 0: raw rows; otherwise the width of each bucket (ms), buckets starting at `from` */
  bucketMs: number;
  /** rows of this device in [from, to) */
  rowsInRange: number;
  /** `__dt` first; bucketed: each attribute followed by `<attribute>.min` and `<attribute>.max` */
  columns: string[];
  /** columnar: data[i] holds the values of columns[i] */
  data: (number | null)[][];
}

export const MAX_HISTORY_POINTS = 10_000;
export const DEFAULT_DEVICE_ATTRIBUTE = 'deviceId';

type Select = (sql: string, params: readonly (string | number | bigint)[], opts: { timeoutMs: number; maxRows: number }) => Promise<SelectResult>;

const NUMERIC_KINDS = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'FLOAT', 'DOUBLE', 'DECIMAL']);

function isNumeric(c: Column): boolean {
  if (c.name === DT_COLUMN) return false;
  return typeof c.type === 'object' ? NUMERIC_KINDS.has(c.type.kind) : c.type === 'DOUBLE' || c.type === 'BIGINT';
}

function isText(c: Column): boolean {
  return typeof c.type === 'object' ? c.type.kind === 'VARCHAR' : c.type === 'VARCHAR';
}

/** The column an attribute names (case-insensitive, as DuckDB identifiers are). */
function columnOf(columns: readonly Column[], attribute: string): Column | undefined {
  const key = attribute.toLowerCase();
  return columns.find((c) => c.name.toLowerCase() === key);
}

export async function queryHistory(select: Select, table: string, columns: readonly Column[], req: HistoryRequest, timeoutMs: number): Promise<HistoryResult> {
  if (!(Number.isSafeInteger(req.from) && Number.isSafeInteger(req.to) && req.from < req.to)) {
    throw new AnalyticsError('InvalidRequestException', `the range must have from < to (epoch ms), got from=${req.from} to=${req.to}`);
  }
  if (!(Number.isInteger(req.points) && req.points >= 1 && req.points <= MAX_HISTORY_POINTS)) {
    throw new AnalyticsError('InvalidRequestException', `points must be a whole number from 1 to ${MAX_HISTORY_POINTS}, got ${req.points}`);
  }
  const attrs = chosenAttributes(columns, req.attributes);
  const deviceAttribute = req.deviceAttribute ?? DEFAULT_DEVICE_ATTRIBUTE;
  const device = columnOf(columns, deviceAttribute);
  const result: HistoryResult = { datastore: table, deviceId: req.deviceId, from: req.from, to: req.to, bucketMs: 0, rowsInRange: 0, columns: [DT_COLUMN, ...attrs.map((c) => c.name)], data: [] };
  if (!device) {
    // a datastore that has not stored this attribute yet has no rows of any device; a name the
    // caller chose that is not a column is a mistake worth saying
    if (req.deviceAttribute !== undefined) throw new AnalyticsError('InvalidRequestException', `datastore ${table} has no attribute ${deviceAttribute} (deviceAttribute)`);
    result.data = result.columns.map(() => []);
    return result;
  }
  const deviceCondition = isText(device) ? `${quoteIdentifier(device.name)} = $1` : `CAST(${quoteIdentifier(device.name)} AS VARCHAR) = $1`;
  const where = `WHERE ${deviceCondition} AND "${DT_COLUMN}" >= make_timestamp($2::BIGINT) AND "${DT_COLUMN}" < make_timestamp($3::BIGINT)`;
  const from = quoteIdentifier(table);
  const params = [req.deviceId, BigInt(req.from) * 1000n, BigInt(req.to) * 1000n];

  const counted = await select(`SELECT count(*) FROM ${from} ${where}`, params, { timeoutMs, maxRows: 1 });
  result.rowsInRange = Number(counted.rows[0]?.[0] ?? 0);

  const value = (c: Column) => `CAST(${quoteIdentifier(c.name)} AS DOUBLE)`;
  let rows: unknown[][];
  if (result.rowsInRange <= req.points) {
    const list = [`epoch_ms("${DT_COLUMN}")`, ...attrs.map(value)].join(', ');
    rows = result.rowsInRange === 0 ? [] : (await select(`SELECT ${list} FROM ${from} ${where} ORDER BY "${DT_COLUMN}"`, params, { timeoutMs, maxRows: req.points })).rows;
  } else {
    const bucketMs = Math.ceil((req.to - req.from) / req.points);
    result.bucketMs = bucketMs;
    result.columns = [DT_COLUMN, ...attrs.flatMap((c) => [c.name, `${c.name}.min`, `${c.name}.max`])];
    const bucket = `($4::BIGINT + ((epoch_ms("${DT_COLUMN}") - $4::BIGINT) // $5::BIGINT) * $5::BIGINT)`;
    const list = [`${bucket} AS b`, ...attrs.flatMap((c) => [`avg(${value(c)})`, `min(${value(c)})`, `max(${value(c)})`])].join(', ');
    const sql = `SELECT ${list} FROM ${from} ${where} GROUP BY b ORDER BY b`;
    rows = (await select(sql, [...params, BigInt(req.from), BigInt(bucketMs)], { timeoutMs, maxRows: req.points + 1 })).rows;
  }
  result.data = result.columns.map((_, i) => rows.map((r) => toNumber(r[i])));
  return result;
}

function chosenAttributes(columns: readonly Column[], wanted: string[] | undefined): Column[] {
  if (wanted === undefined || wanted.length === 0) return columns.filter(isNumeric);
  const out: Column[] = [];
  for (const name of wanted) {
    const c = columnOf(columns, name);
    if (!c || c.name === DT_COLUMN) throw new AnalyticsError('InvalidRequestException', `the datastore has no attribute ${name}`);
    if (!isNumeric(c)) throw new AnalyticsError('InvalidRequestException', `attribute ${name} is not numeric (${typeof c.type === 'object' ? c.type.kind : c.type}): history charts numbers only`);
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

function toNumber(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
