// The batching writer of one datastore: buffers appended rows, extends the table for new
// attributes, converts values to their columns and hands whole batches to the sink (DuckDB's
// appender), flushing when the buffer reaches `batchRows` or `flushDelayMs` after the oldest
// buffered row arrived, whichever comes first.
//
// Bounded: at most `maxPendingRows` rows are held (queued + being written); beyond that `append`
// waits (backpressure, FIFO so per-device order is kept). A batch that fails to commit rejects the
// append promises that carried it with a coded error and is counted in `rowsFailed` — the rows are
// still in the channel archive, so the caller can replay them.
//
// A full disk is the exception: DuckDB rolls back a commit whose WAL write failed, so the batch is
// kept and tried again (100 ms, doubling to 2 s) until it commits, or until close (or for at most
// `diskFullRetryMs`, when set). A batch that fails for good on a full disk commits nothing, and
// nothing after it commits either, so its pipeline's offset stays before it and a restart replays it. Nothing behind it overtakes it (order), and the rows it holds keep counting
// against `maxPendingRows`, so the pipeline and, through it, the producers wait (backpressure).
// Its appends settle only when it commits, so the pipeline's processed watermark does not move
// past rows that are not in the datastore yet.

import type { PipelineMessage } from '../types.js';
import { AnalyticsError } from '../errors.js';
import { isDatabaseInvalidated, isDiskFull } from '../disk-full.js';
import type { SourceOffset, TableSink } from './duckdb.js';
import type { Column, TableSchema } from './schema.js';
import { convertForColumn, DT_COLUMN, MISMATCH } from './schema.js';
import { RowLagHistogram, type RowLagSnapshot } from './row-lag.js';

export interface WriterOptions {
  /** flush as soon as this many rows are buffered */
  batchRows?: number;
  /** flush at the latest this long after the oldest buffered row arrived */
  flushDelayMs?: number;
  /** rows held before `append` waits */
  maxPendingRows?: number;
  /** how long a batch refused for a full disk is tried again before it fails (default: until it
   * commits or the writer closes) */
  diskFullRetryMs?: number;
}

export type CommitListener = (rows: PipelineMessage[], committedAt: number) => void;
export type { SourceOffset } from './duckdb.js';

export interface DatastoreWriter {
  /**
   * Buffer rows; resolves once they are committed (queryable), rejects if their batch failed.
   * `source` (the pipeline's offset after these rows) commits in the same transaction; with it,
   * `rows` may be empty (an offset alone, e.g. a new pipeline's starting point).
   */
  append(rows: PipelineMessage[], ingestedAt: number, source?: SourceOffset): Promise<void>;
  /**
   * Resolves once every row accepted before the call (not still waiting for buffer space) is
   * committed or has failed; failures are reported through the append promises and counters.
   */
  flush(): Promise<void>;
  /** Called after each commit with the rows as stored (column names, converted values, `__dt` ms). */
  onCommit(listener: CommitListener): void;
  counters(): Record<string, number>;
  /** receive-to-commit time of the rows pipelines wrote (reprocessing, which rewrites old
   * messages, is left out) */
  rowLag(): RowLagSnapshot;
}

interface Entry {
  seq: number;
  rows: PipelineMessage[];
  ingestedAt: number;
  source: SourceOffset | undefined;
  arrivedAt: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

const DEFAULTS = { batchRows: 5000, flushDelayMs: 50, maxPendingRows: 50_000, diskFullRetryMs: Infinity };
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2000;

export class BatchingWriter implements DatastoreWriter {
  private readonly batchRows: number;
  private readonly flushDelayMs: number;
  private readonly maxPendingRows: number;
  private readonly diskFullRetryMs: number;
  private wakeRetry: (() => void) | null = null;

  private readonly queue: Entry[] = [];
  private readonly inflight = new Set<Entry>();
  private readonly waiters: { need: number; admit: () => void }[] = [];
  private readonly listeners: CommitListener[] = [];
  private readonly lag = new RowLagHistogram();
  private pendingRows = 0; // queued + in flight + admitted-but-not-yet-queued
  private queuedRows = 0; // in `queue` only: what the next batches can take
  private seq = 0;
  private flushUntil = 0; // entries with seq <= flushUntil go out regardless of batch size
  private timer: NodeJS.Timeout | null = null;
  private pumping = false;
  private closing = false;

  private readonly stats = {
    rowsWritten: 0,
    batches: 0,
    typeMismatches: 0,
    droppedAttributes: 0,
    columnsAdded: 0,
    rowsFailed: 0,
    flushErrors: 0,
    backpressureWaits: 0,
    listenerErrors: 0,
    lastBatchMs: 0,
    lastCommitAt: 0,
    /** attempts refused because the disk was full, and the rows of the batch held for the next one */
    diskFullRetries: 0,
    diskFullHeldRows: 0,
  };

