// Durable retained messages: `<dataDir>/retained.jsonl`, an append-only journal with one JSON line
// per retained publish, {"topic", "payload" (base64), "qos", "lastModifiedTime"}; an empty payload
// deletes the topic's message (MQTT [MQTT-3.3.1-10], AWS). A publish costs one small append
// whatever the number of retained topics.
// At start-up the journal is replayed, messages not updated for RETAINED_LIFETIME_MS (AWS: 3
// years) are dropped, and the live ones are written to a temporary file, fsynced and renamed over
// the journal. While running it is compacted the same way once it holds more than
// COMPACT_MIN_LINES lines and twice as many lines as live messages.
// A torn last line (a crash in the middle of an append) was never acknowledged: it is dropped.
// An unreadable line before it is a damaged file: start-up is refused (RetainedFileInvalid).
// With `fsync`, every append is on disk (power loss, not only crashes) before the publish is
// acknowledged, as the other stores of the data directory do.
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerError } from '../errors.js';
import { syncFolder, writeFileAtomic } from '../atomic-file.js';
import { appendJsonLine, COMPACT_MIN_LINES, readJsonLines } from './json-lines.js';
import { createRetainedIndex, retainedRefusal, type RetainedMessage, type RetainedReader } from './retained.js';

export const RETAINED_FILE = 'retained.jsonl';
/** AWS deletes a retained message 3 years after its last update */
export const RETAINED_LIFETIME_MS = 3 * 365 * 24 * 60 * 60 * 1000;
/** AWS IoT's default quota of retained messages per account */
export const MAX_RETAINED_MESSAGES = 500_000;

export interface RetainedStoreOptions {
  /** fsync every append (the server's `fsync` setting) */
  fsync: boolean;
  /** largest retained payload, bytes (the server's maxPayloadBytes, AWS: 128 KB) */
  maxPayloadBytes: number;
  /** retained topics the store holds at most (default MAX_RETAINED_MESSAGES) */
  maxMessages?: number;
  now?: () => number;
}

export interface RetainedCounters {
  /** retained publishes stored (new or replaced) and deleted (empty payload) since start */
  stored: number;
  deleted: number;
  /** retained publishes refused: payload too large, quota full, reserved topic */
  refused: number;
  /** messages dropped at start-up for being older than the retention */
  expired: number;
  compactions: number;
  /** retained publishes refused because the disk was full (DiskFull: not journaled, not acknowledged) */
  diskFull: number;
}

export interface RetainedStore extends RetainedReader {
  readonly path: string;
  readonly counters: RetainedCounters;
  /** the journal's last line was torn at start-up and dropped */
  readonly droppedTornTail: boolean;
  /** throws the coded error a retained publish of `payload` on `topic` would be refused with */
  admit(topic: string, payload: Buffer): void;
  /** records a retained publish (an empty payload deletes) in the journal, then in memory */
  put(topic: string, payload: Buffer, qos: number): RetainedMessage | undefined;
  /** every retained message, to load into the broker at start-up */
  messages(): IterableIterator<RetainedMessage>;
  close(): void;
}

export interface RetainedLine {
  topic: string;
  payload: string;
  qos: number;
  lastModifiedTime: number;
}

export function openRetainedStore(dataDir: string, options: RetainedStoreOptions): RetainedStore {
  const path = join(dataDir, RETAINED_FILE);
  const now = options.now ?? Date.now;
  const maxMessages = options.maxMessages ?? MAX_RETAINED_MESSAGES;
  const counters: RetainedCounters = { stored: 0, deleted: 0, refused: 0, expired: 0, compactions: 0, diskFull: 0 };
  const index = createRetainedIndex();

  const read = readJournal(path);
  for (const line of read.lines) {
    if (line.payload === '') index.delete(line.topic);
    else index.set({ topic: line.topic, payload: Buffer.from(line.payload, 'base64'), qos: line.qos, lastModifiedTime: line.lastModifiedTime });
  }
  const oldest = now() - RETAINED_LIFETIME_MS;
  for (const m of [...index.values()]) {
    if (m.lastModifiedTime < oldest) {
      index.delete(m.topic);
      counters.expired++;
    }
  }
  // an already compact journal (one line per live message, none torn) is left as it is
  if (!existsSync(path) || read.droppedTornTail || read.lines.length !== index.size) writeCompacted(path, index.values());
  let lines = index.size;
  let fd: number | undefined = openSync(path, 'a');

  function refuse(err: BrokerError): never {
    counters.refused++;
    throw err;
  }

  const store: RetainedStore = {
    path,
    counters,
    droppedTornTail: read.droppedTornTail,
    get size() {
      return index.size;
    },
    get: (topic) => index.get(topic),
    list: (after, limit) => index.list(after, limit),
    messages: () => index.values(),
    admit(topic, payload) {
      const refusal = retainedRefusal(topic, payload, index, { maxPayloadBytes: options.maxPayloadBytes, maxMessages }, 'account');
      if (refusal) refuse(refusal);
    },
    put(topic, payload, qos) {
      store.admit(topic, payload);
      if (payload.length === 0 && index.get(topic) === undefined) return undefined; // nothing to delete, nothing to write
      if (fd === undefined) throw new BrokerError('ServiceUnavailableException', 'the retained message store is closed');
      const message: RetainedMessage = { topic, payload, qos, lastModifiedTime: now() };
      const line: RetainedLine = { topic, payload: payload.toString('base64'), qos, lastModifiedTime: message.lastModifiedTime };
      try {
        if (lines >= COMPACT_MIN_LINES && lines > 2 * index.size) compact();
        appendJsonLine(fd!, path, line, options.fsync);
      } catch (err) {
        // a full disk: the journal is left whole (json-lines.ts) and memory unchanged
        if ((err as BrokerError).code === 'DiskFull') counters.diskFull++;
        throw err;
      }
      lines++;
      if (payload.length === 0) {
        index.delete(topic);
        counters.deleted++;
        return undefined;
      }
      index.set(message);
      counters.stored++;
      return message;
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };

  function compact(): void {
    closeSync(fd!);
    fd = undefined;
    try {
      writeCompacted(path, index.values());
    } finally {
      fd = openSync(path, 'a');
    }
    lines = index.size;
    counters.compactions++;
  }

  return store;
}

export interface JournalRead {
  lines: RetainedLine[];
  droppedTornTail: boolean;
}

export function readJournal(path: string): JournalRead {
  return readJsonLines<RetainedLine>(path, lineProblem, 'RetainedFileInvalid');
}

function lineProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'is not an object';
  const l = v as Record<string, unknown>;
  if (typeof l.topic !== 'string' || l.topic === '') return 'has no topic';
  if (typeof l.payload !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(l.payload)) return 'has no base64 payload';
  if (l.qos !== 0 && l.qos !== 1) return 'has a qos other than 0 or 1';
  if (typeof l.lastModifiedTime !== 'number' || !Number.isFinite(l.lastModifiedTime)) return 'has no lastModifiedTime';
  return undefined;
}

/** Replaces the journal with one line per message (temp file, fsync, rename, fsync the folder). */
function writeCompacted(path: string, messages: Iterable<RetainedMessage>): void {
  writeFileAtomic(path, (function* () {
    for (const m of messages) {
      const line: RetainedLine = { topic: m.topic, payload: m.payload.toString('base64'), qos: m.qos, lastModifiedTime: m.lastModifiedTime };
      yield JSON.stringify(line) + '\n';
    }
  })(), { fsync: true });
}
