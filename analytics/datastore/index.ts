// The datastore folder's public face: one DuckDB database file, one table per datastore, one
// batching writer per datastore, and read-only dataset queries. Nothing outside this folder sees
// DuckDB (only duckdb.ts imports it).

import type { DatastoreDefinition } from '../types.js';
import { AnalyticsError } from '../errors.js';
import type { DuckEngine, EngineOptions, KeyedTable, KeyedTableSpec, QueryColumn, TableSink } from './duckdb.js';
import { openEngine } from './duckdb.js';
import type { Column } from './schema.js';
import { DT_COLUMN, TableSchema } from './schema.js';
import { parseGlueType } from './glue-types.js';
import type { PartitionPlan } from './partitions.js';
import { planPartitions } from './partitions.js';
import type { ExportRange, ExportResult } from './export.js';
import { exportTable } from './export.js';
import type { DatastoreWriter, WriterOptions } from './writer.js';
import { BatchingWriter } from './writer.js';
import type { HistoryRequest, HistoryResult } from './history.js';
import { queryHistory } from './history.js';

export type { DatastoreWriter, CommitListener, WriterOptions } from './writer.js';
export type { RowLagSnapshot } from './row-lag.js';
export type { QueryColumn, SourceOffset, KeyedTable, KeyedTableSpec } from './duckdb.js';
export type { ExportRange, ExportResult } from './export.js';
export type { HistoryRequest, HistoryResult } from './history.js';
export { MAX_HISTORY_POINTS } from './history.js';
export { OFFSETS_TABLE } from './duckdb.js';

export interface DatabaseOptions extends WriterOptions {
  /** DuckDB memory_limit, e.g. '1GB' */
  memoryLimit?: string;
  /** DuckDB worker threads */
  threads?: number;
  /** default time limit of a query (ms) */
  queryTimeoutMs?: number;
  /** a query returning more rows than this fails with LimitExceededException */
  maxResultRows?: number;
  /** most attribute columns a datastore table gets; further new attributes are dropped and counted */
  maxColumns?: number;
  maxConcurrentQueries?: number;
  maxQueuedQueries?: number;
  /** absolute directory of Parquet exports (the only place DuckDB may write files); none: no export */
  exportDirectory?: string;
}

export interface QueryOptions {
  timeoutMs?: number;
  maxRows?: number;
}

export interface QueryResult {
  columns: QueryColumn[];
  rows: unknown[][];
}

export interface Database {
  /** Create the datastore's table if missing; idempotent across restarts. */
  ensureDatastore(def: DatastoreDefinition): Promise<void>;
  /** The datastore's writer (one per datastore, cached). ResourceNotFoundException if unknown. */
  writer(datastoreName: string): DatastoreWriter;
  /** Run one read-only SELECT; JSON-safe values. */
  query(sql: string, opts?: QueryOptions): Promise<QueryResult>;
  listDatastores(): string[];
  /**
   * Extra to the facade contract: refuse further appends, write what is buffered, then drop the
   * table (DeleteDatastore). ResourceNotFoundException if unknown.
   */
  dropDatastore(datastoreName: string): Promise<void>;
  /** Extra: delete rows ingested before the cutoff (epoch ms), for retention; returns the count. */
  deleteRowsBefore(datastoreName: string, cutoffMs: number): Promise<number>;
  /** Extra: an estimate of the table's size in bytes (DescribeDatastore statistics): the DuckDB
   * file blocks holding its checkpointed rows, plus rows not yet checkpointed at the same bytes per
   * row (or, before any checkpoint, their mean text size). */
  estimatedSizeBytes(datastoreName: string): Promise<number>;
  /** Extra: commit what the writer holds, then write the rows of [startTime, endTime) (whole UTC
   * days) as hive-partitioned Parquet under exportDirectory (export.ts). One export per datastore
   * at a time; a second waits. */
  exportDatastore(datastoreName: string, range?: ExportRange): Promise<ExportResult>;
  /** Extra: one device's rows of [from, to), raw or bucketed to about `points` rows (history.ts).
   * ResourceNotFoundException for an unknown datastore, InvalidRequestException for an unknown
   * or non-numeric attribute. */
  history(req: HistoryRequest): Promise<HistoryResult>;
  /** Extra: a keyed table of our own outside the datastores' schema (alerts); closed with the database. */
  openKeyedTable(spec: KeyedTableSpec): Promise<KeyedTable>;
  /** Flush every writer, then close connections and the instance. */
  close(): Promise<void>;
}

