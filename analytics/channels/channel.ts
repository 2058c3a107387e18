// A channel: archives every raw message to disk before anything processes it, with group commit
// (concurrent appends share one gzip member and one write), a bounded admission queue
// (backpressure, then rejection), channel-unique sequence numbers that survive restarts, a
// read-back iterator by time range and day-based retention. A resent delivery whose key is in the
// redelivery index is acknowledged without being archived twice (redelivery.ts).
// A full disk: a failed write is cut back to its last whole member (append-member.ts), refused
// with a DiskFull message, and later appends are refused at once until statfs sees room again
// (../disk-full.ts); nothing is acknowledged that is not whole on disk.
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gzip as gzipCb } from 'node:zlib';
import { promisify } from 'node:util';
import type { ArchivedMessage, ChannelDefinition, IncomingChannelMessage, RetentionPeriod } from '../types.js';
import { AnalyticsError } from '../errors.js';
import { DiskSpaceLatch, isDiskFull, type DiskSpaceOptions } from '../disk-full.js';
import { checkResourceName } from '../names.js';
import { DAY_MS, channelDir, dayPartition, parseDayPartition, parseSegmentName, segmentName } from './layout.js';
import { encodeRecord } from './records.js';
import { readSegment } from './segment.js';
import { RedeliveryIndex, type RedeliveryOptions } from './redelivery.js';
import { AppendFailed, appendMember, type AppendTarget } from './append-member.js';

const gzipAsync = promisify(gzipCb);
/** zlib's fastest level: 2.8× less CPU per record than the default 6 for archives ~7 % larger
 * (JSON lines with base64 payloads, measured), and on a small machine that CPU is the ingest's */
const ARCHIVE_GZIP = { level: 1 };

export interface ChannelOptions {
  /** write as soon as this many messages are pending (default 1000) */
  flushMessages?: number;
  /** otherwise write this long after the first pending message (default 3 ms) */
  flushDelayMs?: number;
  /** fsync (datasync) each write before acknowledging it (default false) */
  fsync?: boolean;
  /** admission caps: messages/bytes accepted but not yet written (defaults 10 000 / 64 MiB) */
  maxPendingMessages?: number;
  maxPendingBytes?: number;
  /** appends allowed to wait for room; beyond that an append fails with ThrottlingException (default 10 000) */
  maxWaiters?: number;
  /** roll to a new segment past this size or age (defaults 64 MiB / 5 min) */
  maxSegmentBytes?: number;
  maxSegmentAgeMs?: number;
  /** how often retention runs (default 1 h; it also runs on open) */
  retentionCheckMs?: number;
  /** the redelivery window: delivery keys remembered (defaults 100 000 keys / 1 h) */
  redelivery?: RedeliveryOptions;
  /** when a full disk is looked at again, and how much room counts as room (../disk-full.ts) */
  diskSpace?: DiskSpaceOptions;
  /** opens a segment file for appending (default: the file system), for tests */
  openFile?: (path: string) => Promise<SegmentFile>;
  /** clock, for tests */
  now?: () => number;
}

/** What the channel needs of an open segment file (a FileHandle opened with 'a'). */
export interface SegmentFile extends AppendTarget {
  close(): Promise<void>;
}

export interface ChannelCounters {
  messages: number;
  /** payload bytes archived */
  bytes: number;
  /** compressed bytes written */
  archivedBytes: number;
  /** write batches (gzip members) */
  batches: number;
  backpressureWaits: number;
  rejections: number;
  writeErrors: number;
  pendingMessages: number;
  pendingBytes: number;
  lastSeq: number;
  /** epoch ms of the newest archived message (0 when none) */
  lastMessageArrivalTime: number;
  /** day partitions deleted by retention */
  retentionDeletedDays: number;
  /** resent deliveries (MQTT DUP=1) already archived: acknowledged, not archived again */
  duplicatesDropped: number;
  /** delivery keys in the redelivery window, and keys that left it (count or age bound) */
  redeliveryKeys: number;
  redeliveryKeysEvicted: number;
  /** 1 while the disk is known to be full (appends are refused without a write), else 0 */
  diskFull: number;
  /** messages refused because the disk was full (by a failed write or while it was known full) */
  diskFullRefusals: number;
  /** failed writes whose partial bytes were cut off again, leaving the segment whole */
  writesRolledBack: number;
}

