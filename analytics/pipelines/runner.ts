// Feeds one channel's archived messages through every pipeline that reads that channel, in
// archive order, and hands the output rows to a row sink (the datastore writer). One runner per
// channel; a single async loop keeps per-channel (hence per-device) order.
//
// Bounded: the queue holds at most `maxQueuedMessages`; producers reserve() room before they
// archive more (backpressure). Messages that arrive anyway beyond `hardCapMessages` (the channel
// listener cannot wait) are dropped and counted — they stay in the archive for replay.
import type { ArchivedMessage, PipelineMessage } from '../types.js';
import type { CompiledPipeline } from './compile.js';
import { decodePayload } from './payload.js';
import { mustReplay } from '../disk-full.js';

/** Where an append's rows come from: once they commit, `pipelineName` is done with every message
 * of `channelName` up to `seq` (the sink stores that offset in the same transaction). */
export interface RowSource {
  channelName: string;
  pipelineName: string;
  seq: number;
}

export type RowSink = (datastoreName: string, rows: PipelineMessage[], ingestedAt: number, source: RowSource) => Promise<void>;

export interface RunnerOptions {
  /** soft cap: producers wait above it (default 20 000) */
  maxQueuedMessages?: number;
  /** hard cap: messages beyond it are dropped and counted (default 4 × soft cap) */
  hardCapMessages?: number;
  /** messages decoded and run per loop turn (default 500) */
  chunkSize?: number;
  /** row-sink appends in flight before the loop waits (default 256) */
  maxInflightWrites?: number;
  /** rows in flight (handed to the sink, not yet committed) before the loop waits (default 20 000) */
  maxInflightRows?: number;
}

export interface RunnerCounters {
  enqueued: number;
  processed: number;
  queued: number;
  /** payloads that are not a JSON object: archived, never processed */
  invalidPayloads: number;
  /** messages dropped because the queue was beyond its hard cap */
  queueDrops: number;
  backpressureWaits: number;
  rowsOut: number;
  writeErrors: number;
  /** epoch ms of the last message processed (0 when none) */
  lastProcessedAt: number;
  /** messages re-fed from the archive at start-up (acknowledged but unprocessed before a stop) */
  replayed: number;
  /** the processed watermark (see ChannelRunner.processedSeq) */
  processedSeq: number;
}

/** What a pipeline's datastore writes came to; only the latest failure is kept (bounded). */
export interface PipelineWriteStats {
  rowsOut: number;
  writeErrors: number;
  lastWriteError?: { message: string; at: number };
}

export class ChannelRunner {
  private readonly queue: ArchivedMessage[] = [];
  private head = 0; // index of the next message in `queue` (avoids O(n) shift)
  private running = false;
  /** each settles true when its rows must be replayed (mustReplay), false otherwise; never rejects */
  private readonly inflight = new Set<Promise<boolean>>();
  private readonly roomWaiters: { count: number; admit: () => void }[] = [];
  private reserved = 0;
  private inflightRows = 0;
  private chunkWrites: Promise<boolean>[] = [];
  private readonly doneQueue: { seq: number; done: boolean }[] = [];
  private watermark = 0;
  /** per pipeline: messages at or below this seq are already in its datastore (or predate it) */
  private readonly startAfter = new Map<string, number>();
  /** called whenever the processed watermark advances (the facade persists it) */
  onWatermark: ((seq: number) => void) | null = null; // messages producers are archiving right now (see reserve())
  private readonly idleWaiters: (() => void)[] = [];
  private readonly opts: Required<RunnerOptions>;
  private readonly c: RunnerCounters = {
    enqueued: 0,
    processed: 0,
    queued: 0,
    invalidPayloads: 0,
    queueDrops: 0,
    backpressureWaits: 0,
    rowsOut: 0,
    writeErrors: 0,
    lastProcessedAt: 0,
    replayed: 0,
    processedSeq: 0,
  };
  /** per pipeline: rows written / failed, and the latest write failure */
  private readonly perPipeline = new Map<string, PipelineWriteStats>();

  constructor(
    readonly channelName: string,
    private readonly pipelines: () => readonly CompiledPipeline[],
    private readonly sink: RowSink,
    opts: RunnerOptions = {},
  ) {
    const soft = opts.maxQueuedMessages ?? 20_000;
    this.opts = {
      maxQueuedMessages: soft,
      hardCapMessages: Math.max(soft, opts.hardCapMessages ?? soft * 4),
      chunkSize: opts.chunkSize ?? 500,
      maxInflightWrites: opts.maxInflightWrites ?? 256,
      maxInflightRows: opts.maxInflightRows ?? 20_000,
    };
  }

  private get size(): number {
    return this.queue.length - this.head;
  }

