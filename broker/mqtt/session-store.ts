// Durable MQTT sessions: `<dataDir>/mqtt-sessions.jsonl` (mode 0600), an append-only journal of
// what a clean=false client's session holds [MQTT-3.1.2-4]: its subscriptions and the QoS 1
// messages queued for it (published while it was away, or sent and not yet acknowledged).
// Without it aedes keeps sessions in memory only and a restart forgets them.
//
// It wraps the in-memory persistence aedes creates: subscriptions stay there (its topic index
// finds the offline subscribers of a publish) and every change is journaled first; the outgoing
// queues are kept here, so the journal and the queues are one state. aedes calls
// addSubscriptions/removeSubscriptions only for clean=false clients, and cleanSubscriptions for
// every clean=true CONNECT: that one is journaled only when the id had a stored session, so a
// clean=true client writes nothing.
// A queue holds at most `maxQueuedPerClient` messages (default 1,000): the oldest is dropped and
// counted, at run time and on replay alike, so a client that never returns cannot fill the disk.
// At start-up the journal is replayed (a torn last line was never acknowledged: dropped, see
// readJsonLines), loaded into aedes before anything listens, and rewritten compactly (temporary
// file, fsync, rename); while running it is compacted once it holds COMPACT_MIN_LINES lines and
// twice as many as the live state needs. With `fsync` every append is on disk before the SUBACK
// or the publisher's PUBACK that depends on it.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BrokerError } from '../errors.js';
import { writeFileAtomic } from '../atomic-file.js';
import { appendJsonLine, COMPACT_MIN_LINES, readJsonLines } from './json-lines.js';

export const SESSIONS_FILE = 'mqtt-sessions.jsonl';
export const MAX_QUEUED_PER_CLIENT = 1_000;

export interface SessionStoreOptions {
  /** fsync every append (the server's `fsync` setting) */
  fsync: boolean;
  maxQueuedPerClient?: number;
  /** told of each message dropped from a full queue at run time (not of drops replayed at start-up) */
  onDrop?(clientId: string): void;
}

export interface SessionCounters {
  /** messages queued for clean=false clients and removed on acknowledgement, since start */
  queued: number;
  acknowledged: number;
  /** oldest messages dropped from a full queue (at run time and on replay) */
  dropped: number;
  compactions: number;
  /** session changes refused because the disk was full (DiskFull: not journaled, not applied) */
  diskFull: number;
}

/** A message queued for one client; aedes sets messageId when it sends it (outgoingUpdate). */
export interface QueuedPacket {
  cmd: 'publish';
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  dup: boolean;
  brokerId: string;
  brokerCounter: number;
  messageId?: number | undefined;
}

interface SessionClient {
  id: string;
}

/** The part of aedes-persistence (v11, promise style when called without a callback) wrapped here. */
export interface SessionPersistence {
  addSubscriptions(client: SessionClient, subs: { topic: string; qos: number }[]): Promise<unknown>;
  removeSubscriptions(client: SessionClient, topics: string[]): Promise<unknown>;
  cleanSubscriptions(client: SessionClient): Promise<unknown>;
  outgoingEnqueue(sub: { clientId: string }, packet: QueuedPacket): Promise<unknown>;
  outgoingEnqueueCombi(subs: { clientId: string }[], packet: QueuedPacket): Promise<unknown>;
  outgoingUpdate(client: SessionClient, packet: QueuedPacket): Promise<unknown>;
  outgoingClearMessageId(client: SessionClient, packet: { messageId?: number | undefined }): Promise<QueuedPacket | undefined>;
  outgoingStream(client: SessionClient): Readable;
}

export type SessionLine =
  | { op: 'sub'; clientId: string; subs: { topic: string; qos: number }[] }
  | { op: 'unsub'; clientId: string; topics: string[] }
  | { op: 'clean'; clientId: string }
  | { op: 'queue'; clientId: string; brokerId: string; brokerCounter: number; topic: string; payload: string; qos: number; retain: boolean }
  | { op: 'ack'; clientId: string; brokerId: string; brokerCounter: number };

export interface SessionStore {
  readonly path: string;
  readonly counters: SessionCounters;
  /** the journal's last line was torn at start-up and dropped */
  readonly droppedTornTail: boolean;
  /** clients with a stored session (subscriptions or queued messages) */
  readonly sessions: number;
  /** messages queued for `clientId` */
  queued(clientId: string): number;
  /** loads the replayed sessions into aedes' persistence and journals its session changes from now on */
  attach(persistence: SessionPersistence): Promise<void>;
  close(): void;
}

