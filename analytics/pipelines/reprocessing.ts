// Pipeline reprocessing (StartPipelineReprocessing / CancelPipelineReprocessing, spec §3.6):
// replays archived channel messages through ONE pipeline's compiled chain (the very object live
// processing uses) into its datastore through the same batching writer, in the background.
//
// Ordered: messages go through in archive (sequence) order and their rows keep the original
// ingestion time as `__dt`. Bounded: the source is read in chunks of `chunkMessages`; at most
// `maxInflightChunks` chunks wait for their commit before reading continues, so neither the
// archive nor its rows are ever held whole. Cancel stops between chunks; what was handed to the
// writer before is still committed, the remainder is abandoned. The writer's own backpressure
// applies to the replay as to live processing, and the loop yields to I/O between chunks.
//
// Rows are appended again (as AWS does): no deduplication against rows already stored, and no
// source offset is handed to the writer, so live processing's committed position never moves.
import { randomUUID } from 'node:crypto';
import type { ArchivedMessage, PipelineMessage, ReprocessingRequest, ReprocessingStatus, ReprocessingSummary } from '../types.js';
import { AnalyticsError, invalidRequest, notFound } from '../errors.js';
import type { CompiledPipeline } from './compile.js';
import { decodePayload } from './payload.js';

/** Where replayed rows go: the datastore's writer, deliberately without a source offset. */
export type ReplaySink = (datastoreName: string, rows: PipelineMessage[], ingestedAt: number) => Promise<void>;

export interface ReprocessingOptions {
  /** messages read and run per chunk (default 1000) */
  chunkMessages?: number;
  /** chunks whose rows may await their commit while the next is read (default 4) */
  maxInflightChunks?: number;
  /** runs remembered per pipeline for reprocessingSummaries (default 10) */
  keepSummaries?: number;
  /** clock for creationTime (tests) */
  now?: () => number;
}

export interface ReprocessingCounters {
  started: number;
  succeeded: number;
  cancelled: number;
  failed: number;
  /** 1 while a run of this pipeline is RUNNING */
  running: number;
  /** archived messages fed through the pipeline by reprocessing */
  messagesReplayed: number;
  /** replayed payloads that are not a JSON object (skipped, as live processing skips them) */
  invalidPayloads: number;
  rowsWritten: number;
  rowsFailed: number;
}

/** What a validated StartPipelineReprocessing asks for. */
export type ReprocessingScope = { kind: 'range'; startTime?: number; endTime?: number } | { kind: 'files'; s3Paths: string[] };

/**
 * Validates the request body (epoch ms): a time range or `channelMessages`, never both; the range
 * must be non-empty ([startTime, endTime), startTime < endTime); neither means the whole archive.
 */