export type ArchivedListener = (messages: ArchivedMessage[]) => void;

interface PendingAppend {
  messages: ArchivedMessage[];
  bytes: number;
  resolve: (m: ArchivedMessage[]) => void;
  reject: (e: unknown) => void;
  /** the promise its delivery keys were claimed with (claimKeys), settled by the write loop */
  keysClaimedBy: Promise<ArchivedMessage[]> | undefined;
}

interface Waiter {
  msgs: IncomingChannelMessage[];
  bytes: number;
  resolve: (m: ArchivedMessage[]) => void;
  reject: (e: unknown) => void;
  /** claimed while it waits; the write it is admitted to settles them */
  keysClaimedBy: Promise<ArchivedMessage[]> | undefined;
}

/** An admitted append's delivery keys: 'own' claims them with its write's promise; a promise has
 * claimed them already (an append that waited for room); undefined, none. */
type KeyClaim = 'own' | Promise<ArchivedMessage[]> | undefined;

interface OpenSegment {
  fh: SegmentFile;
  day: string;
  size: number;
  openedAt: number;
}

const SEQ_FILE = 'seq.json';
/** the processed watermark: every pipeline's writes for messages up to it have settled. On open a
 * pipeline resumes after max(this, its offset committed with its rows), see analytics/progress.ts */
const PROCESSED_FILE = 'processed.json';

