// The one file that imports mqemitter-redis and aedes-persistence-redis: the engines aedes uses
// in cluster mode instead of its in-memory ones, so that every node shares
//   - the message bus (mqemitter-redis: Redis pub/sub): a publish on one node reaches the
//     subscribers on every node; aedes' own $SYS traffic rides on it too (a client id connecting
//     on another node closes its older connection here, brokers see each other's heartbeats);
//   - the persistence (aedes-persistence-redis): subscriptions of clean=false clients, the QoS 1
//     messages queued for them, retained messages and wills.
// aedes 1.x expects an aedes-persistence 11 object (an async setup(), promise-style methods);
// aedes-persistence-redis 12 is built on aedes-persistence 11 (11.x still used v10), see README.
//
// Messages that arrive from Redis reach only aedes' delivery to subscribers: aedes calls its
// `published` hook on the node whose publish() ran, so rules never run twice for one message.
import MQEmitterRedis from 'mqemitter-redis';
import aedesPersistenceRedis from 'aedes-persistence-redis';
import type { SessionCounters, SessionPersistence, SessionStore } from '../mqtt/session-store.js';
import { FANOUT_CONCURRENCY } from '../mqtt/fanout-queue.js';
import type { Logger } from '../log.js';
import { open, redactUrl, redisConnection, type RedisConnection } from './redis.js';
import { createRetainedMirror, type MessageBus, type RetainedMirror, type RetainedPersistence } from './retained-mirror.js';

/** A clean=false client's queued messages are kept this long (AWS' longest session expiry, 7 days):
 * Redis memory stays bounded for a client that never comes back. */
export const QUEUED_MESSAGE_TTL_SECONDS = 7 * 24 * 3600;
/** queued messages sent to a returning clean=false client at most (the single-node queue bound) */
export const MAX_SESSION_DELIVERY = 1_000;

export interface RedisEngines {
  readonly mq: unknown;
  readonly persistence: unknown;
  readonly retained: RetainedMirror;
  readonly sessions: SessionStore;
  /** every connection the engines use, to watch their state */
  readonly connections: readonly RedisConnection[];
  /** ends the connections at once (after aedes has closed) */
  close(): void;
}

export interface EngineOptions {
  redisUrl: string;
  maxPayloadBytes: number;
  log: Logger;
}

export async function openRedisEngines(o: EngineOptions): Promise<RedisEngines> {
  // a subscriber must wait out an outage (its subscriptions are replayed on reconnect); commands of
  // the others fail after a few reconnection attempts rather than hang a client's request
  const subConn = redisConnection(o.redisUrl, { name: 'iotcore-bus-sub', maxRetriesPerRequest: null });
  const pubConn = redisConnection(o.redisUrl, { name: 'iotcore-bus-pub', maxRetriesPerRequest: 3 });
  const dbConn = redisConnection(o.redisUrl, { name: 'iotcore-persistence', maxRetriesPerRequest: 3 });
  const connections = [subConn, pubConn, dbConn];
  const close = () => {
    for (const c of connections) c.disconnect();
  };
  try {
    await Promise.all(connections.map((c) => open(c, o.redisUrl)));
    // [MQTT-4.7.1-3]: `sport/#` matches `sport`, as with aedes' own mqemitter
    const mq = MQEmitterRedis({ subConn, pubConn, matchEmptyLevels: true, concurrency: FANOUT_CONCURRENCY });
    // its connections' errors arrive here; without a listener an 'error' event would throw
    (mq as unknown as { state: { on(event: 'error', l: (err: Error) => void): void } }).state.on('error', (err) => o.log.debug({ err: err.message }, 'redis message bus error'));
    const persistence = aedesPersistenceRedis({ conn: dbConn, maxSessionDelivery: MAX_SESSION_DELIVERY, packetTTL: () => QUEUED_MESSAGE_TTL_SECONDS });
    const retained = createRetainedMirror({
      maxPayloadBytes: o.maxPayloadBytes,
      location: redactUrl(o.redisUrl),
      onAnnounceError: (err) => o.log.warn({ code: 'ClusterUnavailable', err: err.message }, 'a retained message change was not announced to the other nodes'),
    });
    await retained.attach(persistence as unknown as RetainedPersistence, mq as unknown as MessageBus);
    return { mq, persistence, retained, sessions: sharedSessions(redactUrl(o.redisUrl)), connections, close };
  } catch (err) {
    close();
    throw err;
  }
}

/** Sessions are in Redis: nothing to journal or load; this only counts what passes. */
function sharedSessions(location: string): SessionStore {
  const counters: SessionCounters = { queued: 0, acknowledged: 0, dropped: 0, compactions: 0, diskFull: 0 };
  return {
    path: location,
    counters,
    droppedTornTail: false,
    // held in Redis, not counted on a node
    sessions: 0,
    queued: () => 0,
    async attach(persistence: SessionPersistence) {
      const enqueue = persistence.outgoingEnqueueCombi.bind(persistence);
      persistence.outgoingEnqueueCombi = async (subs, packet) => {
        const r = await enqueue(subs, packet);
        counters.queued += subs.length;
        return r;
      };
      const clear = persistence.outgoingClearMessageId.bind(persistence);
      persistence.outgoingClearMessageId = async (client, packet) => {
        const r = await clear(client, packet);
        if (r !== undefined) counters.acknowledged++;
        return r;
      };
    },
    close() {},
  };
}
