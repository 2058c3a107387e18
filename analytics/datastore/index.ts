// The datastore folder's public face: one DuckDB database file, one table per datastore, one
// batching writer per datastore, and read-only dataset queries. Nothing outside this folder sees
// DuckDB (only duckdb.ts imports it).

import type { DatastoreDefinition } from '../types.js';
import { AnalyticsError } from '../errors.js';
import type { DuckEngine, EngineOptions, QueryColumn, TableSink } from './duckdb.js';
import { openEngine } from './duckdb.js';
import type { Column } from './schema.js';
import { DT_COLUMN, TableSchema } from './schema.js';
import type { DatastoreWriter, WriterOptions } from './writer.js';
import { BatchingWriter } from './writer.js';

export type { DatastoreWriter, CommitListener, WriterOptions } from './writer.js';
export type { QueryColumn } from './duckdb.js';

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
  /** Extra: an estimate of the table's size (DescribeDatastore statistics): DuckDB's row count
   * times the mean text size of up to 1000 rows. */
  estimatedSizeBytes(datastoreName: string): Promise<number>;
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
  writer: BatchingWriter | null;
  sink: TableSink | null;
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
    if (this.stores.has(name.toLowerCase())) return;
    const columns: Column[] = [{ name: DT_COLUMN, type: 'TIMESTAMP' }];
    await this.engine.createTable(name, columns);
    if (!this.stores.has(name.toLowerCase())) this.stores.set(name.toLowerCase(), this.newStore(name, columns));
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
    const r = await this.query(
      `SELECT (SELECT estimated_size FROM duckdb_tables() WHERE lower(table_name) = lower('${name}') LIMIT 1) AS n, ` +
        `(SELECT avg(strlen(CAST(s AS VARCHAR))) FROM (SELECT * FROM "${name}" LIMIT 1000) AS s) AS mean`,
      { maxRows: 1 },
    );
    const [n, mean] = r.rows[0] ?? [];
    return Math.round(Number(n ?? 0) * Number(mean ?? 0));
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
    return { name, schema: new TableSchema(columns, this.opts.maxColumns), writer: null, sink: null };
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
      appendRows: async (cols, rows) => (await sink()).appendRows(cols, rows),
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