  constructor(
    readonly datastoreName: string,
    private readonly schema: TableSchema,
    private readonly sink: TableSink,
    opts: WriterOptions = {},
  ) {
    this.batchRows = Math.max(1, opts.batchRows ?? DEFAULTS.batchRows);
    this.flushDelayMs = Math.max(0, opts.flushDelayMs ?? DEFAULTS.flushDelayMs);
    this.maxPendingRows = Math.max(this.batchRows, opts.maxPendingRows ?? DEFAULTS.maxPendingRows);
    this.diskFullRetryMs = Math.max(0, opts.diskFullRetryMs ?? DEFAULTS.diskFullRetryMs);
  }

  async append(rows: PipelineMessage[], ingestedAt: number, source?: SourceOffset): Promise<void> {
    if (this.closing) throw closedError(this.datastoreName);
    if (rows.length === 0 && !source) return;
    // Wait behind earlier waiters too, so a small append cannot overtake a big one (order).
    if (this.waiters.length > 0 || (this.pendingRows > 0 && this.pendingRows + rows.length > this.maxPendingRows)) {
      this.stats.backpressureWaits++;
      await new Promise<void>((admit) => this.waiters.push({ need: rows.length, admit }));
      // admitted: admitWaiters() already reserved our rows in pendingRows
    } else {
      this.pendingRows += rows.length;
    }
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.queue.push({ seq: ++this.seq, rows, ingestedAt, source, arrivedAt: Date.now(), done, resolve, reject });
    this.queuedRows += rows.length;
    this.kick();
    return done;
  }

  async flush(): Promise<void> {
    const waiting = [...this.inflight, ...this.queue].map((e) => e.done);
    this.flushUntil = this.seq;
    this.kick();
    await Promise.allSettled(waiting);
  }

  onCommit(listener: CommitListener): void {
    this.listeners.push(listener);
  }

  counters(): Record<string, number> {
    return { ...this.stats, pendingRows: this.pendingRows, waitingAppends: this.waiters.length };
  }

  rowLag(): RowLagSnapshot {
    return this.lag.snapshot();
  }

  /** Refuse new appends, write everything accepted (waiting appends included), then stop. */
  async close(): Promise<void> {
    this.closing = true;
    this.wakeRetry?.(); // a batch held for a full disk gets its last attempt now
    while (this.queue.length > 0 || this.inflight.size > 0 || this.waiters.length > 0) {
      await this.flush();
      // admitted waiters enqueue on a later microtask; give them the chance before looking again
      await new Promise<void>((r) => setImmediate(r));
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  // ---------- scheduling ----------

  private kick(): void {
    if (this.pumping) return; // the running pump looks at the queue again when it is done
    const head = this.queue[0];
    if (!head) return;
    if (this.queuedRows >= this.batchRows || head.seq <= this.flushUntil) {
      void this.pump();
      return;
    }
    if (!this.timer) {
      const wait = Math.max(0, head.arrivedAt + this.flushDelayMs - Date.now());
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flushUntil = Math.max(this.flushUntil, this.seq);
        this.kick();
      }, wait);
    }
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    try {
      for (;;) {
        const head = this.queue[0];
        if (!head || (this.queuedRows < this.batchRows && head.seq > this.flushUntil)) break;
        await this.writeBatch(this.takeBatch());
      }
    } finally {
      this.pumping = false;
    }
    this.kick(); // leftovers smaller than a batch: arm the delay timer
  }

  private takeBatch(): Entry[] {
    const batch: Entry[] = [];
    let rows = 0;
    while (this.queue.length > 0 && (batch.length === 0 || rows + this.queue[0].rows.length <= this.batchRows)) {
      const e = this.queue.shift()!;
      rows += e.rows.length;
      batch.push(e);
      this.inflight.add(e);
    }
    this.queuedRows -= rows;
    return batch;
  }

  // ---------- one batch ----------

  private async writeBatch(batch: Entry[]): Promise<void> {
    let rowCount = 0;
    for (const e of batch) rowCount += e.rows.length;
    let failedSince = 0;
    for (let delay = RETRY_FIRST_MS; ; delay = Math.min(2 * delay, RETRY_MAX_MS)) {
      const counted = { typeMismatches: this.stats.typeMismatches, droppedAttributes: this.stats.droppedAttributes };
      const err = await this.tryBatch(batch, rowCount);
      if (err === undefined) break;
      const now = Date.now();
      failedSince ||= now;
      if (this.closing || !isDiskFull(err) || isDatabaseInvalidated(err) || now - failedSince >= this.diskFullRetryMs) {
        this.stats.diskFullHeldRows = 0;
        this.stats.rowsFailed += rowCount;
        this.stats.flushErrors++;
        this.settle(batch, rowCount);
        for (const e of batch) e.reject(err);
        return;
      }
      // the next attempt converts the rows again: count what it finds once
      Object.assign(this.stats, counted);
      this.stats.diskFullRetries++;
      this.stats.diskFullHeldRows = rowCount;
      await new Promise<void>((resume) => {
        const timer = setTimeout(resume, delay);
        this.wakeRetry = () => {
          clearTimeout(timer);
          resume();
        };
      });
      this.wakeRetry = null;
    }
    this.stats.diskFullHeldRows = 0;
  }