  /**
   * Reserves room for `count` messages a producer is about to archive; waits (FIFO) while the
   * queue plus outstanding reservations would exceed the soft cap. Call the returned function
   * once the archive append has settled (its messages are then in the queue, or failed).
   */
  async reserve(count: number): Promise<() => void> {
    if (!this.tryReserve(count)) {
      this.c.backpressureWaits++;
      await new Promise<void>((admit) => this.roomWaiters.push({ count, admit }));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(count);
    };
  }

  /** reserve() without waiting: takes the room and says true only when it is free now and nobody
   * waits before us (so order holds); the caller then owes exactly one release(count). */
  tryReserve(count: number): boolean {
    if (this.roomWaiters.length > 0 || !this.fits(count)) return false;
    this.reserved += count;
    return true;
  }

  release(count: number): void {
    this.reserved -= count;
    this.wakeProducers();
  }

  private fits(count: number): boolean {
    const used = this.size + this.reserved;
    // A request larger than the cap is let in alone so it can never wait forever.
    return used === 0 || used + count <= this.opts.maxQueuedMessages;
  }

  /** Takes archived messages (synchronously, in archive order) and starts the loop. */
  enqueue(msgs: readonly ArchivedMessage[]): void {
    for (const m of msgs) {
      if (this.size >= this.opts.hardCapMessages) {
        this.c.queueDrops++;
        continue;
      }
      this.queue.push(m);
      this.c.enqueued++;
    }
    if (!this.running) {
      this.running = true;
      void this.loop();
    }
  }

  /** Resolves once everything enqueued so far is processed and its row writes have settled. */
  async drain(): Promise<void> {
    if (this.running) await new Promise<void>((r) => this.idleWaiters.push(r));
    await Promise.allSettled([...this.inflight]);
  }

  counters(): RunnerCounters {
    return { ...this.c, queued: this.size, processedSeq: this.watermark };
  }

  pipelineCounters(pipelineName: string): PipelineWriteStats {
    const s = this.perPipeline.get(pipelineName);
    if (!s) return { rowsOut: 0, writeErrors: 0 };
    const out: PipelineWriteStats = { rowsOut: s.rowsOut, writeErrors: s.writeErrors };
    if (s.lastWriteError) out.lastWriteError = { ...s.lastWriteError };
    return out;
  }

  /** Messages archived up to `lastSequence` that the pipeline has not yet been through (its rows
   * not yet committed): the archive's end minus the processed watermark, or minus where the
   * pipeline started when that is later. */
  backlog(pipelineName: string, lastSequence: number): number {
    const through = Math.max(this.watermark, this.startAfter.get(pipelineName) ?? 0);
    return Math.max(0, lastSequence - through);
  }

