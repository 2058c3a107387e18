// Channel writes in cluster mode: every node appends the channel messages its rules make to a
// Redis Stream per channel, and the analytics node (channel-consumer.ts) moves them into its
// channels. The append is awaited before the device's PUBACK, as a local channel write is, so an
// acknowledged message is in Redis (in Redis' own durability: run it with appendonly, README).
//
// The analytics node's own writes take the same path: one stream per channel holds the cluster's
// writes in the order they were made, so a device's resend (DUP=1) that lands on another node than
// its first copy is still behind it in the stream, and the channel's redelivery check (by delivery
// key, analytics/channels/redelivery.ts) sees the first copy before the resend.
//
// Bounded: a stream holds at most `maxBacklog` entries (one entry per channel write). The analytics
// node deletes what it has stored, so the length is the backlog; a write that would pass the cap
// is refused (ClusterBacklogFull, counted): the device gets no PUBACK and sends it again later.
// Trimming instead (MAXLEN) would drop acknowledged messages.
import { BrokerError } from '../errors.js';
import type { RedisConnection } from './redis.js';

/** Entries of a write: `m` = JSON list of the messages' metadata, `p0`, `p1`, ... = their payloads. */
export interface StreamMessage {
  payload: Buffer;
  receivedAt?: number | undefined;
  clientId?: string | undefined;
  topic?: string | undefined;
  deliveryKey?: string | undefined;
  redelivered?: boolean | undefined;
}

interface MessageMeta {
  t?: number;
  c?: string;
  tp?: string;
  k?: string;
  r?: 1;
}

export const STREAM_PREFIX = 'iotcore:channel:';
/** Braces make the channel name Redis Cluster's hash tag: a stream and its checks on one shard. */
export const streamKey = (channelName: string): string => `${STREAM_PREFIX}{${channelName}}`;

/** Appends unless the stream already holds the cap: one round trip, no race between nodes. */
const CAPPED_XADD = `
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return false end
return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))`;

interface CappedConnection {
  iotcoreCappedXadd(key: string, cap: number, ...fields: (string | Buffer)[]): Promise<string | null>;
}

export interface ForwardingCounters {
  /** channel messages appended to a stream */
  forwarded: number;
  /** channel writes refused: the stream held maxBacklog entries */
  refusedBacklog: number;
}

export interface ChannelForwarder {
  readonly counters: ForwardingCounters;
  /** appends one channel write; resolves once Redis has it */
  write(channelName: string, msgs: StreamMessage[]): Promise<void>;
}

export interface ForwarderOptions {
  conn: RedisConnection;
  maxBacklog: number;
  /** whether the channel is defined here (every node has the same configuration file) */
  channelExists(channelName: string): boolean;
}

export function createChannelForwarder(o: ForwarderOptions): ChannelForwarder {
  o.conn.defineCommand('iotcoreCappedXadd', { numberOfKeys: 1, lua: CAPPED_XADD });
  const conn = o.conn as unknown as CappedConnection;
  const counters: ForwardingCounters = { forwarded: 0, refusedBacklog: 0 };
  return {
    counters,
    async write(channelName, msgs) {
      // the same refusal a local write of an undefined channel gets, here rather than on the analytics node
      if (!o.channelExists(channelName)) throw new BrokerError('ResourceNotFoundException', `channel "${channelName}" does not exist`);
      if (msgs.length === 0) return;
      const id = await conn.iotcoreCappedXadd(streamKey(channelName), o.maxBacklog, ...encode(msgs));
      if (id === null) {
        counters.refusedBacklog++;
        throw new BrokerError('ClusterBacklogFull', `channel "${channelName}": ${o.maxBacklog} writes wait for the analytics node; the message is not acknowledged`);
      }
      counters.forwarded += msgs.length;
    },
  };
}

export function encode(msgs: StreamMessage[]): (string | Buffer)[] {
  const meta: MessageMeta[] = msgs.map((m) => {
    const x: MessageMeta = {};
    if (m.receivedAt !== undefined) x.t = m.receivedAt;
    if (m.clientId !== undefined) x.c = m.clientId;
    if (m.topic !== undefined) x.tp = m.topic;
    if (m.deliveryKey !== undefined) x.k = m.deliveryKey;
    if (m.redelivered === true) x.r = 1;
    return x;
  });
  const fields: (string | Buffer)[] = ['m', JSON.stringify(meta)];
  msgs.forEach((m, i) => fields.push(`p${i}`, m.payload));
  return fields;
}

/** The messages of one entry (fields as Redis returns them: name, value, name, value, ...). */
export function decode(fields: Buffer[]): StreamMessage[] {
  const byName = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) byName.set(fields[i]!.toString(), fields[i + 1]!);
  const meta = JSON.parse(byName.get('m')?.toString() ?? '[]') as MessageMeta[];
  return meta.map((x, i) => ({
    payload: byName.get(`p${i}`) ?? Buffer.alloc(0),
    receivedAt: x.t, clientId: x.c, topic: x.tp, deliveryKey: x.k, redelivered: x.r === 1,
  }));
}