/** Datastore names as AWS IoT Analytics allows them (1..128, no leading `__`). */
const DATASTORE_NAME = /^(?!__)[a-zA-Z0-9_]{1,128}$/;

const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESULT_ROWS = 100_000;

export async function openDatabase(file: string, opts: DatabaseOptions = {}): Promise<Database> {
  const engineOpts: EngineOptions = {
    memoryLimit: opts.memoryLimit,
    threads: opts.threads,
    maxConcurrentQueries: opts.maxConcurrentQueries,
    maxQueuedQueries: opts.maxQueuedQueries,
    exportDirectory: opts.exportDirectory,
  };
  const engine = await openEngine(file, engineOpts);
  const db = new DuckDatabase(engine, opts);
  try {
    await db.load();
  } catch (e) {
    await engine.close();
    throw e;
  }
  return db;
}

interface Store {
  name: string;
  schema: TableSchema;
  partitions: PartitionPlan;
  writer: BatchingWriter | null;
  sink: TableSink | null;
  /** the export running (or last run) for this datastore, so exports of one table queue up */
  exporting: Promise<unknown>;
}

class DuckDatabase implements Database {
  /** keyed by lower-cased name: DuckDB table names are case-insensitive */
  private readonly stores = new Map<string, Store>();
  private closing: Promise<void> | null = null;

  constructor(private readonly engine: DuckEngine, private readonly opts: DatabaseOptions) {}

  /** Read tables and their columns back from DuckDB so a restart continues with the same schema. */
  async load(): Promise<void> {
    for (const { table, columns } of await this.engine.listTables()) {
      this.stores.set(table.toLowerCase(), this.newStore(table, columns));
    }
  }

  async ensureDatastore(def: DatastoreDefinition): Promise<void> {
    this.assertOpen();
    const name = def.datastoreName;
    if (typeof name !== 'string' || !DATASTORE_NAME.test(name)) {
      throw new AnalyticsError('InvalidRequestException', `invalid datastoreName ${JSON.stringify(name)}: 1..128 of [a-zA-Z0-9_], not starting with "__"`);
    }
    // A declared Parquet schema fixes the table's columns (validated by resources.ts already).
    // (an empty column list declares nothing: the columns evolve with the data, as for JSON)
    const listed = def.fileFormatConfiguration?.parquetConfiguration?.schemaDefinition?.columns;
    const declared = listed && listed.length > 0 ? listed : undefined;
    const typed: Column[] | undefined = declared?.map((c, i) => ({ name: c.name, type: parseGlueType(c.type, `schemaDefinition.columns[${i}].type`) }));
    const partitions = planPartitions(def.datastorePartitions);
    const existing = this.stores.get(name.toLowerCase());
    if (existing) {
      existing.partitions = partitions;
      // after a restart the table's columns come back from DuckDB as untyped; the definition
      // (immutable) says what they are
      if (typed && !existing.schema.fixed && !existing.writer) existing.schema = this.schemaOf(typed);
      return;
    }
    const columns: Column[] = [{ name: DT_COLUMN, type: 'TIMESTAMP' }, ...(typed ?? [])];
    await this.engine.createTable(name, columns);
    if (!this.stores.has(name.toLowerCase())) {
      const store = this.newStore(name, columns);
      if (typed) store.schema = this.schemaOf(typed);
      store.partitions = partitions;
      this.stores.set(name.toLowerCase(), store);
    }
  }

  private schemaOf(typed: readonly Column[]): TableSchema {
    return new TableSchema([{ name: DT_COLUMN, type: 'TIMESTAMP' }, ...typed], Number.MAX_SAFE_INTEGER, true);
  }

  exportDatastore(datastoreName: string, range: ExportRange = {}): Promise<ExportResult> {
    this.assertOpen();
    const store = this.store(datastoreName);
    const root = this.opts.exportDirectory;
    if (root === undefined) throw new AnalyticsError('InvalidRequestException', 'this database has no export directory');
    const run = store.exporting.then(async () => {
      if (store.writer) await store.writer.flush();
      return exportTable(this.engine, { table: store.name, columns: store.schema.columns, plan: store.partitions, root, range });
    });
    store.exporting = run.catch(() => undefined);
    return run;
  }

  writer(datastoreName: string): DatastoreWriter {
    this.assertOpen();
    const store = this.store(datastoreName);
    if (!store.writer) store.writer = this.newWriter(store);
    return store.writer;
  }

