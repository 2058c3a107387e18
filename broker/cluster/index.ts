// Cluster mode (README "Cluster mode (Redis)"): several broker nodes share one Redis. Opens the
// shared aedes engines (redis-engines.ts), the channel forwarding every node does and, on the
// analytics node, the consumer that moves forwarded writes into its channels; watches the Redis
// connections so that publishes are refused, not silently dropped, while Redis is gone.
import type { Analytics, IncomingChannelMessage } from '../../analytics/index.js';
import type { ClusterSettings } from '../config.js';
import { BrokerError, isCodedError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SharedEngines } from '../mqtt/server.js';
import { startChannelConsumer, type ChannelConsumer } from './channel-consumer.js';
import { createChannelForwarder } from './channel-forwarding.js';
import { openRedisEngines } from './redis-engines.js';
import { isReady, open, probe, redactUrl, redisConnection, unavailable, type RedisConnection } from './redis.js';

/** Names the analytics node; a second one would split the datastores. */
export const OWNER_KEY = 'iotcore:analytics-owner';
const OWNER_TTL_MS = 30_000;
const OWNER_REFRESH_MS = 10_000;
const REFRESH_IF_MINE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE_IF_MINE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface ClusterCounters {
  forwarded: number;
  refusedBacklog: number;
  refusedUnavailable: number;
  consumed: number;
  reread: number;
  duplicatesSkipped: number;
  consumeFailed: number;
}

export interface Cluster {
  readonly nodeId: string;
  readonly analyticsRole: ClusterSettings['analytics'];
  /** aedes' message bus and persistence, for startMqtt */
  readonly shared: SharedEngines;
  /** where the rules' channel writes go: the channel's stream */
  writeChannel(channelName: string, msgs: IncomingChannelMessage[]): Promise<void>;
  /** on the analytics node: starts storing every node's forwarded writes (call once the channels are defined) */
  startConsumer(): void;
  counters(): ClusterCounters;
  close(): Promise<void>;
}

export interface ClusterOptions {
  settings: ClusterSettings;
  maxPayloadBytes: number;
  analytics: Analytics;
  log: Logger;
}

export async function openCluster(o: ClusterOptions): Promise<Cluster> {
  const { redisUrl: url, nodeId } = o.settings;
  const redis = redactUrl(url);
  // fails fast, naming the URL, before anything else is made (ClusterUnavailable)
  await probe(url);
  const engines = await openRedisEngines({ redisUrl: url, maxPayloadBytes: o.maxPayloadBytes, log: o.log });
  const conn = redisConnection(url, { name: `iotcore-channels-${nodeId}`, maxRetriesPerRequest: 3 });
  const owner = o.settings.analytics === 'owner';
  const blocking = owner ? redisConnection(url, { name: `iotcore-consumer-${nodeId}`, maxRetriesPerRequest: 0 }) : undefined;
  const own: RedisConnection[] = blocking ? [conn, blocking] : [conn];
  let refresh: NodeJS.Timeout | undefined;
  const closeConnections = () => {
    clearInterval(refresh);
    engines.close();
    for (const c of own) c.disconnect();
  };
  try {
    await Promise.all(own.map((c) => open(c, url)));
    if (owner) {
      await claimOwnership(conn, nodeId);
      refresh = setInterval(() => {
        renewOwnership(conn, nodeId).catch((err: Error) => {
          // Redis gone: logged by the connection watch below
          if (isCodedError(err)) o.log.error({ code: err.code, nodeId, err: err.message }, 'another node took the analytics role: two analytics nodes split the datastores');
        });
      }, OWNER_REFRESH_MS);
      refresh.unref();
    }
  } catch (err) {
    closeConnections();
    throw err;
  }

  let refusedUnavailable = 0; // the other counters are the forwarder's and the consumer's
  const forwarder = createChannelForwarder({ conn, maxBacklog: o.settings.maxBacklog, channelExists: (name) => o.analytics.getChannel(name) !== undefined });

  // Redis gone: said once in the log, and every publish that needs Redis is refused meanwhile
  const watched = [...engines.connections, ...own];
  let closing = false;
  let down = false;
  for (const c of watched) {
    // 'reconnecting' follows a lost connection only, never a close of ours (aedes quits the bus' ones)
    c.on('reconnecting', () => {
      if (closing || down) return;
      down = true;
      o.log.error({ code: 'ClusterUnavailable', redis, nodeId }, 'lost the connection to Redis: device publishes are refused (no PUBACK) until it is back');
    });
    c.on('ready', () => {
      if (!down || !watched.every(isReady)) return;
      down = false;
      o.log.info({ redis, nodeId }, 'the connection to Redis is back');
    });
  }
  const refusal = (): BrokerError | undefined => {
    if (watched.every(isReady)) return undefined;
    refusedUnavailable++;
    return unavailable(url, 'the connection was lost; the publish is not acknowledged');
  };

  let consumer: ChannelConsumer | undefined;
  return {
    nodeId,
    analyticsRole: o.settings.analytics,
    shared: { mq: engines.mq, persistence: engines.persistence, retained: engines.retained, sessions: engines.sessions, refusal },
    writeChannel(channelName, msgs) {
      const err = refusal();
      return err ? Promise.reject(err) : forwarder.write(channelName, msgs);
    },
    startConsumer() {
      if (!blocking || consumer) return;
      consumer = startChannelConsumer({
        conn, blocking, consumer: nodeId, log: o.log,
        channels: () => o.analytics.listChannels(),
        ingest: (name, msgs) => o.analytics.ingest(name, msgs),
      });
    },
    counters() {
      const c = consumer?.counters;
      return {
        forwarded: forwarder.counters.forwarded, refusedBacklog: forwarder.counters.refusedBacklog, refusedUnavailable,
        consumed: c?.consumed ?? 0, reread: c?.reread ?? 0, duplicatesSkipped: c?.duplicatesSkipped ?? 0, consumeFailed: c?.failed ?? 0,
      };
    },
    async close() {
      closing = true;
      await consumer?.stop();
      if (owner) await conn.eval(RELEASE_IF_MINE, 1, OWNER_KEY, nodeId).catch(() => {});
      closeConnections();
    },
  };
}

/** Extends our lease; claims it again when it lapsed (Redis restarted empty, a long pause). */
async function renewOwnership(conn: RedisConnection, nodeId: string): Promise<void> {
  if ((await conn.eval(REFRESH_IF_MINE, 1, OWNER_KEY, nodeId, OWNER_TTL_MS)) === 1) return;
  await claimOwnership(conn, nodeId);
}

async function claimOwnership(conn: RedisConnection, nodeId: string): Promise<void> {
  let holder: string | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    if ((await conn.set(OWNER_KEY, nodeId, 'PX', OWNER_TTL_MS, 'NX')) === 'OK') return;
    holder = await conn.get(OWNER_KEY);
    if (holder === nodeId) {
      await conn.pexpire(OWNER_KEY, OWNER_TTL_MS); // our own claim, from before a restart
      return;
    }
    if (holder !== null) break; // held by another node; null: it lapsed just now, claim again
  }
  throw new BrokerError('ClusterAnalyticsOwned', `node "${holder}" is the analytics node (cluster.analytics = owner); this node "${nodeId}" must use "forward", or start once "${holder}" has stopped (its claim lapses ${OWNER_TTL_MS / 1000} s after it stops refreshing it)`);
}