  /** One attempt: commits the batch and settles it (undefined), or returns the coded error. */
  private async tryBatch(batch: Entry[], rowCount: number): Promise<AnalyticsError | undefined> {
    const started = Date.now();
    try {
      const additions = this.schema.plan(batch.flatMap((e) => e.rows));
      if (additions.length > 0) {
        await this.sink.addColumns(additions);
        for (const c of additions) this.schema.add(c);
        this.stats.columnsAdded += additions.length;
      }
      const columns = this.schema.columns;
      const wantStored = this.listeners.length > 0;
      const matrix: unknown[][] = [];
      const stored: PipelineMessage[] = [];
      for (const e of batch) {
        for (const row of e.rows) {
          const { values, storedRow } = this.convertRow(row, e.ingestedAt, columns, wantStored);
          matrix.push(values);
          if (storedRow) stored.push(storedRow);
        }
      }
      await this.sink.appendRows(columns, matrix, offsetsOf(batch));
      const committedAt = Date.now();
      this.stats.rowsWritten += rowCount;
      this.stats.batches++;
      this.stats.lastBatchMs = committedAt - started;
      this.stats.lastCommitAt = committedAt;
      this.settle(batch, rowCount);
      for (const e of batch) {
        // a pipeline's append carries its source offset; a reprocessing replay does not
        if (e.source && e.rows.length > 0) this.lag.record(committedAt - e.ingestedAt, e.rows.length);
        e.resolve();
      }
      if (wantStored && stored.length > 0) this.emit(stored, committedAt);
      return undefined;
    } catch (err) {
      return err instanceof AnalyticsError
        ? err
        : new AnalyticsError('InternalFailureException', `writing ${rowCount} rows to datastore ${this.datastoreName} failed: ${String(err)}`, { cause: err });
    }
  }

  private convertRow(
    row: PipelineMessage,
    ingestedAt: number,
    columns: readonly Column[],
    wantStored: boolean,
  ): { values: unknown[]; storedRow: PipelineMessage | null } {
    const values: unknown[] = new Array(columns.length).fill(null);
    values[0] = ingestedAt; // __dt, always the first column
    const storedRow: PipelineMessage | null = wantStored ? { [DT_COLUMN]: ingestedAt } : null;
    for (const name in row) {
      const value = row[name];
      if (value === undefined) continue;
      const i = this.schema.indexOf(name);
      if (i <= 0) {
        // -1: no column (unusable name, over the column cap); 0: __dt belongs to the service
        if (value !== null || i === 0) this.stats.droppedAttributes++;
        continue;
      }
      const column = columns[i];
      const converted = convertForColumn(value, column.type);
      if (converted === MISMATCH) {
        this.stats.typeMismatches++;
        values[i] = null;
        if (storedRow) storedRow[column.name] = null;
        continue;
      }
      values[i] = converted;
      // consumers see what a query would return: JSON columns as the parsed value, others as stored
      if (storedRow) storedRow[column.name] = column.type === 'JSON' ? value : typeof converted === 'bigint' ? Number(converted) : converted;
    }
    return { values, storedRow };
  }

  private settle(batch: Entry[], rowCount: number): void {
    for (const e of batch) this.inflight.delete(e);
    this.pendingRows -= rowCount;
    this.admitWaiters();
  }

  private admitWaiters(): void {
    while (this.waiters.length > 0) {
      const w = this.waiters[0];
      if (this.pendingRows > 0 && this.pendingRows + w.need > this.maxPendingRows) break;
      this.waiters.shift();
      this.pendingRows += w.need; // reserve now so later waiters see the space as taken
      w.admit();
    }
  }

  private emit(rows: PipelineMessage[], committedAt: number): void {
    for (const listener of this.listeners) {
      try {
        listener(rows, committedAt);
      } catch {
        this.stats.listenerErrors++; // a faulty consumer must not fail the write
      }
    }
  }
}

/** One offset per (pipeline, channel) for the batch: the latest wins, as appends come in order. */
function offsetsOf(batch: readonly Entry[]): SourceOffset[] {
  const byKey = new Map<string, SourceOffset>();
  for (const { source } of batch) {
    if (!source) continue;
    const key = `${source.pipelineName}\u0000${source.channelName}`;
    const seen = byKey.get(key);
    // a reset stays a reset when later appends of the same batch move it on
    if (seen && !source.reset) byKey.set(key, { ...seen, seq: Math.max(seen.seq, source.seq) });
    else byKey.set(key, source);
  }
  return [...byKey.values()];
}

function closedError(name: string): AnalyticsError {
  return new AnalyticsError('ServiceUnavailableException', `datastore ${name} is closing; no more rows are accepted`);
}
