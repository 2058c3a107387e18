// The Device Shadow service: the operations of the data plane (spec §5.2) and of the MQTT
// request topics (§4.2), over one store. Every answer that AWS publishes goes out through the
// broker's own publish, so subscribers and rules see it like any other message.
//
// Requests are applied synchronously, in arrival order, and persisted before they are answered;
// the resulting MQTT messages are queued and published one after the other (accepted before
// delta before documents), so two quick updates never have their messages interleaved.
import { BrokerError } from '../errors.js';
import {
  applyUpdate,
  clientTokenOf,
  DEFAULT_LIMITS,
  getDocument,
  isObject,
  parsePayload,
  validateUpdate,
  type JsonObject,
  type ShadowLimits,
} from './document.js';
import { rejection } from './errors.js';
import { isLive, openShadowStore, type ShadowStore } from './store.js';
import { parseShadowTopic, shadowTopic, type ShadowOperation } from './topics.js';

const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const SHADOW_NAME = /^[$a-zA-Z0-9:_-]{1,64}$/;
/** AWS: a shadow recreated within 48 h of its deletion continues from the old version. */
const TOMBSTONE_SECONDS = 48 * 3600;
const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 100;

export interface ShadowServiceOptions {
  dataDir: string;
  /** the broker's publish (rules see these messages too) */
  publish(topic: string, payload: Buffer): Promise<void>;
  /** epoch milliseconds; shadow documents carry epoch seconds */
  now?(): number;
  limits?: Partial<ShadowLimits>;
  /** MQTT answers waiting to be published; beyond it they are dropped and counted */
  maxQueuedPublishes?: number;
  onPublishError?(topic: string, err: unknown): void;
}

export interface ShadowCounters {
  accepted: number;
  rejected: number;
  published: number;
  publishFailed: number;
  publishDropped: number;
}

export interface ListNamedShadowsResult {
  results: string[];
  nextToken?: string;
  timestamp: number;
}

/** What a device's publish on a `$aws/things/...` topic means to the shadow service. */
export type ShadowOffer = 'handled' | 'refused' | undefined;

export interface ShadowService {
  readonly counters: ShadowCounters;
  /** UpdateThingShadow: the accepted document. `body` is the request (bytes, text or parsed JSON). */
  update(thingName: string, shadowName: string | undefined, body: unknown): JsonObject;
  /** GetThingShadow: the full document. */
  get(thingName: string, shadowName?: string, clientToken?: string): JsonObject;
  /** DeleteThingShadow: `{version, timestamp}`. */
  delete(thingName: string, shadowName?: string, clientToken?: string): JsonObject;
  listNamedShadows(thingName: string, page?: { pageSize?: number; nextToken?: string }): ListNamedShadowsResult;
  /** For the rules engine's get_thing_shadow(): the document GetThingShadow returns, or undefined. */
  thingShadow(thingName: string, shadowName?: string): JsonObject | undefined;
  /**
   * A device's publish: a request topic is handled ('handled'; answers are published), a topic
   * the service publishes on is refused ('refused': devices may only subscribe to those), and
   * anything else is not a shadow topic (undefined).
   */
  offer(topic: string, payload: Buffer): ShadowOffer;
  /** resolves when every queued answer has been published (tests, shutdown) */
  idle(): Promise<void>;
}

