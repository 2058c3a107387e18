// The thin adapter over @duckdb/node-api — the ONLY file in the repo that imports it. Everything
// above it speaks in our own terms (tables, columns, sinks that append and commit, a read-only
// select with a time limit), so DuckDB can be upgraded or swapped behind this one file.
//
// Security posture of the instance (set once by openEngine before any other connection, then locked):
// - enable_external_access=false: SQL can never open a host file, attach another database, COPY,
//   EXPORT, glob, install or load extensions. The database file itself and DuckDB's own spill
//   files keep working. The one exception is `allowed_directories`: the Parquet export directory
//   (EngineOptions.exportDirectory), so copyToParquet can write there. DuckDB resolves `..` and
//   symlinks before that prefix check. Dataset SQL still cannot write there (READ ONLY
//   transaction, SELECT only); nor read there: analytics/datasets/sql-guard.ts allows dataset SQL
//   no file-reading table function at all, since DuckDB also lets SQL read the database file and
//   its WAL, which it holds open itself, whatever enable_external_access says.
//   DuckDB only accepts allowed_directories through SET, not the creation config, hence the SETs.
// - lock_configuration=true: no statement can change a setting afterwards (SET/PRAGMA/RESET fail).
// - extension auto-install/auto-load off: nothing is downloaded behind our back. JSON is built in.
// Dataset SQL additionally runs inside a READ ONLY transaction, must be exactly one statement,
// and that statement must be of DuckDB's own type SELECT.

import {
  BIGINT,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  DuckDBInstance,
  DuckDBTimestampValue,
  DuckDBTypeId,
  FLOAT,
  INTEGER,
  LIST,
  MAP,
  SMALLINT,
  STRUCT,
  StatementType,
  TIMESTAMP,
  TINYINT,
  VARCHAR,
  dateValue,
  decimalValue,
  listValue,
  mapValue,
  structValue,
  timestampValue,
  version as duckdbVersion,
} from '@duckdb/node-api';
import type {
  DuckDBAppender,
  DuckDBConnection,
  DuckDBPreparedStatement,
  DuckDBType,
  DuckDBValue,
  DuckDBListType,
  DuckDBArrayType,
  DuckDBStructType,
  DuckDBMapType,
  DuckDBUnionType,
} from '@duckdb/node-api';
import { resolve as resolvePath } from 'node:path';
import { AnalyticsError } from '../errors.js';
import type { Column } from './schema.js';
import { columnTypeFromSql, quoteIdentifier, sqlTypeOf } from './schema.js';
import type { TypeNode } from './glue-types.js';
import { DECIMAL_SCALE, DECIMAL_WIDTH, scaledDecimal } from './glue-types.js';

export interface EngineOptions {
  /** DuckDB memory_limit, e.g. '1GB' */
  memoryLimit?: string;
  /** DuckDB worker threads */
  threads?: number;
  /** dataset queries running at once; the rest wait in a bounded queue */
  maxConcurrentQueries?: number;
  /** dataset queries allowed to wait; beyond it a query fails with ThrottlingException */
  maxQueuedQueries?: number;
  /** absolute directory copyToParquet may write under (created by the caller); none: no export */
  exportDirectory?: string;
}

export interface QueryColumn {
  name: string;
  type: string;
}

export interface SelectResult {
  columns: QueryColumn[];
  rows: unknown[][];
}

/**
 * How far a pipeline has got through its channel: every row it makes from messages up to `seq`
 * is committed. Stored in OFFSETS_TABLE in the same transaction as those rows, so a crash can
 * never separate the two (exactly-once replay, see analytics/progress.ts). `reset` replaces the
 * stored value (a pipeline (re)starting at the channel's end); otherwise it only ever grows.
 */
export interface SourceOffset {
  pipelineName: string;
  channelName: string;
  seq: number;
  reset?: boolean;
}

/** Outside the `main` schema, so it is never listed as a datastore; readable by dataset SQL. */
export const OFFSETS_TABLE = 'iotcore_progress.pipeline_offsets';

/** Appends converted rows to one table and commits them. One per datastore, own connection. */
export interface TableSink {
  /** ALTER TABLE ADD COLUMN for each; the appender is reopened so it sees the new columns. */
  addColumns(columns: readonly Column[]): Promise<void>;
  /**
   * Append rows (one value per column, in column order, already converted by schema.ts; null →
   * NULL) and commit them, together with the pipelines' offsets, as one transaction. Resolves
   * once committed.
   */
  appendRows(columns: readonly Column[], rows: readonly (readonly unknown[])[], offsets?: readonly SourceOffset[]): Promise<void>;
  close(): void;
}

/**
 * A table of our own outside the datastores' `main` schema (e.g. `iotcore_alerts.alerts`), kept
 * row by key. Names are ours (lower-case identifiers), never user input.
 */
export interface KeyedTableSpec {
  schema: string;
  table: string;
  columns: readonly Column[];
  /** the primary key column (one of `columns`) */
  key: string;
}