  async dropDatastore(datastoreName: string): Promise<void> {
    this.assertOpen();
    const store = this.store(datastoreName);
    this.stores.delete(store.name.toLowerCase()); // writer() now says not found
    if (store.writer) await store.writer.close();
    store.sink?.close();
    await this.engine.dropTable(store.name);
  }

  deleteRowsBefore(datastoreName: string, cutoffMs: number): Promise<number> {
    this.assertOpen();
    return this.engine.deleteBefore(this.store(datastoreName).name, cutoffMs);
  }

  async estimatedSizeBytes(datastoreName: string): Promise<number> {
    this.assertOpen();
    const name = this.store(datastoreName).name; // validated: [a-zA-Z0-9_] only, safe to inline
    const s = await this.engine.tableStorage(name);
    const pending = Math.max(0, s.rows - s.persistentRows);
    if (pending === 0) return s.persistentBytes;
    let perRow = s.persistentRows > 0 ? s.persistentBytes / s.persistentRows : 0;
    if (perRow === 0) {
      // nothing checkpointed yet: the mean size of the values as text, over up to 1000 rows
      const r = await this.query(`SELECT avg(strlen(CAST(COLUMNS(*) AS VARCHAR))) FROM (SELECT * FROM "${name}" LIMIT 1000)`, { maxRows: 1 });
      perRow = (r.rows[0] ?? []).reduce<number>((sum, v) => sum + Number(v ?? 0), 0);
    }
    return Math.round(s.persistentBytes + pending * perRow);
  }

  private store(datastoreName: string): Store {
    const store = this.stores.get(String(datastoreName).toLowerCase());
    if (!store) throw new AnalyticsError('ResourceNotFoundException', `datastore ${datastoreName} does not exist`);
    return store;
  }

  query(sql: string, opts: QueryOptions = {}): Promise<QueryResult> {
    return this.engine.select(sql, {
      timeoutMs: opts.timeoutMs ?? this.opts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
      maxRows: opts.maxRows ?? this.opts.maxResultRows ?? DEFAULT_MAX_RESULT_ROWS,
    });
  }

  listDatastores(): string[] {
    return [...this.stores.values()].map((s) => s.name).sort();
  }

  async history(req: HistoryRequest): Promise<HistoryResult> {
    this.assertOpen();
    const store = this.store(req.datastoreName);
    const select = (sql: string, params: readonly (string | number | bigint)[], opts: { timeoutMs: number; maxRows: number }) => this.engine.selectWith(sql, params, opts);
    return queryHistory(select, store.name, store.schema.columns, req, this.opts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS);
  }

  openKeyedTable(spec: KeyedTableSpec): Promise<KeyedTable> {
    this.assertOpen();
    return this.engine.openKeyedTable(spec);
  }

  close(): Promise<void> {
    if (!this.closing) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const writers = [...this.stores.values()].map((s) => s.writer).filter((w): w is BatchingWriter => w !== null);
    await Promise.allSettled(writers.map((w) => w.close()));
    await this.engine.close();
  }

  private newStore(name: string, columns: readonly Column[]): Store {
    return { name, schema: new TableSchema(columns, this.opts.maxColumns), partitions: { attributes: [] }, writer: null, sink: null, exporting: Promise.resolve() };
  }

  /**
   * The writer is handed out synchronously; its DuckDB sink (a connection and an appender) is
   * opened on first use, so writer() stays cheap. A failed open is retried by the next batch.
   */
  private newWriter(store: Store): BatchingWriter {
    const engine = this.engine;
    let opening: Promise<TableSink> | null = null;
    const sink = (): Promise<TableSink> => {
      if (!opening) {
        opening = engine.openSink(store.name);
        opening.catch(() => {
          opening = null;
        });
      }
      return opening;
    };
    const lazySink: TableSink = {
      addColumns: async (cols) => (await sink()).addColumns(cols),
      appendRows: async (cols, rows, offsets) => (await sink()).appendRows(cols, rows, offsets),
      close: () => {
        void opening?.then((s) => s.close(), () => undefined);
      },
    };
    store.sink = lazySink;
    return new BatchingWriter(store.name, store.schema, lazySink, this.opts);
  }

  private assertOpen(): void {
    if (this.closing) throw new AnalyticsError('ServiceUnavailableException', 'the analytics database is closed');
  }
}