export function checkReprocessingRequest(req: ReprocessingRequest | undefined): ReprocessingScope {
  const r = req ?? {};
  if (typeof r !== 'object' || r === null) throw invalidRequest('the request body must be an object');
  const time = (name: 'startTime' | 'endTime'): number | undefined => {
    const v = r[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidRequest(`${name} must be a timestamp`);
    return v;
  };
  const startTime = time('startTime');
  const endTime = time('endTime');
  if (r.channelMessages !== undefined && r.channelMessages !== null) {
    if (startTime !== undefined || endTime !== undefined) {
      throw invalidRequest('give either startTime/endTime or channelMessages, not both');
    }
    if (typeof r.channelMessages !== 'object' || !Array.isArray(r.channelMessages.s3Paths)) {
      throw invalidRequest('channelMessages must be {"s3Paths": [...]}');
    }
    return { kind: 'files', s3Paths: r.channelMessages.s3Paths };
  }
  if (startTime !== undefined && endTime !== undefined && startTime >= endTime) {
    throw invalidRequest(`startTime must be before endTime (the range is [startTime, endTime)), got ${new Date(startTime).toISOString()} .. ${new Date(endTime).toISOString()}`);
  }
  const scope: ReprocessingScope = { kind: 'range' };
  if (startTime !== undefined) scope.startTime = startTime;
  if (endTime !== undefined) scope.endTime = endTime;
  return scope;
}

interface Run {
  summary: ReprocessingSummary;
  cancelled: boolean;
  done: Promise<void>;
}

const zeroCounters = (): ReprocessingCounters => ({
  started: 0,
  succeeded: 0,
  cancelled: 0,
  failed: 0,
  running: 0,
  messagesReplayed: 0,
  invalidPayloads: 0,
  rowsWritten: 0,
  rowsFailed: 0,
});

/** The reprocessing runs of every pipeline (in memory: a restart forgets them). */
export class Reprocessing {
  /** pipeline → runs, most recent first, at most keepSummaries */
  private readonly runs = new Map<string, Run[]>();
  private readonly stats = new Map<string, ReprocessingCounters>();
  private readonly opts: Required<ReprocessingOptions>;
  private closed = false;

  constructor(private readonly sink: ReplaySink, opts: ReprocessingOptions = {}) {
    this.opts = {
      chunkMessages: Math.max(1, opts.chunkMessages ?? 1000),
      maxInflightChunks: Math.max(1, opts.maxInflightChunks ?? 4),
      keepSummaries: Math.max(1, opts.keepSummaries ?? 10),
      now: opts.now ?? Date.now,
    };
  }

  /** ResourceAlreadyExistsException (409) while a run of the pipeline is RUNNING. */
  assertIdle(pipelineName: string): void {
    const running = this.runs.get(pipelineName)?.find((r) => r.summary.status === 'RUNNING');
    if (running) {
      throw new AnalyticsError('ResourceAlreadyExistsException', `pipeline "${pipelineName}" is already reprocessing (${running.summary.id}); cancel it or wait until it ends`, {
        details: { resourceId: running.summary.id },
      });
    }
  }

  /** Starts replaying `source` through `pipeline` in the background; returns the run's id. */
  start(pipeline: CompiledPipeline, source: AsyncIterable<ArchivedMessage>): string {
    if (this.closed) throw new AnalyticsError('ServiceUnavailableException', 'analytics is closed');
    const name = pipeline.pipelineName;
    this.assertIdle(name);
    const summary: ReprocessingSummary = { id: randomUUID(), status: 'RUNNING', creationTime: this.opts.now() };
    const run: Run = { summary, cancelled: false, done: Promise.resolve() };
    const list = this.runs.get(name) ?? [];
    list.unshift(run);
    // only the newest can be running, so trimming the tail never drops a running one
    list.length = Math.min(list.length, this.opts.keepSummaries);
    this.runs.set(name, list);
    const c = this.countersOf(name);
    c.started++;
    c.running = 1;
    run.done = this.replay(run, pipeline, source, c).then((status) => {
      summary.status = status;
      c.running = 0;
      c[status === 'SUCCEEDED' ? 'succeeded' : status === 'CANCELLED' ? 'cancelled' : 'failed']++;
    });
    return summary.id;
  }

  /**
   * Stops a RUNNING run between chunks and resolves once it has stopped (status CANCELLED). A run
   * that already ended keeps its status (no error). ResourceNotFoundException for an id this
   * pipeline does not have (or no longer remembers).
   */
  async cancel(pipelineName: string, id: string): Promise<void> {
    const run = this.runs.get(pipelineName)?.find((r) => r.summary.id === id);
    if (!run) throw notFound(`pipeline "${pipelineName}" has no reprocessing "${id}"`);
    if (run.summary.status !== 'RUNNING') return;
    run.cancelled = true;
    await run.done;
  }

  /** Most recent first. */
  summaries(pipelineName: string): ReprocessingSummary[] {
    return (this.runs.get(pipelineName) ?? []).map((r) => ({ ...r.summary }));
  }

  counters(pipelineName: string): ReprocessingCounters {
    return { ...(this.stats.get(pipelineName) ?? zeroCounters()) };
  }

  private countersOf(pipelineName: string): ReprocessingCounters {
    let c = this.stats.get(pipelineName);
    if (!c) this.stats.set(pipelineName, (c = zeroCounters()));
    return c;
  }

  /** DeletePipeline: stops its run and forgets its history and counters. */
  async forget(pipelineName: string): Promise<void> {
    const list = this.runs.get(pipelineName) ?? [];
    for (const r of list) r.cancelled = true;
    await Promise.all(list.map((r) => r.done));
    this.runs.delete(pipelineName);
    this.stats.delete(pipelineName);
  }

  /** Stops every run between chunks (before the writers close); later starts are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.runs.values()].flat();
    for (const r of all) r.cancelled = true;
    await Promise.all(all.map((r) => r.done));
  }

  private async replay(run: Run, p: CompiledPipeline, source: AsyncIterable<ArchivedMessage>, c: ReprocessingCounters): Promise<ReprocessingStatus> {
    const inflight: Promise<boolean>[] = [];
    let failure = false;
    const settleOldest = async (): Promise<void> => {
      if (!(await inflight.shift())) failure = true;
    };
    let chunk: ArchivedMessage[] = [];
    const handOver = async (): Promise<void> => {
      // awaited up to the hand-over, so appends reach the writer in archive order
      const { committed } = await this.processChunk(p, chunk, c);
      inflight.push(committed);
      chunk = [];
      while (inflight.length >= this.opts.maxInflightChunks && !failure) await settleOldest();
      // let live ingest and processing run between chunks
      await new Promise<void>((r) => setImmediate(r));
    };
    try {
      for await (const m of source) {
        if (run.cancelled || failure) break; // leaving the loop closes the archive reader
        chunk.push(m);
        if (chunk.length >= this.opts.chunkMessages) await handOver();
      }
      if (chunk.length > 0 && !run.cancelled && !failure) await handOver();
    } catch {
      failure = true; // unreadable archive, or a failing batch pipeline
    }
    while (inflight.length > 0) await settleOldest();
    if (failure) return 'FAILED';
    return run.cancelled ? 'CANCELLED' : 'SUCCEEDED';
  }

  /** Runs one chunk through the chain and hands its rows to the writer. Resolves once handed
   * over; `committed` then settles on their commit, false if an append failed (it never rejects:
   * it may wait unobserved in the in-flight window). Rows go out in runs of equal ingestion time,
   * which becomes their `__dt`. */
  private async processChunk(p: CompiledPipeline, chunk: ArchivedMessage[], c: ReprocessingCounters): Promise<{ committed: Promise<boolean> }> {
    c.messagesReplayed += chunk.length;
    const inputs = chunk.map((m) => {
      const message = decodePayload(m.payload);
      if (message === null) c.invalidPayloads++;
      return { message, payload: m.payload, at: m.receivedAt, seq: m.seq };
    });
    // A pipeline holding a lambda activity only runs through its asynchronous batch path, which
    // also hands non-JSON payloads to a lambda right after the channel (as live processing does).
    let out: { row: PipelineMessage; at: number }[];
    if (p.batched) {
      out = await p.processBatch(inputs);
    } else {
      out = [];
      for (const x of inputs) {
        if (x.message === null) continue;
        const row = p.process(x.message);
        if (row !== null) out.push({ row, at: x.at });
      }
    }
    const writes: Promise<boolean>[] = [];
    for (let i = 0; i < out.length; ) {
      const at = out[i].at;
      const rows: PipelineMessage[] = [];
      for (; i < out.length && out[i].at === at; i++) rows.push(out[i].row);
      writes.push(
        this.append(p.datastoreName, rows, at).then(
          () => {
            c.rowsWritten += rows.length;
            return true;
          },
          () => {
            c.rowsFailed += rows.length;
            return false;
          },
        ),
      );
    }
    return { committed: Promise.all(writes).then((oks) => oks.every(Boolean)) };
  }

  /** The sink as a promise even when it throws at once (closed database, datastore gone). */
  private append(datastoreName: string, rows: PipelineMessage[], at: number): Promise<void> {
    try {
      return this.sink(datastoreName, rows, at);
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

/** The archive as it stood when a run started: stops at the first message after `lastSeq` (the
 * archive is read in sequence order), so messages archived later are live processing's alone. */
export async function* archivedUpTo(source: AsyncIterable<ArchivedMessage>, lastSeq: number): AsyncGenerator<ArchivedMessage> {
  for await (const m of source) {
    if (m.seq > lastSeq) return;
    yield m;
  }
}