export interface KeyedTable {
  /**
   * Insert or replace rows by key (one value per column, in column order; null → NULL) as one
   * transaction: appended to a connection-local staging table through the appender, then merged
   * with one INSERT ... ON CONFLICT. Keys must be unique within a call.
   */
  upsert(rows: readonly (readonly unknown[])[]): Promise<void>;
  /**
   * One of our own statements (never user SQL) with positional parameters $1..: a SELECT, or a
   * DELETE/UPDATE with RETURNING when the caller needs to know what changed (retention sweeps);
   * answers at most `maxRows` rows of JSON-safe values.
   */
  select(sql: string, params: readonly (string | number)[], maxRows: number): Promise<SelectResult>;
  close(): void;
}

export interface TableStorage {
  rows: number;
  persistentRows: number;
  /** distinct file blocks holding the table's checkpointed segments × block size */
  persistentBytes: number;
}

export interface DuckEngine {
  /** Every table of the main schema with its columns in table order. */
  listTables(): Promise<{ table: string; columns: Column[] }[]>;
  /** CREATE TABLE IF NOT EXISTS with these columns. */
  createTable(table: string, columns: readonly Column[]): Promise<void>;
  /** DROP TABLE IF EXISTS. */
  dropTable(table: string): Promise<void>;
  /** DELETE rows whose `__dt` is before the cutoff (epoch ms); returns how many. */
  deleteBefore(table: string, cutoffMs: number): Promise<number>;
  openSink(table: string): Promise<TableSink>;
  /** Run one read-only SELECT with a time limit; results as JSON-safe values. */
  select(sql: string, opts: { timeoutMs: number; maxRows: number }): Promise<SelectResult>;
  /** One of our own read-only SELECTs (never user SQL) with positional parameters $1.., through
   * the same gate, time limit and row cap as select(). */
  selectWith(sql: string, params: readonly (string | number | bigint)[], opts: { timeoutMs: number; maxRows: number }): Promise<SelectResult>;
  /**
   * COPY (our own SELECT, never user SQL) TO a directory under exportDirectory as hive-partitioned
   * Parquet (PARTITION_BY these columns); returns the row count. On its own connection.
   */
  copyToParquet(select: string, directory: string, partitionBy: readonly string[]): Promise<number>;
  /** Create (if missing) and open a keyed table of our own; own connection, closed by close(). */
  openKeyedTable(spec: KeyedTableSpec): Promise<KeyedTable>;
  /** Storage figures of one table for size statistics (persistent = checkpointed into the file). */
  tableStorage(table: string): Promise<TableStorage>;
  /** The DuckDB library version, for benchmarks and diagnostics. */
  readonly version: string;
  /** Interrupt running queries, close sinks and connections, checkpoint, close the instance. */
  close(): Promise<void>;
}

/**
 * Database files open in this process. DuckDB's file lock is a POSIX record lock, which a process
 * never conflicts with itself on: a second instance on the same file in one process opens without
 * error (two writers, a corrupted file), and closing either would drop the other's lock. So the
 * same-process case is refused here; another process is refused by DuckDB's lock.
 */
const openFiles = new Set<string>();

export async function openEngine(file: string, opts: EngineOptions = {}): Promise<DuckEngine> {
  const inMemory = file === '' || file === ':memory:';
  const key = resolvePath(file);
  if (!inMemory && openFiles.has(key)) {
    throw new AnalyticsError('DatastoreLocked', `cannot open the DuckDB database ${file}: it is already open in this process (PID ${process.pid}); is another server using the same data directory?`);
  }
  if (!inMemory) openFiles.add(key);
  try {
    return await openInstance(file, opts, () => openFiles.delete(key));
  } catch (e) {
    openFiles.delete(key);
    throw e;
  }
}

async function openInstance(file: string, opts: EngineOptions, release: () => void): Promise<DuckEngine> {
  const config: Record<string, string> = {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  };
  if (opts.memoryLimit !== undefined) config.memory_limit = opts.memoryLimit;
  if (opts.threads !== undefined) config.threads = String(opts.threads);
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(file, config);
  } catch (e) {
    throw openFailure(file, e);
  }
  try {
    const conn = await instance.connect();
    try {
      // allowed_directories must be set while external access is still on; the lock comes last
      if (opts.exportDirectory !== undefined) {
        const dir = opts.exportDirectory.endsWith('/') ? opts.exportDirectory : `${opts.exportDirectory}/`;
        await runDdl(conn, `SET GLOBAL allowed_directories = [${sqlString(dir)}]`);
      }
      await runDdl(conn, 'SET GLOBAL enable_external_access = false');
      await runDdl(conn, 'SET GLOBAL lock_configuration = true');
    } finally {
      conn.closeSync();
    }
  } catch (e) {
    instance.closeSync();
    throw e;
  }
  try {
    const conn = await instance.connect();
    try {
      await runDdl(conn, 'CREATE SCHEMA IF NOT EXISTS iotcore_progress');
      await runDdl(conn, `CREATE TABLE IF NOT EXISTS ${OFFSETS_TABLE} (pipeline_name VARCHAR, channel_name VARCHAR, seq BIGINT NOT NULL, PRIMARY KEY (pipeline_name, channel_name))`);
    } finally {
      conn.closeSync();
    }
  } catch (e) {
    instance.closeSync();
    throw e;
  }
  return new Engine(instance, opts, release);
}