  private async loop(): Promise<void> {
    try {
      while (this.size > 0) {
        const end = Math.min(this.queue.length, this.head + this.opts.chunkSize);
        const chunk = this.queue.slice(this.head, end);
        this.head = end;
        if (this.head > 4096 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        this.wakeProducers();
        await this.processChunk(chunk);
        // Let I/O and producers run between chunks: a long backlog must not starve the loop.
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.running = false;
      this.queue.length = 0;
      this.head = 0;
      for (const idle of this.idleWaiters.splice(0)) idle();
    }
  }

  private wakeProducers(): void {
    while (this.roomWaiters.length > 0 && this.fits(this.roomWaiters[0].count)) {
      const w = this.roomWaiters.shift()!;
      this.reserved += w.count; // taken now, so the next waiter sees it
      w.admit();
    }
  }

  private async processChunk(chunk: ArchivedMessage[]): Promise<void> {
    const pipelines = this.pipelines();
    const writes: Promise<boolean>[] = [];
    this.chunkWrites = writes;
    // Decode each payload once, unless the rule that sent it already had it as an object; every
    // pipeline reads the same object (activities copy on write).
    const decoded: (PipelineMessage | null)[] = chunk.map((m) => {
      const v = m.decoded ?? decodePayload(m.payload);
      if (v === null) this.c.invalidPayloads++;
      return v;
    });
    for (const p of pipelines) {
      const after = this.startAfter.get(p.pipelineName) ?? 0;
      let rows: PipelineMessage[] = [];
      let at = -1;
      // `upTo`: the run's offset — its rows plus the messages after them that made no row
      const flushRun = async (upTo: number): Promise<void> => {
        if (rows.length > 0) await this.write(p, rows, at, upTo);
        rows = [];
      };
      if (p.batched) {
        // A pipeline with a lambda activity runs the chunk through its asynchronous batch path;
        // payloads that are not JSON objects go along (a lambda right after the channel gets them).
        const inputs = chunk.flatMap((m, i) => (m.seq <= after ? [] : [{ message: decoded[i], payload: m.payload, at: m.receivedAt, seq: m.seq }]));
        const out = await p.processBatch(inputs);
        for (let k = 0; k < out.length; k++) {
          if (out[k].at !== at) {
            await flushRun(k > 0 ? out[k - 1].seq : after);
            at = out[k].at;
          }
          rows.push(out[k].row);
        }
        await flushRun(chunk[chunk.length - 1].seq);
        continue;
      }
      for (let i = 0; i < chunk.length; i++) {
        const v = decoded[i];
        if (v === null || chunk[i].seq <= after) continue;
        const row = p.process(v);
        if (row === null) continue;
        // Rows are appended in runs of equal ingestion time, which becomes their __dt.
        if (chunk[i].receivedAt !== at) {
          await flushRun(i > 0 ? chunk[i - 1].seq : after);
          at = chunk[i].receivedAt;
        }
        rows.push(row);
      }
      await flushRun(chunk[chunk.length - 1].seq);
    }
    this.c.processed += chunk.length;
    this.c.lastProcessedAt = Date.now();
    this.trackDone(chunk[chunk.length - 1].seq, writes);
  }

  /**
   * The processed watermark: the highest seq such that every message up to it has been through
   * the pipelines and all its row writes have settled. Chunks may settle out of order (different
   * datastores), so the watermark only advances over a settled prefix.
   */
  private trackDone(lastSeq: number, writes: Promise<boolean>[]): void {
    const entry = { seq: lastSeq, done: writes.length === 0 };
    this.doneQueue.push(entry);
    if (entry.done) this.advanceWatermark();
    else
      void Promise.all(writes).then((replay) => {
        // a write refused for a full disk (after the writer's retries) or by an invalidated
        // database holds the watermark here for good, so the next start replays these messages
        // from the archive; a write refused for its rows' sake is counted and passed over
        if (replay.some(Boolean)) return;
        entry.done = true;
        this.advanceWatermark();
      });
  }

  private advanceWatermark(): void {
    let moved = false;
    while (this.doneQueue.length > 0 && this.doneQueue[0].done) {
      this.watermark = this.doneQueue.shift()!.seq;
      moved = true;
    }
    if (moved) this.onWatermark?.(this.watermark);
  }

  /** Starts the watermark where the persisted one left off. */
  startAt(seq: number): void {
    this.watermark = seq;
  }

  /** The pipeline skips messages up to `seq`: they are in its datastore already, or were archived
   * before it existed (a new pipeline starts at the channel's end). */
  startPipelineAfter(pipelineName: string, seq: number): void {
    this.startAfter.set(pipelineName, seq);
  }

  forgetPipeline(pipelineName: string): void {
    this.startAfter.delete(pipelineName);
  }

  /**
   * Re-feeds archived messages that were acknowledged but not processed before a crash or an
   * unclean stop (seq > the persisted watermark), through the same bounded queue.
   */
  async replay(messages: AsyncIterable<ArchivedMessage>, chunkSize = 500): Promise<number> {
    let chunk: ArchivedMessage[] = [];
    let n = 0;
    const push = async (): Promise<void> => {
      const release = await this.reserve(chunk.length);
      this.enqueue(chunk);
      release();
      n += chunk.length;
      this.c.replayed += chunk.length;
      chunk = [];
    };
    for await (const m of messages) {
      chunk.push(m);
      if (chunk.length >= chunkSize) await push();
    }
    if (chunk.length > 0) await push();
    return n;
  }

  /** see trackDone(); 0 until something is processed */
  get processedSeq(): number {
    return this.watermark;
  }

  private async write(p: CompiledPipeline, rows: PipelineMessage[], ingestedAt: number, upTo: number): Promise<void> {
    // Appends resolve on commit (the writer batches by delay), so many must be in flight at once
    // for throughput; rows and appends in flight are both capped.
    while (this.inflight.size > 0 && (this.inflight.size >= this.opts.maxInflightWrites || this.inflightRows >= this.opts.maxInflightRows)) {
      await Promise.race(this.inflight);
    }
    this.inflightRows += rows.length;
    let stats = this.perPipeline.get(p.pipelineName);
    if (!stats) this.perPipeline.set(p.pipelineName, (stats = { rowsOut: 0, writeErrors: 0 }));
    const s = stats;
    let promise: Promise<void>;
    try {
      promise = this.sink(p.datastoreName, rows, ingestedAt, { channelName: this.channelName, pipelineName: p.pipelineName, seq: upTo });
    } catch (e) {
      promise = Promise.reject(e);
    }
    const tracked = promise.then(
      () => {
        this.c.rowsOut += rows.length;
        s.rowsOut += rows.length;
        return false;
      },
      (e: unknown) => {
        // The rows stay in the channel archive; the counter tells operators to replay.
        this.c.writeErrors += rows.length;
        s.writeErrors += rows.length;
        s.lastWriteError = { message: `writing ${rows.length} rows to datastore ${p.datastoreName} failed: ${e instanceof Error ? e.message : String(e)}`, at: Date.now() };
        return mustReplay(e);
      },
    );
    const done = tracked.finally(() => {
      this.inflight.delete(done);
      this.inflightRows -= rows.length;
    });
    this.inflight.add(done);
    this.chunkWrites.push(done);
  }
}