export function openShadowService(options: ShadowServiceOptions): ShadowService {
  const store: ShadowStore = openShadowStore(options.dataDir);
  const limits: ShadowLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const nowMs = options.now ?? Date.now;
  const seconds = () => Math.floor(nowMs() / 1000);
  const maxQueued = options.maxQueuedPublishes ?? 10_000;
  const counters: ShadowCounters = { accepted: 0, rejected: 0, published: 0, publishFailed: 0, publishDropped: 0 };

  let queued = 0;
  let tail: Promise<void> = Promise.resolve();
  function publishInOrder(messages: [topic: string, doc: JsonObject][]): void {
    for (const [topic, doc] of messages) {
      if (queued >= maxQueued) {
        counters.publishDropped++;
        continue;
      }
      queued++;
      const payload = Buffer.from(JSON.stringify(doc));
      tail = tail
        .then(() => options.publish(topic, payload))
        .then(
          () => void counters.published++,
          (err: unknown) => {
            counters.publishFailed++;
            options.onPublishError?.(topic, err);
          },
        )
        .finally(() => void queued--);
    }
  }

  function names(thingName: string, shadowName: string | undefined): string {
    if (!THING_NAME.test(thingName)) throw rejection('invalidName', { what: 'Thing', name: thingName });
    const shadow = shadowName ?? '';
    if (shadow !== '' && !SHADOW_NAME.test(shadow)) throw rejection('invalidName', { what: 'Shadow', name: shadow });
    return shadow;
  }

  function update(thingName: string, shadowName: string | undefined, body: unknown): { accepted: JsonObject; messages: [string, JsonObject][] } {
    const shadow = names(thingName, shadowName);
    const doc = typeof body === 'string' || Buffer.isBuffer(body) ? parsePayload(body) : body;
    if (!isObject(doc)) throw rejection('invalidJson');
    const request = validateUpdate(doc, limits);
    const now = seconds();
    const entry = store.get(thingName, shadow);
    const live = isLive(entry) ? entry : undefined;
    const base = entry && !isLive(entry) && now - entry.deletedAt < TOMBSTONE_SECONDS ? entry.deletedVersion : 0;
    const result = applyUpdate(live, request, now, limits, base);
    store.set(thingName, shadow, result.shadow);
    const messages: [string, JsonObject][] = [[shadowTopic(thingName, shadow, 'update', 'accepted'), result.accepted]];
    if (result.delta) messages.push([shadowTopic(thingName, shadow, 'update', 'delta'), result.delta]);
    messages.push([shadowTopic(thingName, shadow, 'update', 'documents'), result.documents]);
    return { accepted: result.accepted, messages };
  }

  function get(thingName: string, shadowName: string | undefined, clientToken: string | undefined): JsonObject {
    const shadow = names(thingName, shadowName);
    const entry = store.get(thingName, shadow);
    if (!isLive(entry)) throw rejection('notFound', { name: shadow === '' ? thingName : shadow });
    return getDocument(entry, seconds(), clientToken);
  }

  function remove(thingName: string, shadowName: string | undefined, clientToken: string | undefined): JsonObject {
    const shadow = names(thingName, shadowName);
    const entry = store.get(thingName, shadow);
    if (!isLive(entry)) throw rejection('notFound', { name: shadow === '' ? thingName : shadow });
    const now = seconds();
    store.set(thingName, shadow, { deletedVersion: entry.version, deletedAt: now });
    const answer: JsonObject = { version: entry.version, timestamp: now };
    if (clientToken !== undefined) answer.clientToken = clientToken;
    return answer;
  }

  /** Runs one request; a rejection becomes the error document AWS publishes on `/rejected`. */
  function answer(thingName: string, shadowName: string, operation: ShadowOperation, run: () => { doc: JsonObject; messages?: [string, JsonObject][] }, clientToken: string | undefined): void {
    try {
      const { doc, messages } = run();
      counters.accepted++;
      publishInOrder(messages ?? [[shadowTopic(thingName, shadowName, operation, 'accepted'), doc]]);
    } catch (err) {
      counters.rejected++;
      publishInOrder([[shadowTopic(thingName, shadowName, operation, 'rejected'), errorDocument(err, seconds(), clientToken)]]);
    }
  }

  return {
    counters,
    update(thingName, shadowName, body) {
      const { accepted, messages } = update(thingName, shadowName, body);
      counters.accepted++;
      publishInOrder(messages);
      return accepted;
    },
    get: (thingName, shadowName, clientToken) => get(thingName, shadowName, clientToken),
    delete(thingName, shadowName, clientToken) {
      const doc = remove(thingName, shadowName, clientToken);
      publishInOrder([[shadowTopic(thingName, shadowName ?? '', 'delete', 'accepted'), doc]]);
      return doc;
    },
    listNamedShadows(thingName, page = {}) {
      names(thingName, undefined);
      const size = page.pageSize ?? DEFAULT_PAGE_SIZE;
      if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
        throw new BrokerError('InvalidRequestException', `pageSize must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
      }
      const after = page.nextToken === undefined ? undefined : decodeToken(page.nextToken);
      const all = store.namedShadows(thingName).filter((n) => after === undefined || n > after);
      const results = all.slice(0, size);
      const out: ListNamedShadowsResult = { results, timestamp: seconds() };
      if (all.length > size) out.nextToken = Buffer.from(JSON.stringify({ after: results[results.length - 1] })).toString('base64url');
      return out;
    },
    thingShadow(thingName, shadowName) {
      const entry = store.get(thingName, shadowName ?? '');
      return isLive(entry) ? getDocument(entry, seconds()) : undefined;
    },
    offer(topic, payload) {
      const parsed = parseShadowTopic(topic);
      if (!parsed) return undefined;
      if (parsed.response) return 'refused';
      const { thingName, shadowName, operation } = parsed;
      const token = payload.length > 0 ? clientTokenOf(safeParse(payload)) : undefined;
      if (operation === 'update') {
        answer(thingName, shadowName, operation, () => {
          const { accepted, messages } = update(thingName, shadowName, payload);
          return { doc: accepted, messages };
        }, token);
      } else if (operation === 'get') {
        answer(thingName, shadowName, operation, () => ({ doc: get(thingName, shadowName, token) }), token);
      } else {
        answer(thingName, shadowName, operation, () => ({ doc: remove(thingName, shadowName, token) }), token);
      }
      return 'handled';
    },
    idle: async () => {
      while (queued > 0) await tail;
    },
  };
}

/** `{code, message, timestamp, clientToken?}` as AWS publishes on `/rejected` (code = HTTP status). */
export function errorDocument(err: unknown, now: number, clientToken?: string): JsonObject {
  const known = err instanceof BrokerError;
  const doc: JsonObject = {
    code: known ? err.statusCode : 500,
    message: known ? err.message : 'Internal service failure',
    timestamp: now,
  };
  if (clientToken !== undefined) doc.clientToken = clientToken;
  return doc;
}

function safeParse(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}

function decodeToken(token: string): string {
  try {
    const after = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown }).after;
    if (typeof after === 'string') return after;
  } catch {
    // the coded error below
  }
  throw new BrokerError('InvalidRequestException', 'nextToken is not a token this server returned');
}