export function openSessionStore(dataDir: string, options: SessionStoreOptions): SessionStore {
  const path = join(dataDir, SESSIONS_FILE);
  const maxQueued = options.maxQueuedPerClient ?? MAX_QUEUED_PER_CLIENT;
  const counters: SessionCounters = { queued: 0, acknowledged: 0, dropped: 0, compactions: 0, diskFull: 0 };
  const subscriptions = new Map<string, Map<string, number>>();
  const queues = new Map<string, QueuedPacket[]>();
  let queuedTotal = 0;
  /** the journal has been replayed: drops from here on happen now, not before the restart */
  let replayed = false;

  /** one change to the state: the same code replays the journal and applies a live change */
  function apply(line: SessionLine, payload?: Buffer): void {
    switch (line.op) {
      case 'sub': {
        let subs = subscriptions.get(line.clientId);
        if (!subs) subscriptions.set(line.clientId, (subs = new Map()));
        for (const s of line.subs) subs.set(s.topic, s.qos);
        return;
      }
      case 'unsub': {
        const subs = subscriptions.get(line.clientId);
        for (const t of line.topics) subs?.delete(t);
        if (subs?.size === 0) subscriptions.delete(line.clientId);
        return;
      }
      case 'clean':
        subscriptions.delete(line.clientId);
        return;
      case 'queue': {
        let queue = queues.get(line.clientId);
        if (!queue) queues.set(line.clientId, (queue = []));
        if (queue.length >= maxQueued) {
          queue.shift();
          queuedTotal--;
          counters.dropped++;
          if (replayed) options.onDrop?.(line.clientId);
        }
        queue.push({
          cmd: 'publish', topic: line.topic, payload: payload ?? Buffer.from(line.payload, 'base64'), qos: line.qos,
          retain: line.retain, dup: false, brokerId: line.brokerId, brokerCounter: line.brokerCounter, messageId: undefined,
        });
        queuedTotal++;
        return;
      }
      case 'ack': {
        const queue = queues.get(line.clientId);
        const i = queue?.findIndex((p) => p.brokerId === line.brokerId && p.brokerCounter === line.brokerCounter) ?? -1;
        if (i < 0) return; // already dropped from a full queue
        queue!.splice(i, 1);
        queuedTotal--;
        if (queue!.length === 0) queues.delete(line.clientId);
        return;
      }
    }
  }

  const read = readJsonLines<SessionLine>(path, lineProblem, 'SessionFileInvalid');
  for (const line of read.lines) apply(line);
  counters.dropped = 0; // drops on replay repeat drops already counted before the restart
  replayed = true;
  writeCompacted();
  let lines = liveLines();
  let fd: number | undefined = openSync(path, 'a', 0o600);

  function liveLines(): number {
    return subscriptions.size + queuedTotal;
  }

  function writeCompacted(): void {
    writeFileAtomic(path, (function* () {
      for (const [clientId, subs] of subscriptions) {
        const line: SessionLine = { op: 'sub', clientId, subs: [...subs].map(([topic, qos]) => ({ topic, qos })) };
        yield JSON.stringify(line) + '\n';
      }
      for (const [clientId, queue] of queues) {
        for (const p of queue) yield JSON.stringify(queueLine(clientId, p, p.payload)) + '\n';
      }
    })(), { fsync: true, mode: 0o600 });
  }

  /** journals a change (on disk first, so what is acknowledged after it survives), then applies it */
  function record(line: SessionLine, payload?: Buffer): void {
    try {
      journal(line);
    } catch (err) {
      // a full disk: the journal is left whole (json-lines.ts) and the state unchanged
      if ((err as BrokerError).code === 'DiskFull') counters.diskFull++;
      throw err;
    }
    apply(line, payload);
  }

  function journal(line: SessionLine): void {
    if (fd === undefined) throw new BrokerError('ServiceUnavailableException', 'the MQTT session store is closed');
    if (lines >= COMPACT_MIN_LINES && lines > 2 * liveLines()) {
      closeSync(fd);
      fd = undefined;
      try {
        writeCompacted();
      } finally {
        fd = openSync(path, 'a', 0o600);
      }
      lines = liveLines();
      counters.compactions++;
    }
    appendJsonLine(fd, path, line, options.fsync);
    lines++;
  }

  function enqueue(clientId: string, packet: QueuedPacket): void {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload as unknown as string);
    record(queueLine(clientId, packet, payload), payload);
    counters.queued++;
  }

  return {
    path,
    counters,
    droppedTornTail: read.droppedTornTail,
    get sessions() {
      return new Set([...subscriptions.keys(), ...queues.keys()]).size;
    },
    queued: (clientId) => queues.get(clientId)?.length ?? 0,
    async attach(persistence) {
      for (const [clientId, subs] of subscriptions) {
        await persistence.addSubscriptions({ id: clientId }, [...subs].map(([topic, qos]) => ({ topic, qos })));
      }
      const inner = {
        addSubscriptions: persistence.addSubscriptions.bind(persistence),
        removeSubscriptions: persistence.removeSubscriptions.bind(persistence),
        cleanSubscriptions: persistence.cleanSubscriptions.bind(persistence),
      };
      const overrides: SessionPersistence = {
        async addSubscriptions(client, subs) {
          record({ op: 'sub', clientId: client.id, subs: subs.map((s) => ({ topic: s.topic, qos: s.qos })) });
          return inner.addSubscriptions(client, subs);
        },
        async removeSubscriptions(client, topics) {
          if (subscriptions.has(client.id)) record({ op: 'unsub', clientId: client.id, topics });
          return inner.removeSubscriptions(client, topics);
        },
        async cleanSubscriptions(client) {
          if (subscriptions.has(client.id)) record({ op: 'clean', clientId: client.id });
          return inner.cleanSubscriptions(client);
        },
        async outgoingEnqueue(sub, packet) {
          enqueue(sub.clientId, packet);
        },
        async outgoingEnqueueCombi(subs, packet) {
          for (const sub of subs) enqueue(sub.clientId, packet);
        },
        async outgoingUpdate(client, packet) {
          // aedes numbered a queued message to send it (or, for QoS 2, replaced it by its PUBREL):
          // packet ids are per connection, so they stay in memory only
          const queue = queues.get(client.id) ?? [];
          for (let i = 0; i < queue.length; i++) {
            const q = queue[i]!;
            if (q.brokerId === packet.brokerId) {
              if (q.brokerCounter === packet.brokerCounter) {
                q.messageId = packet.messageId;
                return;
              }
            } else if (q.messageId === packet.messageId) {
              queue[i] = packet;
              return;
            }
          }
          throw new Error('no such packet');
        },
        async outgoingClearMessageId(client, packet) {
          // the PUBACK's packet id names the message (undefined: aedes drops the oldest unsent one)
          const found = queues.get(client.id)?.find((q) => q.messageId === packet.messageId);
          if (!found) return undefined;
          record({ op: 'ack', clientId: client.id, brokerId: found.brokerId, brokerCounter: found.brokerCounter });
          counters.acknowledged++;
          return found;
        },
        outgoingStream(client) {
          return Readable.from([...(queues.get(client.id) ?? [])]); // a copy: acks change the queue
        },
      };
      Object.assign(persistence, overrides);
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

function queueLine(clientId: string, p: QueuedPacket, payload: Buffer): SessionLine {
  return {
    op: 'queue', clientId, brokerId: String(p.brokerId ?? ''), brokerCounter: p.brokerCounter ?? 0,
    topic: p.topic, payload: payload.toString('base64'), qos: p.qos, retain: p.retain === true,
  };
}

function lineProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'is not an object';
  const l = v as Record<string, unknown>;
  if (typeof l.clientId !== 'string') return 'has no clientId';
  switch (l.op) {
    case 'sub':
      return Array.isArray(l.subs) && l.subs.every((s: { topic?: unknown; qos?: unknown }) => typeof s?.topic === 'string' && typeof s.qos === 'number') ? undefined : 'has no valid subs';
    case 'unsub':
      return Array.isArray(l.topics) && l.topics.every((t) => typeof t === 'string') ? undefined : 'has no valid topics';
    case 'clean':
      return undefined;
    case 'queue':
      if (typeof l.topic !== 'string' || typeof l.qos !== 'number' || typeof l.retain !== 'boolean') return 'has no valid topic, qos or retain';
      if (typeof l.payload !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(l.payload)) return 'has no base64 payload';
      return typeof l.brokerId === 'string' && typeof l.brokerCounter === 'number' ? undefined : 'has no brokerId and brokerCounter';
    case 'ack':
      return typeof l.brokerId === 'string' && typeof l.brokerCounter === 'number' ? undefined : 'has no brokerId and brokerCounter';
    default:
      return 'has an unknown op';
  }
}
