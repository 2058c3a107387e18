// The broker's retained messages as the data plane reads them (GetRetainedMessage,
// ListRetainedMessages): one entry per topic with its payload, QoS and modification time. aedes
// keeps its own copy for delivery to subscribers; both hold the same payload buffers, so this
// index costs a map entry per topic, and it is bounded by the retained-message quota
// (retained-store.ts). Pure memory: the journal lives in retained-store.ts.

import { BrokerError } from '../errors.js';

export interface RetainedMessage {
  topic: string;
  payload: Buffer;
  qos: number;
  /** epoch milliseconds of the publish that stored it */
  lastModifiedTime: number;
}

export interface RetainedSummary {
  topic: string;
  payloadSize: number;
  qos: number;
  lastModifiedTime: number;
}

export interface RetainedPage {
  retainedTopics: RetainedSummary[];
  /** more topics follow the last one of this page */
  more: boolean;
}

/** What the data-plane routes read. */
export interface RetainedReader {
  get(topic: string): RetainedMessage | undefined;
  /** up to `limit` topics after `after` (all from the start without it), in code-unit order */
  list(after: string | undefined, limit: number): RetainedPage;
  readonly size: number;
}

export interface RetainedIndex extends RetainedReader {
  set(message: RetainedMessage): void;
  delete(topic: string): void;
  values(): IterableIterator<RetainedMessage>;
}

/**
 * Why AWS would refuse this retained publish, or undefined: no RETAIN on reserved topics ($aws/...,
 * and $SYS here), a payload over the limit, or a new topic while `holder` (the account, the
 * cluster) holds its quota; a full quota still takes updates of retained topics and deletions.
 */
export function retainedRefusal(topic: string, payload: Buffer, index: Pick<RetainedIndex, 'size' | 'get'>, limits: { maxPayloadBytes: number; maxMessages: number }, holder: string): BrokerError | undefined {
  if (topic.startsWith('$')) return new BrokerError('ReservedTopic', `may not retain a message on ${topic}: reserved topics hold no retained messages`);
  if (payload.length > limits.maxPayloadBytes) {
    return new BrokerError('PayloadTooLarge', `retained payload of ${payload.length} bytes on ${topic} exceeds the ${limits.maxPayloadBytes}-byte limit`);
  }
  if (payload.length > 0 && index.size >= limits.maxMessages && index.get(topic) === undefined) {
    return new BrokerError('ThrottlingException', `the ${holder} holds ${index.size} retained messages, the most it may (${limits.maxMessages}); delete some (an empty retained publish) before retaining on new topics`);
  }
  return undefined;
}

export function createRetainedIndex(): RetainedIndex {
  const byTopic = new Map<string, RetainedMessage>();
  // Sorted topics for paging, rebuilt only after a topic is added or removed (updates of a
  // retained topic, the common case, keep it), so paging through N topics is not O(N²).
  let sorted: string[] | undefined;
  return {
    get size() {
      return byTopic.size;
    },
    get: (topic) => byTopic.get(topic),
    set(message) {
      if (!byTopic.has(message.topic)) sorted = undefined;
      byTopic.set(message.topic, message);
    },
    delete(topic) {
      if (byTopic.delete(topic)) sorted = undefined;
    },
    values: () => byTopic.values(),
    list(after, limit) {
      sorted ??= [...byTopic.keys()].sort(); // default sort: UTF-16 code units
      const topics = sorted;
      const start = after === undefined ? 0 : firstAfter(topics, after);
      const retainedTopics = topics.slice(start, start + limit).map((topic) => {
        const m = byTopic.get(topic)!;
        return { topic, payloadSize: m.payload.length, qos: m.qos, lastModifiedTime: m.lastModifiedTime };
      });
      return { retainedTopics, more: start + limit < topics.length };
    },
  };
}

/** index of the first topic greater than `after` (binary search) */
function firstAfter(topics: readonly string[], after: string): number {
  let lo = 0;
  let hi = topics.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (topics[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
