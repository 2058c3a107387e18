// Retained messages in cluster mode. They live in the shared persistence (Redis, through
// aedes-persistence-redis), which is what subscribers on every node receive them from; the
// data plane (GetRetainedMessage, ListRetainedMessages) reads synchronously from a per-node
// in-memory mirror instead, because its reader interface (mqtt/retained.ts) is synchronous.
//
// How the mirrors stay equal: every retained store on any node goes through the wrapper that
// `attach` puts on the persistence; once Redis has the message, the node announces it on the
// shared message bus (RETAINED_CHANGES_TOPIC); every other node applies the announcement to its
// mirror. A node that starts subscribes to the announcements first and then loads what Redis
// holds, so a change made while it loads is not lost (the announced one wins).
// The time of the publish (lastModifiedTime) is stored with the packet in Redis, so a node that
// starts later reports the same time as the node that took the publish.
// Bounded like the journal it replaces: the quota check (admit) refuses new topics past the
// retained-message quota, counted over the mirror, which holds the whole cluster's topics.
import { randomUUID } from 'node:crypto';
import type { BrokerError } from '../errors.js';
import { createRetainedIndex, retainedRefusal, type RetainedMessage } from '../mqtt/retained.js';
import { MAX_RETAINED_MESSAGES, type RetainedCounters, type RetainedStore } from '../mqtt/retained-store.js';

/** Where nodes announce retained changes: a $SYS topic, so no wildcard subscription sees it. */
export const RETAINED_CHANGES_TOPIC = '$SYS/iotcore/retained';

/** What the persistence stores for a retained publish, with our timestamp riding along. */
interface StoredRetained {
  topic: string;
  payload: Buffer | string;
  qos: number;
  iotcoreModified?: number;
}

export interface RetainedPersistence {
  storeRetained(packet: StoredRetained): Promise<void>;
  createRetainedStreamCombi(patterns: string[]): AsyncIterable<StoredRetained>;
}

/** The part of an mqemitter used here. */
export interface MessageBus {
  on(topic: string, listener: (packet: { payload: Buffer | string }, done: () => void) => void, subscribed?: () => void): unknown;
  emit(packet: { topic: string; payload: Buffer }, done?: (err?: Error) => void): void;
}

interface Announcement {
  /** the announcing process, so a node skips its own */
  from: string;
  topic: string;
  /** base64; empty = deleted */
  payload: string;
  qos: number;
  lastModifiedTime: number;
}

export interface RetainedMirrorOptions {
  maxPayloadBytes: number;
  maxMessages?: number;
  /** where the mirror says it is, e.g. the redacted Redis URL */
  location: string;
  onAnnounceError(err: Error): void;
  now?: () => number;
}

export interface RetainedMirror extends RetainedStore {
  /** subscribes to announcements, loads Redis' retained messages, wraps the persistence's storeRetained */
  attach(persistence: RetainedPersistence, bus: MessageBus): Promise<void>;
}

export function createRetainedMirror(options: RetainedMirrorOptions): RetainedMirror {
  const now = options.now ?? Date.now;
  const maxMessages = options.maxMessages ?? MAX_RETAINED_MESSAGES;
  const self = randomUUID();
  const counters: RetainedCounters = { stored: 0, deleted: 0, refused: 0, expired: 0, compactions: 0, diskFull: 0 };
  const index = createRetainedIndex();

  function refuse(err: BrokerError): never {
    counters.refused++;
    throw err;
  }

  function apply(topic: string, payload: Buffer, qos: number, lastModifiedTime: number): void {
    if (payload.length === 0) index.delete(topic);
    else index.set({ topic, payload, qos, lastModifiedTime });
  }

  const mirror: RetainedMirror = {
    path: options.location,
    counters,
    droppedTornTail: false,
    get size() {
      return index.size;
    },
    get: (topic) => index.get(topic),
    list: (after, limit) => index.list(after, limit),
    // Redis already holds them: nothing to load into the broker at start-up
    messages: () => new Map<string, RetainedMessage>().values(),
    admit(topic, payload) {
      // the same checks as the single-node journal (mqtt/retained-store.ts)
      const refusal = retainedRefusal(topic, payload, index, { maxPayloadBytes: options.maxPayloadBytes, maxMessages }, 'cluster');
      if (refusal) refuse(refusal);
    },
    put(topic, payload, qos) {
      mirror.admit(topic, payload);
      if (payload.length === 0) {
        if (index.get(topic) !== undefined) counters.deleted++;
        index.delete(topic);
        return undefined;
      }
      const message: RetainedMessage = { topic, payload, qos, lastModifiedTime: now() };
      index.set(message);
      counters.stored++;
      return message;
    },
    close() {},
    async attach(persistence, bus) {
      const changedWhileLoading = new Set<string>();
      let loading = true;
      await new Promise<void>((subscribed) => {
        bus.on(RETAINED_CHANGES_TOPIC, (packet, done) => {
          try {
            const a = JSON.parse(toBuffer(packet.payload).toString('utf8')) as Announcement;
            if (a.from !== self) {
              apply(a.topic, Buffer.from(a.payload, 'base64'), a.qos, a.lastModifiedTime);
              if (loading) changedWhileLoading.add(a.topic);
            }
          } catch {
            // not one of ours (a client may publish on $SYS only as the broker does): ignored
          }
          done();
        }, subscribed);
      });
      for await (const p of persistence.createRetainedStreamCombi(['#'])) {
        if (changedWhileLoading.has(p.topic)) continue;
        apply(p.topic, toBuffer(p.payload), p.qos, typeof p.iotcoreModified === 'number' ? p.iotcoreModified : now());
      }
      loading = false;
      changedWhileLoading.clear();

      const store = persistence.storeRetained.bind(persistence);
      persistence.storeRetained = async (packet) => {
        const payload = toBuffer(packet.payload);
        // the time put() gave this message (the publish), not the time Redis took it
        const held = index.get(packet.topic);
        const lastModifiedTime = held !== undefined && held.payload.equals(payload) ? held.lastModifiedTime : now();
        await store({ ...packet, iotcoreModified: lastModifiedTime });
        const announcement: Announcement = { from: self, topic: packet.topic, payload: payload.toString('base64'), qos: packet.qos, lastModifiedTime };
        bus.emit({ topic: RETAINED_CHANGES_TOPIC, payload: Buffer.from(JSON.stringify(announcement)) }, (err) => {
          if (err) options.onAnnounceError(err);
        });
      };
    },
  };
  return mirror;
}

function toBuffer(payload: Buffer | string): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload) : payload;
}
