// MQTT lifecycle events (spec §3.8): the broker announces connects, disconnects, subscribes and
// unsubscribes on `$aws/events/...` through its own publish, so subscribers and rules see them.
//
// This module knows nothing of aedes: server.ts feeds it plain facts (a client object, its id,
// address, the reason it went away). Publishing is fire-and-forget through a bounded queue:
// a mass disconnect (server restart, network split) must not build an unbounded backlog nor
// slow the disconnect path itself; what does not fit is counted as dropped.
import { randomUUID } from 'node:crypto';

/** The disconnect reasons AWS documents (enum from the SDK models). */
export type DisconnectReason =
  | 'AUTH_ERROR' | 'CLIENT_INITIATED_DISCONNECT' | 'CLIENT_ERROR' | 'CONNECTION_LOST'
  | 'DUPLICATE_CLIENTID' | 'FORBIDDEN_ACCESS' | 'MQTT_KEEP_ALIVE_TIMEOUT' | 'SERVER_ERROR'
  | 'SERVER_INITIATED_DISCONNECT' | 'API_INITIATED_DISCONNECT' | 'THROTTLED' | 'UNKNOWN' | 'NONE';

export interface Session {
  clientId: string;
  sessionIdentifier: string;
  principalIdentifier: string;
  versionNumber: number;
}

export const LIFECYCLE_PREFIX = '$aws/events/';

export type LifecycleKind = 'connected' | 'disconnected' | 'subscribed' | 'unsubscribed';

export function lifecycleTopic(kind: LifecycleKind, clientId: string): string {
  const family = kind === 'connected' || kind === 'disconnected' ? 'presence' : 'subscriptions';
  return `${LIFECYCLE_PREFIX}${family}/${kind}/${clientId}`;
}

