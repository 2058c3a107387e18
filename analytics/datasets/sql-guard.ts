// What dataset SQL may touch, checked on DuckDB's own parse tree before the query runs.
//
// Why a check of our own on top of the database's settings (external access off, configuration
// locked, READ ONLY transaction, SELECT only): DuckDB always lets SQL read the files it holds open
// itself (the database file, its WAL, its spill directory) and the Parquet export directory, so
// `read_blob('<dataDir>/iotcore.duckdb')` would hand out the raw database file; and some table
// functions change the instance's state (checkpoint(), enable_logging(), enable_profiling()) even
// inside a read-only transaction. So dataset SQL may call only the table functions below, and may
// not name a file where a table goes (`FROM '/etc/passwd'`, DuckDB's replacement scans).
//
// The tree comes from json_serialize_sql, run as an ordinary query: the statement text travels
// as a string literal (quotes doubled; DuckDB strings have no backslash escapes), never as SQL.
import { AnalyticsError } from '../errors.js';
import type { Database, QueryOptions } from '../datastore/index.js';

/** Table functions that compute rows from their arguments alone: no files, no state. */
export const ALLOWED_TABLE_FUNCTIONS: readonly string[] = ['range', 'generate_series', 'unnest', 'json_each', 'json_tree'];

/** Named in the error so the user sees why, not only that. */
const FILE_READERS = /^(read_|parquet_|sniff_csv$|glob$|query$|query_table$)/;

/** A table name that DuckDB would resolve to a file or URL instead of a table. */
const PATH_LIKE = /[/\\.:~]/;

function refused(message: string): AnalyticsError {
  return new AnalyticsError('InvalidRequestException', message);
}

function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

interface Serialized {
  error?: boolean;
  error_type?: string;
  error_message?: string;
  statements?: unknown[];
}

/**
 * Refuses (InvalidRequestException, naming the reason) a dataset query that reads files, calls a
 * table function other than ALLOWED_TABLE_FUNCTIONS, is not exactly one SELECT, or contains NUL.
 * A syntax error passes: running the query reports it with DuckDB's own position and message.
 */
export async function checkDatasetSql(db: Database, sql: string, opts: QueryOptions = {}): Promise<void> {
  // the C API ends a statement at NUL: what ran would not be what was checked
  if (sql.includes('\0')) throw refused('a dataset query cannot contain a NUL character');
  const { rows } = await db.query(`SELECT json_serialize_sql(${sqlString(sql)})`, { ...opts, maxRows: 1 });
  const raw = rows[0]?.[0];
  const tree = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Serialized;
  if (tree.error) {
    if (tree.error_type === 'parser') return;
    // DuckDB serialises only SELECTs: anything else (ATTACH, COPY, SET, DROP, a second statement
    // that is not a SELECT) ends here, and so do PIVOT/UNPIVOT, which we cannot inspect
    throw refused('a dataset query must be exactly one SELECT statement: ATTACH, COPY, EXPORT, INSTALL, LOAD, PRAGMA, SET, CALL, CREATE, DROP, INSERT, UPDATE, DELETE and PIVOT/UNPIVOT are not run, nor is a second statement');
  }
  const statements = tree.statements ?? [];
  if (statements.length !== 1) throw refused(`a dataset query must be exactly one SELECT statement; got ${statements.length} statements`);
  walk(statements[0]);
}

function walk(node: unknown): void {
  if (Array.isArray(node)) {
    for (const child of node) walk(child);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const n = node as Record<string, unknown>;
  if (n.type === 'TABLE_FUNCTION') checkTableFunction(n.function);
  if (n.type === 'BASE_TABLE' && typeof n.table_name === 'string' && PATH_LIKE.test(n.table_name)) {
    throw refused(`dataset SQL cannot read files: ${JSON.stringify(n.table_name)} is not a datastore name`);
  }
  for (const value of Object.values(n)) walk(value);
}

function checkTableFunction(fn: unknown): void {
  const f = (typeof fn === 'object' && fn !== null ? fn : {}) as Record<string, unknown>;
  const name = typeof f.function_name === 'string' ? f.function_name.toLowerCase() : '';
  const qualified = (typeof f.schema === 'string' && f.schema !== '') || (typeof f.catalog === 'string' && f.catalog !== '');
  if (!qualified && ALLOWED_TABLE_FUNCTIONS.includes(name)) return;
  const why = FILE_READERS.test(name) ? 'it reads files' : 'it is not one of the table functions dataset SQL may use';
  throw refused(`dataset SQL cannot call ${name || 'that table function'}(): ${why} (allowed: ${ALLOWED_TABLE_FUNCTIONS.join(', ')}; query datastores by name)`);
}
