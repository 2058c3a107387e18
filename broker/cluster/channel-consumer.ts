// The analytics node's half of channel forwarding (channel-forwarding.ts): reads every channel's
// stream with a consumer group, writes the messages into the local channel (analytics.ingest,
// which resolves once they are in the channel archive), then acknowledges and deletes the entries.
//
// Exactly once across a crash: an entry stored but not yet acknowledged stays pending in the
// group, and a restarted consumer (same name: the node id) reads its pending entries first, marked
// as redeliveries. Every message carries a delivery key (the device's, or `x:<entry id>:<n>` for
// one without, e.g. QoS 0), the channel remembers the keys it archived (also across a restart,
// from the archive) and leaves a redelivery it already has out (analytics/channels/redelivery.ts).
//
// Order: a channel's entries are stored one read after the other, in stream order; channels are
// stored side by side. A failure (a channel throttling, Redis gone) leaves the entries pending;
// they are read again after a pause.
import type { IncomingChannelMessage } from '../../analytics/index.js';
import { isCodedError } from '../errors.js';
import type { Logger } from '../log.js';
import { decode, STREAM_PREFIX, streamKey } from './channel-forwarding.js';
import type { RedisConnection } from './redis.js';

export const CONSUMER_GROUP = 'iotcore-analytics';
/** entries read per stream and round */
const BATCH = 500;
/** how long one read waits for new entries; also how soon a channel made at run time is read */
const BLOCK_MS = 1_000;
/** pause after a failed round before pending entries are read again */
const RETRY_MS = 1_000;

export interface ConsumerCounters {
  /** channel messages handed to the channels (a redelivery a channel already has is left out there) */
  consumed: number;
  /** messages read again (pending after a restart or a failed round) */
  reread: number;
  /** resends left out because their first copy was in the same read */
  duplicatesSkipped: number;
  /** rounds that failed (the entries stay pending) */
  failed: number;
}

export interface ConsumerOptions {
  /** XGROUP, XACK, XDEL */
  conn: RedisConnection;
  /** its own connection: XREADGROUP BLOCK holds it */
  blocking: RedisConnection;
  /** the consumer's name in the group (the node id): a restart finds its pending entries */
  consumer: string;
  channels(): string[];
  ingest(channelName: string, msgs: IncomingChannelMessage[]): Promise<void>;
  log: Logger;
}

export interface ChannelConsumer {
  readonly counters: ConsumerCounters;
  /** stops reading, lets the round in progress finish (stored and acknowledged) */
  stop(): Promise<void>;
}

type Entry = [id: Buffer, fields: Buffer[] | null];
type StreamReply = [key: Buffer, entries: Entry[]][];

export function startChannelConsumer(o: ConsumerOptions): ChannelConsumer {
  const counters: ConsumerCounters = { consumed: 0, reread: 0, duplicatesSkipped: 0, failed: 0 };
  const grouped = new Set<string>();
  let stopped = false;
  let wake: (() => void) | undefined;
  const pause = (ms: number) => new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(t);
      resolve();
    };
  });

  async function ensureGroup(channelName: string): Promise<void> {
    try {
      await o.conn.xgroup('CREATE', streamKey(channelName), CONSUMER_GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) throw err;
    }
    grouped.add(channelName);
  }

  async function store(key: string, entries: Entry[], pending: boolean): Promise<void> {
    const channelName = key.slice(STREAM_PREFIX.length + 1, -1);
    const ids: string[] = [];
    const msgs: IncomingChannelMessage[] = [];
    const keys = new Set<string>();
    for (const [idBuf, fields] of entries) {
      const id = idBuf.toString();
      ids.push(id);
      if (fields === null) continue; // deleted while pending: nothing left to store
      decode(fields).forEach((m, i) => {
        const deliveryKey = m.deliveryKey ?? `x:${id}:${i}`;
        // the channel checks its archive, not the messages of the same call: a resend whose
        // first copy is in this read is left out here
        if (m.redelivered === true && keys.has(deliveryKey)) {
          counters.duplicatesSkipped++;
          return;
        }
        keys.add(deliveryKey);
        const msg: IncomingChannelMessage = { payload: m.payload, deliveryKey, redelivered: pending || m.redelivered === true };
        if (m.receivedAt !== undefined) msg.receivedAt = m.receivedAt;
        if (m.clientId !== undefined) msg.clientId = m.clientId;
        if (m.topic !== undefined) msg.topic = m.topic;
        msgs.push(msg);
      });
    }
    if (msgs.length > 0) await o.ingest(channelName, msgs);
    counters.consumed += msgs.length;
    if (pending) counters.reread += msgs.length;
    const done = await o.conn.multi().xack(key, CONSUMER_GROUP, ...ids).xdel(key, ...ids).exec();
    const failed = done?.find(([err]) => err !== null)?.[0];
    if (failed) throw failed;
  }

  const run = async () => {
    // first the entries this consumer read before (a crash or a failed round may have left them)
    let pending = true;
    let failing = false;
    while (!stopped) {
      try {
        const names = o.channels();
        for (const name of names) if (!grouped.has(name)) await ensureGroup(name);
        if (names.length === 0) {
          await pause(BLOCK_MS);
          continue;
        }
        const keys = names.map(streamKey);
        const args = ['GROUP', CONSUMER_GROUP, o.consumer, 'COUNT', BATCH, ...(pending ? [] : ['BLOCK', BLOCK_MS]), 'STREAMS', ...keys, ...keys.map(() => (pending ? '0' : '>'))];
        const reply = (await o.blocking.callBuffer('XREADGROUP', ...args)) as StreamReply | null;
        const streams = (reply ?? []).filter(([, entries]) => entries.length > 0);
        if (streams.length === 0) {
          pending = false;
          failing = false;
          continue;
        }
        // every channel's round ends before the next read, also when one fails
        const rounds = await Promise.allSettled(streams.map(([key, entries]) => store(key.toString(), entries, pending)));
        const failed = rounds.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
        failing = false;
      } catch (err) {
        if (stopped) break;
        counters.failed++;
        const message = (err as Error).message;
        if (/NOGROUP/.test(message)) grouped.clear(); // Redis lost its data: make the groups again
        // the first failure of a run of them is a warning; the retries each second are not news
        const entry = { code: isCodedError(err) ? err.code : 'ClusterUnavailable', err: message };
        if (failing) o.log.debug(entry, 'channel forwarding: a round failed again');
        else o.log.warn(entry, 'channel forwarding: a round failed; its entries stay pending and are read again each second');
        failing = true;
        pending = true;
        await pause(RETRY_MS);
      }
    }
  };
  const running = run();

  return {
    counters,
    async stop() {
      stopped = true;
      wake?.();
      o.blocking.disconnect(); // ends a blocked read at once
      await running;
    },
  };
}