export class Channel {
  readonly name: string;
  private retention: RetentionPeriod | undefined;
  private readonly dir: string;
  private readonly opts: Required<Omit<ChannelOptions, 'now' | 'redelivery' | 'diskSpace'>> & { now: () => number };
  private readonly disk: DiskSpaceLatch;
  private readonly redelivery: RedeliveryIndex;
  private lastSeq: number;
  private batch: PendingAppend[] = [];
  private batchMessages = 0;
  private writing = false;
  private timer: NodeJS.Timeout | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private readonly waiters: Waiter[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private readonly listeners: ArchivedListener[] = [];
  private segment: OpenSegment | null = null;
  private closed = false;
  private readonly c: ChannelCounters;
  private processed: number;
  private savedProcessed: number;
  private processedTimer: NodeJS.Timeout | null = null;

  private constructor(def: ChannelDefinition, dir: string, lastSeq: number, opts: ChannelOptions, redelivery: RedeliveryIndex) {
    this.name = def.channelName;
    this.retention = def.retentionPeriod;
    this.dir = dir;
    this.lastSeq = lastSeq;
    this.processed = lastSeq;
    this.savedProcessed = lastSeq;
    this.opts = {
      flushMessages: opts.flushMessages ?? 1000,
      flushDelayMs: opts.flushDelayMs ?? 3,
      fsync: opts.fsync ?? false,
      maxPendingMessages: opts.maxPendingMessages ?? 10_000,
      maxPendingBytes: opts.maxPendingBytes ?? 64 * 1024 * 1024,
      maxWaiters: opts.maxWaiters ?? 10_000,
      maxSegmentBytes: opts.maxSegmentBytes ?? 64 * 1024 * 1024,
      maxSegmentAgeMs: opts.maxSegmentAgeMs ?? 5 * 60_000,
      retentionCheckMs: opts.retentionCheckMs ?? 3_600_000,
      openFile: opts.openFile ?? ((path) => open(path, 'a')),
      now: opts.now ?? Date.now,
    };
    this.disk = new DiskSpaceLatch(dir, opts.diskSpace);
    this.c = {
      messages: 0,
      bytes: 0,
      archivedBytes: 0,
      batches: 0,
      backpressureWaits: 0,
      rejections: 0,
      writeErrors: 0,
      pendingMessages: 0,
      pendingBytes: 0,
      lastSeq,
      lastMessageArrivalTime: 0,
      retentionDeletedDays: 0,
      duplicatesDropped: 0,
      redeliveryKeys: 0,
      redeliveryKeysEvicted: 0,
      diskFull: 0,
      diskFullRefusals: 0,
      writesRolledBack: 0,
    };
    this.redelivery = redelivery;
  }

  /** Opens (creating if needed) the channel's archive and recovers its last sequence number. */
  static async open(dataDir: string, def: ChannelDefinition, opts: ChannelOptions = {}): Promise<Channel> {
    checkResourceName(def.channelName, 'channelName');
    checkRetention(def.retentionPeriod);
    const dir = channelDir(dataDir, def.channelName);
    await mkdir(dir, { recursive: true });
    const redelivery = new RedeliveryIndex(opts.redelivery);
    const lastSeq = await recoverTail(dir, def.channelName, redelivery, (opts.now ?? Date.now)());
    const ch = new Channel(def, dir, lastSeq, opts, redelivery);
    // No watermark file (a new channel, or an archive from before watermarks): nothing to replay.
    const processed = await readJsonNumber(join(dir, PROCESSED_FILE), 'processedSeq');
    ch.processed = ch.savedProcessed = processed === undefined ? lastSeq : Math.min(processed, lastSeq);
    if (processed === undefined) await ch.saveProcessed(true);
    await ch.applyRetention();
    ch.retentionTimer = setInterval(() => void ch.applyRetention().catch(() => undefined), ch.opts.retentionCheckMs);
    ch.retentionTimer.unref();
    return ch;
  }

  /** Changes the retention period (UpdateChannel) and applies it at once. */
  async setRetention(retention: RetentionPeriod | undefined): Promise<void> {
    checkRetention(retention);
    this.retention = retention;
    await this.applyRetention();
  }

  get retentionPeriod(): RetentionPeriod | undefined {
    return this.retention;
  }

  /** Called synchronously, in sequence order, after each batch is on disk and before the
   * appends of that batch resolve. */
  onArchived(listener: ArchivedListener): void {
    this.listeners.push(listener);
  }

  /**
   * Archives the messages. Resolves only once their bytes are written to the segment file (and
   * fsynced when configured); rejects with a coded error when the write fails. When the pending
   * caps are reached the call waits for room (backpressure); beyond `maxWaiters` it fails with
   * ThrottlingException. A redelivered message whose key is already archived is left out of the
   * result (counted in duplicatesDropped); one whose original is still being written waits for it.
   */
  append(msgs: IncomingChannelMessage[]): Promise<ArchivedMessage[]> {
    // Not an async function: this runs once per device message, and the usual case needs no
    // promise besides the write's own.
    try {
      return this.tryAppend(msgs);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private tryAppend(msgs: IncomingChannelMessage[]): Promise<ArchivedMessage[]> {
    if (this.closed) throw closedError(this.name);
    if (msgs.length === 0) return Promise.resolve([]);
    let bytes = 0;
    let keyed = false;
    let keep: IncomingChannelMessage[] | undefined; // set once a duplicate is left out
    let originals: Promise<unknown>[] | undefined; // writes of originals still in flight
    const now = this.opts.now();
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i];
      if (!Buffer.isBuffer(m.payload)) throw new AnalyticsError('InvalidRequestException', 'message payload must be a Buffer');
      if (m.deliveryKey !== undefined) {
        keyed = true;
        const original = m.redelivered === true ? this.redelivery.find(m.deliveryKey, now) : undefined;
        if (original !== undefined) {
          keep ??= msgs.slice(0, i);
          if (typeof original === 'number') this.c.duplicatesDropped++;
          else (originals ??= []).push(original.then(() => void this.c.duplicatesDropped++));
          continue;
        }
      }
      keep?.push(m);
      bytes += m.payload.length;
    }
    const admitted = keep === undefined ? this.enqueue(msgs, bytes, keyed) : keep.length > 0 ? this.enqueue(keep, bytes, keyed) : undefined;
    if (!originals) return admitted ?? Promise.resolve([]);
    // a duplicate is acknowledged only once its original is on disk (and fails with it)
    return Promise.all([admitted ?? [], ...originals]).then(([archived]) => archived as ArchivedMessage[]);
  }

  /** Admits now or waits for room; the keys of keyed messages are claimed until the write settles. */
  private enqueue(msgs: IncomingChannelMessage[], bytes: number, keyed: boolean): Promise<ArchivedMessage[]> {
    // the only cost a healthy disk pays: one boolean per append
    if (this.disk.full) {
      this.c.diskFullRefusals += msgs.length;
      return Promise.reject(this.disk.refusal());
    }
    if (this.waiters.length === 0 && this.fits(msgs.length, bytes)) return this.admit(msgs, bytes, keyed ? 'own' : undefined);
    return this.waitForRoom(msgs, bytes, keyed);
  }

  /** A write's delivery keys, claimed until the write loop settles them (settleKeys): a redelivery
   * arriving meanwhile waits for `write` instead of archiving a second copy. */
  private claimKeys(msgs: readonly { deliveryKey?: string }[], write: Promise<ArchivedMessage[]>, now: number): void {
    for (const m of msgs) if (m.deliveryKey !== undefined) this.redelivery.writing(m.deliveryKey, write, now);
  }

  /** Claimed keys: archived after their write, or free again after it failed (or never happened). */
  private settleKeys(msgs: readonly { deliveryKey?: string }[], write: Promise<ArchivedMessage[]> | undefined, ok: boolean): void {
    if (write === undefined) return;
    const at = this.opts.now();
    for (const m of msgs) {
      if (m.deliveryKey === undefined) continue;
      if (ok) this.redelivery.archived(m.deliveryKey, write, at);
      else this.redelivery.failed(m.deliveryKey, write);
    }
  }

  private waitForRoom(msgs: IncomingChannelMessage[], bytes: number, keyed: boolean): Promise<ArchivedMessage[]> {
    if (this.waiters.length >= this.opts.maxWaiters) {
      this.c.rejections++;
      return Promise.reject(new AnalyticsError('ThrottlingException', `channel "${this.name}" is full (${this.c.pendingMessages} messages pending)`));
    }
    this.c.backpressureWaits++;
    // Admitted later, in arrival order, by wakeWaiters().
    let waiter!: Waiter;
    const write = new Promise<ArchivedMessage[]>((resolve, reject) => {
      waiter = { msgs, bytes, resolve, reject, keysClaimedBy: undefined };
    });
    if (keyed) {
      waiter.keysClaimedBy = write;
      this.claimKeys(msgs, write, this.opts.now());
    }
    this.waiters.push(waiter);
    return write;
  }

  private fits(count: number, bytes: number): boolean {
    // An oversized batch is let in alone so it can never wait forever.
    if (this.c.pendingMessages === 0) return true;
    return this.c.pendingMessages + count <= this.opts.maxPendingMessages && this.c.pendingBytes + bytes <= this.opts.maxPendingBytes;
  }

  /** Takes the messages into the next write; the write loop settles their claimed keys (`keys`). */
  private admit(msgs: IncomingChannelMessage[], bytes: number, keys: KeyClaim): Promise<ArchivedMessage[]> {
    const now = this.opts.now();
    const archived = msgs.map((m): ArchivedMessage => {
      const a: ArchivedMessage = { channelName: this.name, seq: ++this.lastSeq, payload: m.payload, receivedAt: m.receivedAt ?? now };
      if (m.messageId !== undefined) a.messageId = m.messageId;
      if (m.clientId !== undefined) a.clientId = m.clientId;
      if (m.topic !== undefined) a.topic = m.topic;
      if (m.deliveryKey !== undefined) a.deliveryKey = m.deliveryKey;
      if (m.decoded !== undefined) a.decoded = m.decoded;
      return a;
    });
    this.c.pendingMessages += msgs.length;
    this.c.pendingBytes += bytes;
    let pending!: PendingAppend;
    const write = new Promise<ArchivedMessage[]>((resolve, reject) => {
      pending = { messages: archived, bytes, resolve, reject, keysClaimedBy: keys === 'own' ? undefined : keys };
    });
    if (keys === 'own') {
      pending.keysClaimedBy = write;
      this.claimKeys(archived, write, now);
    }
    this.batch.push(pending);
    this.batchMessages += archived.length;
    this.schedule();
    return write;
  }

  private schedule(): void {
    if (this.writing) return; // the running write loop takes everything pending when it finishes
    if (this.batchMessages >= this.opts.flushMessages) {
      this.startWriting();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.startWriting(), this.opts.flushDelayMs);
    }
  }