/**
 * Why DuckDB would not open the file, as a start-up error an operator can act on. DuckDB's own
 * message is kept: for a lock it names the holding program and its PID.
 */
function openFailure(file: string, e: unknown): AnalyticsError {
  const reason = messageOf(e);
  if (/could not set lock|conflicting lock/i.test(reason)) {
    return new AnalyticsError('DatastoreLocked', `cannot open the DuckDB database ${file}: another process holds its lock (is another server using the same data directory?): ${reason}`, { cause: e });
  }
  if (/not a valid DuckDB database|permission denied|cannot open file|is a directory|version number|corrupt|serializ/i.test(reason)) {
    return new AnalyticsError('DatabaseUnreadable', `cannot open the DuckDB database ${file}: the file is unreadable or not a DuckDB database (restore it from a backup, or move it away to start with an empty one): ${reason}`, { cause: e });
  }
  return new AnalyticsError('InternalFailureException', `cannot open DuckDB database ${file}: ${reason}`, { cause: e });
}

class Engine implements DuckEngine {
  readonly version = duckdbVersion();
  private readonly sinks = new Set<Sink>();
  private readonly keyed = new Set<Keyed>();
  private readonly running = new Set<DuckDBConnection>();
  private readonly selects = new Set<Promise<void>>();
  private readonly gate: Gate;
  private admin: DuckDBConnection | null = null;
  private closed = false;

  constructor(private readonly instance: DuckDBInstance, opts: EngineOptions, private readonly release: () => void) {
    this.gate = new Gate(opts.maxConcurrentQueries ?? 2, opts.maxQueuedQueries ?? 32);
  }

  private async adminConnection(): Promise<DuckDBConnection> {
    this.assertOpen();
    if (!this.admin) this.admin = await this.instance.connect();
    return this.admin;
  }