/** AWS sends no events for client ids that would be wildcards in the event's topic. */
export function emitsLifecycle(clientId: string): boolean {
  return clientId !== '' && !/[#+]/.test(clientId);
}

export function connectedEvent(s: Session, ipAddress: string, timestamp: number) {
  return { clientId: s.clientId, timestamp, eventType: 'connected', sessionIdentifier: s.sessionIdentifier, principalIdentifier: s.principalIdentifier, ipAddress, versionNumber: s.versionNumber };
}

export function disconnectedEvent(s: Session, reason: DisconnectReason, timestamp: number) {
  return {
    clientId: s.clientId, timestamp, eventType: 'disconnected',
    clientInitiatedDisconnect: reason === 'CLIENT_INITIATED_DISCONNECT',
    sessionIdentifier: s.sessionIdentifier, principalIdentifier: s.principalIdentifier,
    disconnectReason: reason, versionNumber: s.versionNumber,
  };
}

export function subscriptionEvent(s: Session, eventType: 'subscribed' | 'unsubscribed', topics: string[], timestamp: number) {
  return { clientId: s.clientId, timestamp, eventType, sessionIdentifier: s.sessionIdentifier, principalIdentifier: s.principalIdentifier, topics };
}

/** What ended a connection, from the error aedes reported for it. Our own coded refusals
 * (ingest.ts) keep their meaning; socket-level errors (ECONNRESET, EPIPE...) are a lost link. */
export function reasonForError(err: { message?: string; code?: unknown }): DisconnectReason {
  const code = typeof err.code === 'string' ? err.code : '';
  if (code === 'PayloadTooLarge') return 'CLIENT_ERROR';
  if (code === 'ReservedTopic') return 'FORBIDDEN_ACCESS';
  // AWS: "the client failed to authenticate or authorization failed"
  if (code === 'PublishNotAuthorized' || code === 'SubscribeNotAuthorized') return 'AUTH_ERROR';
  if (code === 'IngestFailed') return 'SERVER_ERROR';
  if (/^E[A-Z]+$/.test(code)) return 'CONNECTION_LOST';
  if (err.message === 'keep alive timeout') return 'MQTT_KEEP_ALIVE_TIMEOUT';
  if (err.message === 'drain timeout') return 'THROTTLED'; // a subscriber too slow to read
  return 'CLIENT_ERROR'; // malformed packets, second CONNECT, protocol violations
}

// ---------------------------------------------------------------------------------------------

export interface PublisherCounters {
  published: number;
  dropped: number;
  failed: number;
}

export interface BoundedPublisher {
  readonly counters: PublisherCounters;
  /** queues a message; false (and counted as dropped) when the queue is full or closed */
  offer(topic: string, payload: Buffer): boolean;
  /** pending = queued + in flight */
  pending(): number;
  /** resolves once nothing is queued or in flight */
  idle(): Promise<void>;
  /** drops what is still queued (counted) and refuses further offers */
  close(): void;
}

export function createBoundedPublisher(
  publish: (topic: string, payload: Buffer) => Promise<void>,
  limits: { maxQueued: number; concurrency: number },
): BoundedPublisher {
  const counters: PublisherCounters = { published: 0, dropped: 0, failed: 0 };
  const queue: [string, Buffer][] = [];
  let inFlight = 0;
  let closed = false;
  let waiters: (() => void)[] = [];

  function settleIdle() {
    if (queue.length > 0 || inFlight > 0) return;
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  }

  function pump() {
    while (inFlight < limits.concurrency && queue.length > 0) {
      const [topic, payload] = queue.shift()!;
      inFlight++;
      let pending: Promise<void>;
      try {
        pending = publish(topic, payload);
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(
        () => { counters.published++; },
        () => { counters.failed++; },
      ).finally(() => {
        inFlight--;
        pump();
        settleIdle();
      });
    }
  }

  return {
    counters,
    offer(topic, payload) {
      if (closed || queue.length >= limits.maxQueued) {
        counters.dropped++;
        return false;
      }
      queue.push([topic, payload]);
      pump();
      return true;
    },
    pending: () => queue.length + inFlight,
    idle() {
      if (queue.length === 0 && inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    close() {
      closed = true;
      counters.dropped += queue.length;
      queue.length = 0;
      settleIdle();
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** versionNumber per client id: increases with every connect, shared by the connect and its
 * disconnect, and forgotten (back to 0) after `resetAfterMs` without a connection, as on AWS.
 * At most `maxClients` ids are remembered; the least recently connected is forgotten first. */
export function createVersionCounter(limits: { resetAfterMs: number; maxClients: number }, now: () => number = Date.now) {
  const seen = new Map<string, { version: number; at: number }>();
  return {
    next(clientId: string): number {
      const t = now();
      const prev = seen.get(clientId);
      const version = prev && t - prev.at < limits.resetAfterMs ? prev.version + 1 : 0;
      seen.delete(clientId); // re-insert: Map order is then least recently connected first
      seen.set(clientId, { version, at: t });
      if (seen.size > limits.maxClients) seen.delete(seen.keys().next().value!);
      return version;
    },
    /** the clock restarts from the disconnect: AWS counts "1 h without a connection" */
    ended(clientId: string): void {
      const entry = seen.get(clientId);
      if (entry) entry.at = now();
    },
    size: () => seen.size,
  };
}

// ---------------------------------------------------------------------------------------------

export interface LifecycleOptions {
  /** the broker's own publish (goes to subscribers and through the rules) */
  publish(topic: string, payload: Buffer): Promise<void>;
  /** certificate id for X.509 clients; who else connected (no authentication yet) */
  principalOf?(clientId: string): string | undefined;
  maxQueued?: number;
  concurrency?: number;
  now?: () => number;
}

export interface Lifecycle {
  readonly counters: PublisherCounters;
  connected(client: object, clientId: string, ipAddress: string): void;
  /** remembers the first cause seen for a client that is about to go away */
  noteReason(client: object, reason: DisconnectReason): void;
  disconnected(client: object, fallback: DisconnectReason): void;
  subscribed(client: object, topics: string[]): void;
  unsubscribed(client: object, topics: string[]): void;
  /** from now on, a disconnect without another cause is the server's */
  shuttingDown(): void;
  idle(): Promise<void>;
  close(): void;
}

export const ANONYMOUS_PRINCIPAL = 'anonymous';

export function createLifecycle(opts: LifecycleOptions): Lifecycle {
  const now = opts.now ?? Date.now;
  const publisher = createBoundedPublisher(opts.publish, { maxQueued: opts.maxQueued ?? 10_000, concurrency: opts.concurrency ?? 16 });
  const versions = createVersionCounter({ resetAfterMs: 60 * 60_000, maxClients: 100_000 }, now);
  // keyed by aedes' client object: a reconnect with the same id is a different session
  const sessions = new WeakMap<object, Session>();
  const reasons = new WeakMap<object, DisconnectReason>();
  let stopping = false;

  function send(kind: LifecycleKind, clientId: string, event: object) {
    publisher.offer(lifecycleTopic(kind, clientId), Buffer.from(JSON.stringify(event)));
  }

  return {
    counters: publisher.counters,
    connected(client, clientId, ipAddress) {
      if (!emitsLifecycle(clientId)) return;
      const session: Session = {
        clientId,
        sessionIdentifier: randomUUID().replaceAll('-', ''),
        principalIdentifier: opts.principalOf?.(clientId) ?? ANONYMOUS_PRINCIPAL,
        versionNumber: versions.next(clientId),
      };
      sessions.set(client, session);
      send('connected', clientId, connectedEvent(session, ipAddress, now()));
    },
    noteReason(client, reason) {
      if (!reasons.has(client)) reasons.set(client, reason);
    },
    disconnected(client, fallback) {
      const session = sessions.get(client);
      if (!session) return;
      sessions.delete(client);
      versions.ended(session.clientId);
      const reason = reasons.get(client) ?? (stopping ? 'SERVER_INITIATED_DISCONNECT' : fallback);
      send('disconnected', session.clientId, disconnectedEvent(session, reason, now()));
    },
    subscribed(client, topics) {
      const session = sessions.get(client);
      if (session && topics.length > 0) send('subscribed', session.clientId, subscriptionEvent(session, 'subscribed', topics, now()));
    },
    unsubscribed(client, topics) {
      const session = sessions.get(client);
      if (session && topics.length > 0) send('unsubscribed', session.clientId, subscriptionEvent(session, 'unsubscribed', topics, now()));
    },
    shuttingDown() {
      stopping = true;
    },
    idle: () => publisher.idle(),
    close: () => publisher.close(),
  };
}
