// Read access to the broker's retained messages for the data plane (GetRetainedMessage,
// ListRetainedMessages). aedes' persistence stores the packets but no modification time, so a
// side map, updated on every retained publish, remembers when each topic last changed. Both
// hold one entry per retained topic, so the side map is bounded by the retained store itself.

export interface RetainedPacket {
  topic: string;
  payload: Buffer | string;
  qos: number;
}

export interface RetainedMessage {
  topic: string;
  payload: Buffer;
  qos: number;
  lastModifiedTime: number;
}

export interface RetainedSummary {
  topic: string;
  payloadSize: number;
  qos: number;
  lastModifiedTime: number;
}

export interface RetainedStore {
  /** call for every retained publish (an empty payload deletes) */
  stored(topic: string, payload: Buffer | string): void;
  get(topic: string): Promise<RetainedMessage | undefined>;
  /** every retained message, sorted by topic */
  list(): Promise<RetainedSummary[]>;
}

/** `stream(pattern)` is the persistence's retained stream (async-iterable packets). */
export function createRetainedStore(stream: (pattern: string) => AsyncIterable<RetainedPacket>, now: () => number = Date.now): RetainedStore {
  const modified = new Map<string, number>();
  const timeOf = (topic: string) => modified.get(topic) ?? 0;
  return {
    stored(topic, payload) {
      if (payload.length === 0) modified.delete(topic);
      else modified.set(topic, now());
    },
    async get(topic) {
      for await (const p of stream(topic)) {
        if (p.topic === topic) return { topic, payload: toBuffer(p.payload), qos: p.qos, lastModifiedTime: timeOf(topic) };
      }
      return undefined;
    },
    async list() {
      const out: RetainedSummary[] = [];
      for await (const p of stream('#')) {
        out.push({ topic: p.topic, payloadSize: toBuffer(p.payload).length, qos: p.qos, lastModifiedTime: timeOf(p.topic) });
      }
      return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
    },
  };
}

function toBuffer(payload: Buffer | string): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload) : payload;
}
