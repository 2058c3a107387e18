// The one file that imports ioredis. Cluster mode needs several connections to the same Redis
// (the message bus needs a subscriber and a publisher, the persistence one, the channel streams
// one plus a blocking reader on the analytics node), all made here with the same options, so
// the rest of broker/cluster depends on these few functions and the RedisConnection type only.
import { Redis } from 'ioredis';
import { BrokerError } from '../errors.js';

export type RedisConnection = Redis;

/** How long a connection attempt may take before it counts as a failure. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Reconnection back-off ceiling: a Redis that comes back is used again within this time. */
const MAX_RECONNECT_DELAY_MS = 2_000;

export interface ConnectionOptions {
  /** a label in ioredis' own diagnostics (CLIENT LIST shows it as the connection name) */
  name: string;
  /** commands tried again at most this often across reconnections before they fail (null: forever) */
  maxRetriesPerRequest: number | null;
}

/** A connection that reconnects forever with a bounded back-off; it connects on `open`. */
export function redisConnection(url: string, options: ConnectionOptions): RedisConnection {
  const conn = new Redis(url, {
    lazyConnect: true,
    connectionName: options.name,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: options.maxRetriesPerRequest,
    retryStrategy: (times) => Math.min(times * 200, MAX_RECONNECT_DELAY_MS),
  });
  // ioredis prints unhandled 'error' events to stderr; the cluster logs the outage once instead
  conn.on('error', () => {});
  // The libraries send some commands without awaiting them (aedes-persistence-redis' LREM/RPUSH
  // of wills, mqemitter-redis' QUIT on close): while Redis is gone those fail, and an unhandled
  // rejection would end the process. Every command's promise is marked handled; a caller that
  // awaits it still gets the failure.
  const send = conn.sendCommand.bind(conn);
  conn.sendCommand = (...args: Parameters<RedisConnection['sendCommand']>) => {
    const pending = send(...args);
    if (pending instanceof Promise) pending.catch(() => {});
    return pending;
  };
  return conn;
}

/** Connects `conn`; a Redis that cannot be reached (or refuses the credentials) is ClusterUnavailable. */
export async function open(conn: RedisConnection, url: string): Promise<void> {
  try {
    await conn.connect();
    await conn.ping();
  } catch (err) {
    conn.disconnect();
    throw unavailable(url, (err as Error).message);
  }
}

/** Checks once, with no retries, that `url` answers: start-up fails fast and names the URL. */
export async function probe(url: string): Promise<void> {
  const conn = new Redis(url, { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null });
  conn.on('error', () => {});
  try {
    await open(conn, url);
  } finally {
    conn.disconnect();
  }
}

export function isReady(conn: RedisConnection): boolean {
  return conn.status === 'ready';
}

export function unavailable(url: string, reason: string): BrokerError {
  return new BrokerError('ClusterUnavailable', `Redis at ${redactUrl(url)} is unreachable: ${reason}`);
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}