  private startWriting(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.writing) return;
    this.writing = true;
    void this.writeLoop();
  }

  /** One write at a time; whatever arrived during a write goes out together in the next one. */
  private async writeLoop(): Promise<void> {
    while (this.batch.length > 0) {
      const batch = this.batch;
      this.batch = [];
      this.batchMessages = 0;
      let count = 0;
      let bytes = 0;
      for (const p of batch) {
        count += p.messages.length;
        bytes += p.bytes;
      }
      try {
        // admitted before the disk filled up (waiters, the batch behind a failed write): no write
        if (this.disk.full) throw this.disk.refusal();
        await this.writeBatch(batch);
        this.c.messages += count;
        this.c.bytes += bytes;
        this.c.batches++;
        this.c.lastSeq = this.lastSeq;
        const lastAppend = batch[batch.length - 1].messages;
        this.c.lastMessageArrivalTime = Math.max(this.c.lastMessageArrivalTime, lastAppend[lastAppend.length - 1].receivedAt);
        for (const p of batch) this.settleKeys(p.messages, p.keysClaimedBy, true);
        for (const p of batch) this.notify(p.messages);
        for (const p of batch) p.resolve(p.messages);
      } catch (e) {
        let err: AnalyticsError;
        if (e instanceof AnalyticsError) {
          err = e; // refused, nothing written
          this.c.diskFullRefusals += count;
        } else {
          this.c.writeErrors++;
          if (isDiskFull(e)) {
            this.c.diskFullRefusals += count;
            err = await this.disk.trip(this.dir, e);
          } else {
            err = new AnalyticsError('InternalFailureException', `channel "${this.name}": archive write failed: ${(e as Error).message}`, { cause: e });
          }
        }
        for (const p of batch) this.settleKeys(p.messages, p.keysClaimedBy, false);
        for (const p of batch) p.reject(err);
      }
      this.c.pendingMessages -= count;
      this.c.pendingBytes -= bytes;
      this.wakeWaiters();
    }
    this.writing = false;
    for (const idle of this.idleWaiters.splice(0)) idle();
  }

  private notify(messages: ArchivedMessage[]): void {
    for (const l of this.listeners) {
      try {
        l(messages);
      } catch {
        // a listener's failure must not un-acknowledge an archived message
      }
    }
  }

  private wakeWaiters(): void {
    while (this.waiters.length > 0 && this.fits(this.waiters[0].msgs.length, this.waiters[0].bytes)) {
      const w = this.waiters.shift()!;
      // admit() takes its room synchronously, so the next waiter sees it taken.
      this.admit(w.msgs, w.bytes, w.keysClaimedBy).then(w.resolve, w.reject);
    }
  }

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    let text = '';
    for (const p of batch) for (const m of p.messages) text += encodeRecord(m);
    const member = await gzipAsync(Buffer.from(text, 'utf8'), ARCHIVE_GZIP);
    const seg = await this.segmentFor(member.length, batch[0].messages[0].seq);
    try {
      await appendMember(seg.fh, member, seg.size, this.opts.fsync);
    } catch (e) {
      if (e instanceof AppendFailed && e.clean) {
        this.c.writesRolledBack++; // the segment ends at its last whole member: keep appending to it
      } else {
        // it may end in a torn member (the cut failed): never append to it again
        await this.closeSegment().catch(() => undefined);
      }
      throw e instanceof AppendFailed ? e.cause : e;
    }
    seg.size += member.length;
    this.c.archivedBytes += member.length;
  }

  /** The segment to write to: a new one per UTC day, past the size/age limits, and after restart. */
  private async segmentFor(nextBytes: number, firstSeq: number): Promise<OpenSegment> {
    const now = this.opts.now();
    const day = dayPartition(now);
    const s = this.segment;
    if (s && s.day === day && s.size + nextBytes <= this.opts.maxSegmentBytes && now - s.openedAt < this.opts.maxSegmentAgeMs) return s;
    if (s) await this.closeSegment();
    const dayDir = join(this.dir, day);
    await mkdir(dayDir, { recursive: true });
    const fh = await this.opts.openFile(join(dayDir, segmentName(firstSeq, now)));
    this.segment = { fh, day, size: 0, openedAt: now };
    return this.segment;
  }

  private async closeSegment(): Promise<void> {
    const s = this.segment;
    this.segment = null;
    if (s) await s.fh.close();
  }

  /** Sequence number up to which every archived message has been processed (persisted). */
  get processedSeq(): number {
    return this.processed;
  }

  get lastSequence(): number {
    return this.lastSeq;
  }

  /** Records the processed watermark; saved at most once a second and on close. */
  markProcessed(seq: number): void {
    if (seq <= this.processed) return;
    this.processed = seq;
    if (!this.processedTimer) {
      this.processedTimer = setTimeout(() => {
        this.processedTimer = null;
        void this.saveProcessed().catch(() => undefined);
      }, 1000);
      this.processedTimer.unref();
    }
  }

  async saveProcessed(force = false): Promise<void> {
    if (this.processedTimer) {
      clearTimeout(this.processedTimer);
      this.processedTimer = null;
    }
    const seq = this.processed;
    if (seq === this.savedProcessed && !force) return;
    await writeJsonAtomic(join(this.dir, PROCESSED_FILE), { processedSeq: seq });
    this.savedProcessed = seq;
  }

  /** Archived messages with seq > `afterSeq`, in order, skipping segments that end before it. */
  async *readAfter(afterSeq: number): AsyncGenerator<ArchivedMessage> {
    const all: string[] = [];
    for (const d of await this.listDays()) for (const f of await listSegments(d.path)) all.push(join(d.path, f));
    all.sort((x, y) => parseSegmentName(basename(x))! - parseSegmentName(basename(y))!);
    // the last segment starting at or before afterSeq+1 may hold the first wanted message
    let start = 0;
    for (let i = 0; i < all.length; i++) if (parseSegmentName(basename(all[i]))! <= afterSeq + 1) start = i;
    for (let i = start; i < all.length; i++) {
      for await (const m of readSegment(all[i], this.name)) if (m.seq > afterSeq) yield m;
    }
  }

  /** Resolves when everything appended so far is written (or failed). */
  async flush(): Promise<void> {
    if (this.batch.length === 0 && !this.writing) return;
    const idle = new Promise<void>((r) => this.idleWaiters.push(r));
    if (!this.writing) this.startWriting();
    await idle;
  }

  /**
   * Archived messages whose receivedAt is in [startTime, endTime), in sequence order. Reads what
   * is on disk now (call flush() first to include pending appends).
   */
  async *read(range: { startTime?: number; endTime?: number } = {}): AsyncGenerator<ArchivedMessage> {
    const start = range.startTime ?? -Infinity;
    const end = range.endTime ?? Infinity;
    // Partitions are by write time while the range is on receivedAt (normally the same instant);
    // a day of slack on each side covers messages whose caller-given receivedAt differs a little.
    for (const { dayStart, path } of await this.listDays()) {
      if (dayStart + 2 * DAY_MS <= start || dayStart - DAY_MS >= end) continue;
      for (const file of await listSegments(path)) {
        for await (const m of readSegment(join(path, file), this.name)) {
          if (m.receivedAt >= start && m.receivedAt < end) yield m;
        }
      }
    }
  }

  /**
   * The newest `max` archived messages with receivedAt in [startTime, endTime), oldest first
   * (SampleChannelData). Walks partitions and segments newest first and stops as soon as it has
   * enough, so the cost does not grow with the archive.
   */
  async sample(max: number, range: { startTime?: number; endTime?: number } = {}): Promise<ArchivedMessage[]> {
    const start = range.startTime ?? -Infinity;
    const end = range.endTime ?? Infinity;
    const found: ArchivedMessage[][] = [];
    let have = 0;
    for (const { dayStart, path } of (await this.listDays()).reverse()) {
      if (dayStart + 2 * DAY_MS <= start) break;
      if (dayStart - DAY_MS >= end) continue;
      for (const file of (await listSegments(path)).reverse()) {
        const keep: ArchivedMessage[] = [];
        for await (const m of readSegment(join(path, file), this.name)) {
          if (m.receivedAt < start || m.receivedAt >= end) continue;
          keep.push(m);
          if (keep.length > max - have) keep.shift();
        }
        found.unshift(keep);
        have += keep.length;
        if (have >= max) return found.flat();
      }
    }
    return found.flat();
  }

  /** Bytes of the archive on disk (DescribeChannel statistics). */
  async archiveSizeBytes(): Promise<number> {
    let total = 0;
    for (const { path } of await this.listDays()) {
      for (const file of await listSegments(path)) total += await stat(join(path, file)).then((s) => s.size, () => 0);
    }
    return total;
  }

  /** DeleteChannel: closes the channel, then removes its whole archive directory. */
  async remove(): Promise<void> {
    await this.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async listDays(): Promise<{ dayStart: number; path: string; name: string }[]> {
    return listDays(this.dir);
  }

  /** Deletes whole days that lie entirely before now − numberOfDays (unlimited: keeps all). */
  async applyRetention(): Promise<void> {
    const r = this.retention;
    if (!r || r.unlimited || !r.numberOfDays) return;
    const cutoff = this.opts.now() - r.numberOfDays * DAY_MS;
    const expired = (await this.listDays()).filter((d) => d.dayStart + DAY_MS <= cutoff);
    if (expired.length === 0) return;
    // Keep the sequence high-water mark even if every segment goes away.
    await writeSeqFile(this.dir, this.lastSeq);
    for (const d of expired) {
      if (this.segment && this.segment.day === d.name) await this.closeSegment();
      await rm(d.path, { recursive: true, force: true });
      this.c.retentionDeletedDays++;
    }
  }

  counters(): ChannelCounters {
    return { ...this.c, redeliveryKeys: this.redelivery.size, redeliveryKeysEvicted: this.redelivery.evicted, diskFull: this.disk.full ? 1 : 0 };
  }

  /** Writes what is pending, closes the segment; later appends fail with ServiceUnavailable. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      this.settleKeys(w.msgs, w.keysClaimedBy, false);
      w.reject(closedError(this.name));
    }
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await this.flush();
    this.disk.clear(); // stops its probe; the files below are tried whatever it said
    await this.closeSegment();
    await writeSeqFile(this.dir, this.lastSeq);
    await this.saveProcessed();
  }
}

function closedError(name: string): AnalyticsError {
  return new AnalyticsError('ServiceUnavailableException', `channel "${name}" is closed`);
}

export function checkRetention(r: RetentionPeriod | undefined): void {
  if (r === undefined) return;
  if (typeof r !== 'object' || r === null) throw new AnalyticsError('InvalidRequestException', 'retentionPeriod must be an object');
  if (r.numberOfDays !== undefined) {
    if (!Number.isInteger(r.numberOfDays) || r.numberOfDays < 1) {
      throw new AnalyticsError('InvalidRequestException', 'retentionPeriod.numberOfDays must be an integer ≥ 1');
    }
    if (r.unlimited) throw new AnalyticsError('InvalidRequestException', 'retentionPeriod.numberOfDays requires unlimited to be false');
  }
}

async function listDays(dir: string): Promise<{ dayStart: number; path: string; name: string }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const days: { dayStart: number; path: string; name: string }[] = [];
  for (const name of names) {
    const dayStart = parseDayPartition(name);
    if (dayStart !== undefined) days.push({ dayStart, path: join(dir, name), name });
  }
  return days.sort((a, b) => a.dayStart - b.dayStart);
}

async function listSegments(dayDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dayDir);
  } catch {
    return [];
  }
  return names.filter((n) => parseSegmentName(n) !== undefined).sort();
}

/**
 * max(seq.json, the newest readable record) — a new segment is always started after a restart —
 * and the redelivery window reloaded from the newest records: segments are read newest first until
 * `maxKeys` records (keyed or not) or one older than the age bound, so start-up cost stays bounded.
 */
async function recoverTail(dir: string, channelName: string, index: RedeliveryIndex, now: number): Promise<number> {
  let last = await readSeqFile(dir);
  const cutoff = now - index.maxAgeMs;
  const found: [string, number][][] = []; // per segment, newest segment first
  let records = 0;
  let newest = true;
  const days = await listDays(dir);
  scan: for (let d = days.length - 1; d >= 0; d--) {
    const segments = await listSegments(days[d].path);
    for (let s = segments.length - 1; s >= 0; s--) {
      let maxSeq: number | undefined;
      let youngest = -Infinity;
      const keys: [string, number][] = [];
      for await (const m of readSegment(join(days[d].path, segments[s]), channelName)) {
        if (maxSeq === undefined || m.seq > maxSeq) maxSeq = m.seq;
        if (m.receivedAt > youngest) youngest = m.receivedAt;
        if (m.deliveryKey !== undefined && m.receivedAt >= cutoff) keys.push([m.deliveryKey, m.receivedAt]);
        records++;
      }
      if (newest) {
        // An unreadable segment still proves that seq first-1 was used before it.
        last = Math.max(last, maxSeq ?? parseSegmentName(segments[s])! - 1);
        newest = false;
      }
      found.push(keys);
      // (an empty segment, e.g. created just before a crash, says nothing about older ones)
      if (records >= index.maxKeys || (youngest !== -Infinity && youngest < cutoff)) break scan;
    }
  }
  for (let i = found.length - 1; i >= 0; i--) for (const [key, at] of found[i]) index.load(key, at, now);
  return last;
}

async function readSeqFile(dir: string): Promise<number> {
  return (await readJsonNumber(join(dir, SEQ_FILE), 'lastSeq')) ?? 0;
}

function writeSeqFile(dir: string, lastSeq: number): Promise<void> {
  return writeJsonAtomic(join(dir, SEQ_FILE), { lastSeq });
}

async function readJsonNumber(file: string, key: string): Promise<number | undefined> {
  try {
    const v = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    return typeof v[key] === 'number' ? (v[key] as number) : undefined;
  } catch {
    return undefined;
  }
}

async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(value));
  } catch (e) {
    await rm(tmp, { force: true }); // a full disk: give back what the partial file took
    throw e;
  }
  await rename(tmp, file);
}