  async listTables(): Promise<{ table: string; columns: Column[] }[]> {
    const conn = await this.adminConnection();
    const reader = await conn.runAndReadAll(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE table_schema = 'main' AND table_catalog = current_database()
       ORDER BY table_name, ordinal_position`,
    );
    const byTable = new Map<string, Column[]>();
    for (const [table, column, dataType] of reader.getRows() as [string, string, string][]) {
      let cols = byTable.get(table);
      if (!cols) byTable.set(table, (cols = []));
      cols.push({ name: column, type: columnTypeFromSql(dataType) });
    }
    return [...byTable].map(([table, columns]) => ({ table, columns }));
  }

  async createTable(table: string, columns: readonly Column[]): Promise<void> {
    const conn = await this.adminConnection();
    const defs = columns.map((c) => `${quoteIdentifier(c.name)} ${sqlTypeOf(c.type)}`).join(', ');
    await runDdl(conn, `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(table)} (${defs})`);
  }

  async dropTable(table: string): Promise<void> {
    const conn = await this.adminConnection();
    await runDdl(conn, `DROP TABLE IF EXISTS ${quoteIdentifier(table)}`);
  }

  async deleteBefore(table: string, cutoffMs: number): Promise<number> {
    const conn = await this.adminConnection();
    const micros = BigInt(Math.floor(cutoffMs)) * 1000n;
    try {
      const result = await conn.run(`DELETE FROM ${quoteIdentifier(table)} WHERE "__dt" < make_timestamp($1::BIGINT)`, [micros]);
      return result.rowsChanged;
    } catch (e) {
      throw new AnalyticsError('InternalFailureException', `retention delete on ${table} failed: ${messageOf(e)}`, { cause: e });
    }
  }

  copyToParquet(select: string, directory: string, partitionBy: readonly string[]): Promise<number> {
    this.assertOpen();
    const run = this.runCopy(select, directory, partitionBy);
    // close() waits for it like for a running query
    const settled = run.then(() => undefined, () => undefined);
    this.selects.add(settled);
    void settled.then(() => this.selects.delete(settled));
    return run;
  }

  private async runCopy(select: string, directory: string, partitionBy: readonly string[]): Promise<number> {
    const conn = await this.instance.connect();
    this.running.add(conn);
    try {
      const partitions = partitionBy.length > 0 ? `, PARTITION_BY (${partitionBy.map(quoteIdentifier).join(', ')})` : '';
      const reader = await conn.runAndReadAll(`COPY (${select}) TO ${sqlString(directory)} (FORMAT PARQUET${partitions})`);
      return Number(reader.getRows()[0]?.[0] ?? 0);
    } catch (e) {
      if (this.closed) throw closedError();
      throw new AnalyticsError('InternalFailureException', `Parquet export to ${directory} failed: ${messageOf(e)}`, { cause: e });
    } finally {
      this.running.delete(conn);
      conn.closeSync();
    }
  }

  async tableStorage(table: string): Promise<TableStorage> {
    const conn = await this.adminConnection();
    try {
      const reader = await conn.runAndReadAll(
        `SELECT
           (SELECT estimated_size FROM duckdb_tables() WHERE schema_name = 'main' AND lower(table_name) = lower($1) LIMIT 1),
           (SELECT sum(count) FROM pragma_storage_info($1) WHERE persistent AND column_id = 0 AND column_path = '[0]'),
           (SELECT count(DISTINCT b) FROM (SELECT block_id AS b FROM pragma_storage_info($1) WHERE persistent AND block_id >= 0
              UNION ALL SELECT unnest(additional_block_ids) FROM pragma_storage_info($1) WHERE persistent)),
           (SELECT block_size FROM pragma_database_size() WHERE database_name = current_database())`,
        [table],
      );
      const [rows, persistentRows, blocks, blockSize] = (reader.getRows()[0] ?? []).map((v) => Number(v ?? 0));
      return { rows, persistentRows, persistentBytes: blocks * blockSize };
    } catch (e) {
      throw new AnalyticsError('InternalFailureException', `reading the storage size of ${table} failed: ${messageOf(e)}`, { cause: e });
    }
  }

  async openSink(table: string): Promise<TableSink> {
    this.assertOpen();
    const sink = new Sink(await this.instance.connect(), table, (s) => this.sinks.delete(s));
    this.sinks.add(sink);
    return sink;
  }

  async openKeyedTable(spec: KeyedTableSpec): Promise<KeyedTable> {
    this.assertOpen();
    const conn = await this.instance.connect();
    try {
      const table = `${quoteIdentifier(spec.schema)}.${quoteIdentifier(spec.table)}`;
      const defs = spec.columns.map((c) => `${quoteIdentifier(c.name)} ${sqlTypeOf(c.type)}`).join(', ');
      await runDdl(conn, `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(spec.schema)}`);
      await runDdl(conn, `CREATE TABLE IF NOT EXISTS ${table} (${defs}, PRIMARY KEY (${quoteIdentifier(spec.key)}))`);
      // TEMP: private to this connection and never in the database file
      await runDdl(conn, `CREATE TEMP TABLE ${quoteIdentifier(`${spec.table}_staging`)} AS SELECT * FROM ${table} LIMIT 0`);
    } catch (e) {
      conn.closeSync();
      throw e;
    }
    const keyed = new Keyed(conn, spec, (sql, params, maxRows) => this.ownSelect(sql, params, maxRows), (k) => this.keyed.delete(k));
    this.keyed.add(keyed);
    return keyed;
  }

  /** Our own parameterised SELECT on a fresh connection (a keyed table's connection may be mid-upsert). */
  private ownSelect(sql: string, params: readonly (string | number)[], maxRows: number): Promise<SelectResult> {
    this.assertOpen();
    const run = (async (): Promise<SelectResult> => {
      const conn = await this.instance.connect();
      this.running.add(conn);
      try {
        const reader = await conn.runAndReadAll(sql, [...params]);
        const types = reader.columnTypes();
        const converters = types.map(converterFor);
        const columns = reader.deduplicatedColumnNames().map((name, i) => ({ name, type: typeName(types[i]) }));
        const rows = reader.getRows().slice(0, maxRows).map((row) => row.map((v, i) => (v === null ? null : converters[i](v))));
        return { columns, rows };
      } catch (e) {
        if (this.closed) throw closedError();
        throw new AnalyticsError('InternalFailureException', `running ${sql.slice(0, 80)} failed: ${messageOf(e)}`, { cause: e });
      } finally {
        this.running.delete(conn);
        conn.closeSync();
      }
    })();
    const settled = run.then(() => undefined, () => undefined);
    this.selects.add(settled);
    void settled.then(() => this.selects.delete(settled));
    return run;
  }

  select(sql: string, opts: { timeoutMs: number; maxRows: number }): Promise<SelectResult> {
    return this.selectWith(sql, [], opts);
  }

  selectWith(sql: string, params: readonly (string | number | bigint)[], opts: { timeoutMs: number; maxRows: number }): Promise<SelectResult> {
    this.assertOpen();
    // close() waits for running queries (after interrupting them) before closing the instance
    const run = this.runSelect(sql, params, opts);
    const settled = run.then(() => undefined, () => undefined);
    this.selects.add(settled);
    void settled.then(() => this.selects.delete(settled));
    return run;
  }

  private async runSelect(sql: string, params: readonly (string | number | bigint)[], opts: { timeoutMs: number; maxRows: number }): Promise<SelectResult> {
    if (sql.trim() === '') throw new AnalyticsError('InvalidRequestException', 'the query is empty');
    const started = Date.now();
    await this.gate.enter();
    let conn: DuckDBConnection | null = null;
    let timedOut = false;
    // Queue time counts against the limit: the caller asked for an answer within timeoutMs.
    const remaining = Math.max(1, opts.timeoutMs - (Date.now() - started));
    const timer = setTimeout(() => {
      timedOut = true;
      conn?.interrupt();
    }, remaining);
    const checkTime = (): void => {
      // interrupt() only stops work in progress; between steps we look at the flag ourselves
      if (timedOut) throw timeoutError(opts.timeoutMs);
    };
    try {
      this.assertOpen();
      conn = await this.instance.connect();
      this.running.add(conn);
      checkTime();
      await conn.run('BEGIN TRANSACTION READ ONLY');
      checkTime();
      const extracted = await conn.extractStatements(sql);
      if (extracted.count !== 1) {
        throw new AnalyticsError('InvalidRequestException', `a dataset query must be exactly one SELECT statement; got ${extracted.count} statements`);
      }
      const prepared = await extracted.prepare(0);
      try {
        checkTime();
        if (prepared.statementType !== StatementType.SELECT) {
          throw new AnalyticsError('InvalidRequestException', `a dataset query must be a SELECT statement; got ${StatementType[prepared.statementType] ?? prepared.statementType}`);
        }
        // dataset SQL gets none; our own statements bind exactly theirs
        if (prepared.parameterCount !== params.length) {
          throw new AnalyticsError('InvalidRequestException', params.length === 0 ? 'a dataset query cannot have parameters' : `the statement takes ${prepared.parameterCount} parameters, got ${params.length}`);
        }
        if (params.length > 0) prepared.bind([...params]);
        const reader = await prepared.streamAndReadUntil(opts.maxRows + 1);
        checkTime();
        if (reader.currentRowCount > opts.maxRows) {
          throw new AnalyticsError('LimitExceededException', `the query returns more than ${opts.maxRows} rows; narrow it with WHERE or LIMIT`);
        }
        const types = reader.columnTypes();
        const converters = types.map(converterFor);
        const columns = reader.deduplicatedColumnNames().map((name, i) => ({ name, type: typeName(types[i]) }));
        const rows = reader.getRows().map((row) => row.map((v, i) => (v === null ? null : converters[i](v))));
        return { columns, rows };
      } finally {
        prepared.destroySync();
      }
    } catch (e) {
      if (timedOut) throw timeoutError(opts.timeoutMs);
      if (this.closed) throw closedError();
      throw classify(e);
    } finally {
      clearTimeout(timer);
      if (conn) {
        this.running.delete(conn);
        try {
          await conn.run('ROLLBACK');
        } catch {
          // no transaction left (e.g. interrupted): nothing to undo
        }
        conn.closeSync();
      }
      this.gate.leave();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const conn of this.running) conn.interrupt();
    await Promise.all(this.selects);
    for (const sink of [...this.sinks]) sink.close();
    for (const k of [...this.keyed]) k.close();
    try {
      const conn = this.admin ?? (await this.instance.connect());
      // Fold the WAL into the file now so a reopen does not replay it.
      await conn.run('CHECKPOINT');
      conn.closeSync();
    } catch {
      // a failed checkpoint is not data loss: the WAL is replayed on the next open
    }
    this.admin = null;
    this.instance.closeSync();
    this.release();
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

async function runDdl(conn: DuckDBConnection, sql: string): Promise<void> {
  try {
    await conn.run(sql);
  } catch (e) {
    throw new AnalyticsError('InternalFailureException', `DuckDB refused ${sql}: ${messageOf(e)}`, { cause: e });
  }
}

/**
 * A connection of our own that writes through one appender at a time (a datastore's sink, a keyed
 * table; hundreds of thousands of rows/s against ~1.5k for INSERTs): closing drops the appender,
 * then the connection (and the statements prepared on it), and tells the engine it is gone.
 */
abstract class AppendingConnection {
  protected appender: DuckDBAppender | null = null;
  protected closed = false;

  constructor(
    protected readonly conn: DuckDBConnection,
    private readonly onClosed: () => void,
  ) {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropAppender();
    try {
      this.conn.closeSync();
    } finally {
      this.onClosed();
    }
  }

  protected dropAppender(): void {
    const ap = this.appender;
    this.appender = null;
    try {
      ap?.closeSync();
    } catch {
      // closing flushes; an error here means an earlier flush already failed and was reported
    }
  }

  protected assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

/** The statements of a commit with offsets, prepared once per sink: parsing and planning them
 * again for every commit was most of a lightly loaded datastore's DuckDB time on the event loop. */
interface CommitStatements {
  begin: DuckDBPreparedStatement;
  commit: DuckDBPreparedStatement;
  /** the offset moves forward only (a replay never moves it back) */
  advanceOffset: DuckDBPreparedStatement;
  /** the offset is set as given (reprocessing from an earlier point) */
  resetOffset: DuckDBPreparedStatement;
}

class Sink extends AppendingConnection implements TableSink {
  private writers: AppendValue[] = [];
  private writersFor = -1; // column count the writers were compiled for (columns only grow)
  private statements: CommitStatements | null = null;

  constructor(
    conn: DuckDBConnection,
    private readonly table: string,
    onClose: (s: Sink) => void,
  ) {
    super(conn, () => onClose(this));
  }

  async addColumns(columns: readonly Column[]): Promise<void> {
    this.assertOpen();
    this.dropAppender(); // flushed after every batch, so nothing is buffered here
    for (const c of columns) {
      await runDdl(this.conn, `ALTER TABLE ${quoteIdentifier(this.table)} ADD COLUMN IF NOT EXISTS ${quoteIdentifier(c.name)} ${sqlTypeOf(c.type)}`);
    }
  }

  async appendRows(columns: readonly Column[], rows: readonly (readonly unknown[])[], offsets: readonly SourceOffset[] = []): Promise<void> {
    this.assertOpen();
    if (!this.appender) this.appender = await this.conn.createAppender(this.table);
    this.assertOpen();
    if (offsets.length === 0) return this.appendAndFlush(columns, rows);
    const st = (this.statements ??= await this.prepareCommit());
    this.assertOpen();
    // The appender's flush joins the open transaction, so rows and offsets commit (or not) together.
    await st.begin.run();
    try {
      this.appendAndFlush(columns, rows);
      for (const o of offsets) {
        const upsert = o.reset ? st.resetOffset : st.advanceOffset;
        upsert.bind([o.pipelineName, o.channelName, o.seq]);
        await upsert.run();
      }
      await st.commit.run();
    } catch (e) {
      try {
        await this.conn.run('ROLLBACK');
      } catch {
        // the failed statement already ended the transaction
      }
      throw e instanceof AnalyticsError ? e : new AnalyticsError('InternalFailureException', `committing ${rows.length} rows to ${this.table} failed: ${messageOf(e)}`, { cause: e });
    }
  }

  private async prepareCommit(): Promise<CommitStatements> {
    const upsert = (update: string) => this.conn.prepare(`INSERT INTO ${OFFSETS_TABLE} VALUES ($1, $2, $3) ON CONFLICT DO UPDATE SET seq = ${update}`);
    return {
      begin: await this.conn.prepare('BEGIN TRANSACTION'),
      commit: await this.conn.prepare('COMMIT'),
      advanceOffset: await upsert('greatest(seq, excluded.seq)'),
      resetOffset: await upsert('excluded.seq'),
    };
  }

  private appendAndFlush(columns: readonly Column[], rows: readonly (readonly unknown[])[]): void {
    const ap = this.appender!;
    if (this.writersFor !== columns.length) {
      this.writers = columns.map((c) => appendValueFor(c.type));
      this.writersFor = columns.length;
    }
    const writers = this.writers;
    try {
      for (const row of rows) {
        for (let i = 0; i < writers.length; i++) {
          const v = row[i];
          if (v === null || v === undefined) ap.appendNull();
          else writers[i](ap, v);
        }
        ap.endRow();
      }
      ap.flushSync(); // one commit for the whole batch (or part of the caller's transaction)
    } catch (e) {
      // Discard what this batch left in the appender and start the next batch on a fresh one.
      try {
        ap.clear();
      } catch {
        // appender already invalid
      }
      this.dropAppender();
      throw new AnalyticsError('InternalFailureException', `appending ${rows.length} rows to ${this.table} failed: ${messageOf(e)}`, { cause: e });
    }
  }

}

/** A keyed table of our own: appender into a TEMP staging table, merged by key per batch. */
class Keyed extends AppendingConnection implements KeyedTable {
  private readonly writers: AppendValue[];
  private readonly merge: string;
  private readonly staging: string;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    conn: DuckDBConnection,
    spec: KeyedTableSpec,
    readonly select: KeyedTable['select'],
    onClose: (k: Keyed) => void,
  ) {
    super(conn, () => onClose(this));
    this.staging = `${spec.table}_staging`;
    this.writers = spec.columns.map((c) => appendValueFor(c.type));
    const sets = spec.columns.filter((c) => c.name !== spec.key).map((c) => `${quoteIdentifier(c.name)} = excluded.${quoteIdentifier(c.name)}`);
    this.merge = `INSERT INTO ${quoteIdentifier(spec.schema)}.${quoteIdentifier(spec.table)} SELECT * FROM ${quoteIdentifier(this.staging)} ON CONFLICT (${quoteIdentifier(spec.key)}) DO UPDATE SET ${sets.join(', ')}`;
  }

  upsert(rows: readonly (readonly unknown[])[]): Promise<void> {
    // one batch at a time on this connection
    const run = this.chain.then(() => this.runUpsert(rows));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async runUpsert(rows: readonly (readonly unknown[])[]): Promise<void> {
    if (this.closed) throw closedError();
    if (rows.length === 0) return;
    if (!this.appender) this.appender = await this.conn.createAppender(this.staging, 'main', 'temp');
    const ap = this.appender;
    await this.conn.run('BEGIN TRANSACTION');
    try {
      for (const row of rows) {
        for (let i = 0; i < this.writers.length; i++) {
          const v = row[i];
          if (v === null || v === undefined) ap.appendNull();
          else this.writers[i](ap, v);
        }
        ap.endRow();
      }
      ap.flushSync();
      await this.conn.run(this.merge);
      await this.conn.run(`DELETE FROM ${quoteIdentifier(this.staging)}`);
      await this.conn.run('COMMIT');
    } catch (e) {
      try {
        ap.clear();
      } catch {
        // appender already invalid
      }
      try {
        await this.conn.run('ROLLBACK');
      } catch {
        // the failed statement already ended the transaction
      }
      this.dropAppender();
      throw new AnalyticsError('InternalFailureException', `writing ${rows.length} rows to ${this.staging.replace(/_staging$/, '')} failed: ${messageOf(e)}`, { cause: e });
    }
  }

}

type AppendValue = (ap: DuckDBAppender, v: unknown) => void;

function appendValueFor(type: Column['type']): AppendValue {
  if (typeof type === 'object') return appendTypedFor(type);
  switch (type) {
    case 'TIMESTAMP': // epoch ms → DuckDB microseconds
      return (ap, v) => ap.appendTimestamp(new DuckDBTimestampValue(BigInt(Math.round((v as number) * 1000))));
    case 'DOUBLE':
      return (ap, v) => ap.appendDouble(v as number);
    case 'BIGINT':
      return (ap, v) => ap.appendBigInt(v as bigint);
    case 'BOOLEAN':
      return (ap, v) => ap.appendBoolean(v as boolean);
    case 'VARCHAR':
    case 'JSON': // JSON is VARCHAR with an alias; schema.ts already made the text
      return (ap, v) => ap.appendVarchar(v as string);
    default:
      return (ap) => ap.appendNull(); // columns we do not understand get NULL (counted upstream)
  }
}

/** Columns declared by a Parquet schemaDefinition; values already converted by glue-types.ts. */
function appendTypedFor(node: TypeNode): AppendValue {
  switch (node.kind) {
    case 'VARCHAR':
      return (ap, v) => ap.appendVarchar(v as string);
    case 'TINYINT':
      return (ap, v) => ap.appendTinyInt(v as number);
    case 'SMALLINT':
      return (ap, v) => ap.appendSmallInt(v as number);
    case 'INTEGER':
      return (ap, v) => ap.appendInteger(v as number);
    case 'BIGINT':
      return (ap, v) => ap.appendBigInt(v as bigint);
    case 'FLOAT':
      return (ap, v) => ap.appendFloat(v as number);
    case 'DOUBLE':
      return (ap, v) => ap.appendDouble(v as number);
    case 'BOOLEAN':
      return (ap, v) => ap.appendBoolean(v as boolean);
    case 'TIMESTAMP':
      return (ap, v) => ap.appendTimestamp(timestampValue(BigInt(v as number) * 1000n));
    case 'DATE':
      return (ap, v) => ap.appendDate(dateValue(v as number));
    case 'DECIMAL':
      return (ap, v) => ap.appendDecimal(decimalValue(scaledDecimal(v as string), DECIMAL_WIDTH, DECIMAL_SCALE));
    default: {
      const type = duckTypeOf(node);
      return (ap, v) => ap.appendValue(duckValueOf(node, v), type);
    }
  }
}

function duckTypeOf(node: TypeNode): DuckDBType {
  switch (node.kind) {
    case 'LIST':
      return LIST(duckTypeOf(node.item));
    case 'STRUCT':
      return STRUCT(Object.fromEntries(node.fields.map((f) => [f.name, duckTypeOf(f.type)])));
    case 'MAP':
      return MAP(duckTypeOf(node.key), duckTypeOf(node.value));
    case 'DECIMAL':
      return DECIMAL(DECIMAL_WIDTH, DECIMAL_SCALE);
    default:
      return { VARCHAR, TINYINT, SMALLINT, INTEGER, BIGINT, FLOAT, DOUBLE, BOOLEAN, TIMESTAMP, DATE }[node.kind];
  }
}

function duckValueOf(node: TypeNode, v: unknown): DuckDBValue {
  if (v === null || v === undefined) return null;
  switch (node.kind) {
    case 'TIMESTAMP':
      return timestampValue(BigInt(v as number) * 1000n);
    case 'DATE':
      return dateValue(v as number);
    case 'DECIMAL':
      return decimalValue(scaledDecimal(v as string), DECIMAL_WIDTH, DECIMAL_SCALE);
    case 'LIST':
      return listValue((v as unknown[]).map((x) => duckValueOf(node.item, x)));
    case 'STRUCT': {
      const o = v as Record<string, unknown>;
      return structValue(Object.fromEntries(node.fields.map((f) => [f.name, duckValueOf(f.type, o[f.name])])));
    }
    case 'MAP':
      return mapValue((v as { key: unknown; value: unknown }[]).map((e) => ({ key: duckValueOf(node.key, e.key), value: duckValueOf(node.value, e.value) })));
    default:
      return v as DuckDBValue; // string, number, bigint, boolean as converted
  }
}

function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

// ---------- results → JSON-safe values, one converter per column, chosen once per query ----------

type Convert = (v: DuckDBValue) => unknown;

function typeName(type: DuckDBType): string {
  return type.alias ?? type.toString();
}

function bigToJson(b: bigint): number | string {
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b.toString();
}

function isoFromMillis(ms: bigint, fallback: DuckDBValue): string {
  const n = Number(ms);
  const d = new Date(n);
  return Number.isFinite(n) && !Number.isNaN(d.getTime()) ? d.toISOString() : String(fallback);
}

function converterFor(type: DuckDBType): Convert {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
      return (v) => v;
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      // JSON has no NaN/Infinity: keep them readable as strings instead of a silent null
      return (v) => (Number.isFinite(v as number) ? v : String(v));
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return (v) => bigToJson(v as bigint);
    case DuckDBTypeId.DECIMAL:
      return (v) => {
        const text = String(v);
        const n = Number(text);
        // a decimal with more than 15 significant digits does not survive a double
        return text.replace(/[-.]/g, '').replace(/^0+/, '').length <= 15 ? n : text;
      };
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return (v) => isoFromMillis((v as DuckDBTimestampValue).micros / 1000n, v);
    case DuckDBTypeId.TIMESTAMP_S:
      return (v) => isoFromMillis((v as unknown as { seconds: bigint }).seconds * 1000n, v);
    case DuckDBTypeId.TIMESTAMP_MS:
      return (v) => isoFromMillis((v as unknown as { millis: bigint }).millis, v);
    case DuckDBTypeId.TIMESTAMP_NS:
      return (v) => isoFromMillis((v as unknown as { nanos: bigint }).nanos / 1000000n, v);
    case DuckDBTypeId.VARCHAR:
      if (type.alias === 'JSON') {
        return (v) => {
          try {
            return JSON.parse(v as string);
          } catch {
            return v; // not valid JSON text (written by someone else): keep the text
          }
        };
      }
      return (v) => v;
    case DuckDBTypeId.BLOB:
      return (v) => Buffer.from((v as unknown as { bytes: Uint8Array }).bytes).toString('base64');
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const item = converterFor((type as DuckDBListType | DuckDBArrayType).valueType);
      return (v) => (v as unknown as { items: DuckDBValue[] }).items.map((x) => (x === null ? null : item(x)));
    }
    case DuckDBTypeId.STRUCT: {
      const t = type as DuckDBStructType;
      const fields = t.entryNames.map((name, i) => [name, converterFor(t.entryTypes[i])] as const);
      return (v) => {
        const entries = (v as unknown as { entries: Record<string, DuckDBValue> }).entries;
        const out: Record<string, unknown> = {};
        for (const [name, conv] of fields) {
          const x = entries[name];
          out[name] = x === null || x === undefined ? null : conv(x);
        }
        return out;
      };
    }
    case DuckDBTypeId.MAP: {
      const t = type as DuckDBMapType;
      const key = converterFor(t.keyType);
      const value = converterFor(t.valueType);
      return (v) =>
        (v as unknown as { entries: { key: DuckDBValue; value: DuckDBValue }[] }).entries.map((e) => ({
          key: e.key === null ? null : key(e.key),
          value: e.value === null ? null : value(e.value),
        }));
    }
    case DuckDBTypeId.UNION: {
      const t = type as DuckDBUnionType;
      const members = new Map(t.memberTags.map((tag, i) => [tag, converterFor(t.memberTypes[i])]));
      return (v) => {
        const u = v as unknown as { tag: string; value: DuckDBValue };
        const conv = members.get(u.tag);
        return { tag: u.tag, value: u.value === null || !conv ? null : conv(u.value) };
      };
    }
    default:
      // DATE, TIME, INTERVAL, UUID, ENUM, BIT, VARIANT, GEOMETRY...: DuckDB's own text form
      return (v) => (typeof v === 'bigint' ? bigToJson(v) : typeof v === 'object' ? String(v) : v);
  }
}

// ---------- errors ----------

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function timeoutError(timeoutMs: number): AnalyticsError {
  return new AnalyticsError('QueryTimeoutException', `the query took too long: interrupted after ${timeoutMs} ms; narrow it (WHERE on __dt, LIMIT) or raise the time limit`);
}

function closedError(): AnalyticsError {
  return new AnalyticsError('ServiceUnavailableException', 'the analytics database is closed');
}

/** DuckDB failures while validating or running user SQL: the SQL's fault unless DuckDB says otherwise. */
function classify(e: unknown): AnalyticsError {
  if (e instanceof AnalyticsError) return e;
  // errors that crossed a worker or a re-throw may carry a leading "Error: "
  const message = messageOf(e).replace(/^Error: /, '');
  if (/^Out of Memory Error/i.test(message)) {
    // DuckDB's advice (SET threads, memory_limit...) cannot apply: the configuration is locked
    const what = message.split('\n')[0];
    return new AnalyticsError('QueryMemoryExceededException', `the query needs more memory than the database may use (${what}); narrow it (WHERE on __dt, LIMIT, fewer columns) or raise the duckdbMemoryLimit setting`, { cause: e });
  }
  if (/^(INTERNAL|IO|FATAL) Error/i.test(message)) {
    return new AnalyticsError('InternalFailureException', `the database failed to run the query: ${message}`, { cause: e });
  }
  return new AnalyticsError('InvalidRequestException', `invalid query: ${message}`, { cause: e });
}

/** A counting semaphore with a bounded wait queue, so a burst of queries cannot pile up. */
class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number, private readonly maxWaiting: number) {}

  async enter(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    if (this.waiting.length >= this.maxWaiting) {
      throw new AnalyticsError('ThrottlingException', `too many dataset queries at once (${this.limit} running, ${this.maxWaiting} waiting)`);
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  leave(): void {
    const next = this.waiting.shift();
    if (next) next(); // hand the slot over without releasing it
    else this.active--;
  }
}
