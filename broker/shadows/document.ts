// The shadow document model (spec §4.3): pure functions, no clock, no files, no sockets.
// An update is validated completely before anything changes, so a rejected request leaves the
// shadow exactly as it was.
import { rejection } from './errors.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
/** Metadata mirrors the state: a leaf becomes `{timestamp}`, objects recurse, arrays per element. */
export type Metadata = { timestamp: number } | Metadata[] | { [key: string]: Metadata };

export type Section = 'desired' | 'reported';
const SECTIONS: readonly Section[] = ['desired', 'reported'];

/** A live shadow as stored. `timestamp` is the epoch second of its last update. */
export interface ShadowState {
  state: Partial<Record<Section, JsonObject>>;
  metadata: Partial<Record<Section, JsonObject>>;
  version: number;
  timestamp: number;
}

export interface ShadowLimits {
  /** bytes of JSON of desired + reported (metadata excluded); AWS: 8 KB */
  maxStateBytes: number;
  /** nesting levels inside desired or reported (`{"a":1}` is 1 level); AWS's error text says 6 */
  maxDepth: number;
}

export const DEFAULT_LIMITS: ShadowLimits = Object.freeze({ maxStateBytes: 8192, maxDepth: 6 });
const MAX_CLIENT_TOKEN_BYTES = 64;

/** An update request that passed validation. */
export interface UpdateRequest {
  /** the request's state as sent (null = clear both sections) */
  state: Partial<Record<Section, JsonObject | null>> | null;
  version?: number;
  clientToken?: string;
}

export interface UpdateResult {
  shadow: ShadowState;
  /** `/update/accepted` and the UpdateThingShadow response */
  accepted: JsonObject;
  /** `/update/delta`, only when desired still differs from reported */
  delta?: JsonObject;
  /** `/update/documents` */
  documents: JsonObject;
}

/** Reads a payload (bytes or text) as a JSON object; anything else is `Invalid JSON`. */
export function parsePayload(payload: Buffer | string): JsonObject {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    throw rejection('invalidJson');
  }
  if (!isObject(doc)) throw rejection('invalidJson');
  return doc;
}

/** The clientToken of any request (get and delete only echo it; a bad one is ignored there). */
export function clientTokenOf(body: unknown): string | undefined {
  const token = isObject(body) ? body.clientToken : undefined;
  return typeof token === 'string' && Buffer.byteLength(token) <= MAX_CLIENT_TOKEN_BYTES ? token : undefined;
}

/** Checks an update document; throws the AWS rejection for the first problem found. */
export function validateUpdate(body: JsonObject, limits: ShadowLimits): UpdateRequest {
  const request: UpdateRequest = { state: null };
  if ('clientToken' in body) {
    const token = body.clientToken;
    if (typeof token !== 'string' || Buffer.byteLength(token) > MAX_CLIENT_TOKEN_BYTES) throw rejection('invalidClientToken');
    request.clientToken = token;
  }
  if ('version' in body) {
    const version = body.version;
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) throw rejection('invalidVersion');
    request.version = version;
  }
  if (!('state' in body)) throw rejection('missingState');
  const state = body.state;
  if (state === null) return request;
  if (!isObject(state)) throw rejection('stateNotObject');
  const sections: Partial<Record<Section, JsonObject | null>> = {};
  for (const [key, value] of Object.entries(state)) {
    if (key !== 'desired' && key !== 'reported') throw rejection('invalidNode');
    if (value !== null && !isObject(value)) throw rejection(key === 'desired' ? 'desiredNotObject' : 'reportedNotObject');
    if (value !== null) {
      if (depthOf(value) > limits.maxDepth) throw rejection('tooDeep', { max: limits.maxDepth });
      if (hasNullInArray(value, false)) throw rejection('invalidNode');
    }
    sections[key] = value;
  }
  request.state = sections;
  return request;
}

/**
 * Applies a validated update to the current shadow (undefined when there is none; then the
 * version continues from `baseVersion`, the version of a recently deleted shadow, or 0).
 * `now` is epoch seconds.
 */
export function applyUpdate(current: ShadowState | undefined, request: UpdateRequest, now: number, limits: ShadowLimits, baseVersion = 0): UpdateResult {
  const currentVersion = current ? current.version : baseVersion;
  if (request.version !== undefined && request.version !== currentVersion) throw rejection('versionConflict');

  const state: Partial<Record<Section, JsonObject>> = {};
  const metadata: Partial<Record<Section, JsonObject>> = {};
  for (const section of SECTIONS) {
    const requested = request.state === null ? null : request.state[section];
    const before = current?.state[section];
    if (requested === null) continue; // the section is removed
    if (requested === undefined) {
      if (before) {
        state[section] = before;
        metadata[section] = current!.metadata[section] ?? {};
      }
      continue;
    }
    const merged = mergeObject(before ?? {}, current?.metadata[section] ?? {}, requested, now);
    if (Object.keys(merged.value).length > 0) {
      state[section] = merged.value;
      metadata[section] = merged.meta;
    }
  }
  if (Buffer.byteLength(JSON.stringify(state)) > limits.maxStateBytes) throw rejection('tooLarge');

  const shadow: ShadowState = { state, metadata, version: currentVersion + 1, timestamp: now };
  const token: JsonObject = request.clientToken === undefined ? {} : { clientToken: request.clientToken };

  const acceptedState: JsonObject = {};
  const acceptedMeta: JsonObject = {};
  if (request.state !== null) {
    for (const section of SECTIONS) {
      const sent = request.state[section];
      if (sent === undefined) continue;
      acceptedState[section] = sent;
      acceptedMeta[section] = sent === null ? { timestamp: now } : (metadataOf(sent, now) as JsonObject);
    }
  }
  const accepted: JsonObject = { state: request.state === null ? null : acceptedState, metadata: acceptedMeta, version: shadow.version, timestamp: now, ...token };

  const result: UpdateResult = {
    shadow,
    accepted,
    documents: {
      previous: current ? versionedDocument(current) : { state: {}, metadata: {}, version: currentVersion },
      current: versionedDocument(shadow),
      timestamp: now,
      ...token,
    },
  };
  const delta = deltaOf(shadow);
  if (delta) result.delta = { version: shadow.version, timestamp: now, state: delta.state, metadata: delta.metadata, ...token };
  return result;
}

/** The GetThingShadow document: state (with delta when desired and reported differ), metadata,
 * version and the time of the answer. */
export function getDocument(shadow: ShadowState, now: number, clientToken?: string): JsonObject {
  const state: JsonObject = { ...shadow.state };
  const delta = deltaOf(shadow);
  if (delta) state.delta = delta.state;
  const doc: JsonObject = { state, metadata: { ...shadow.metadata }, version: shadow.version, timestamp: now };
  if (clientToken !== undefined) doc.clientToken = clientToken;
  return doc;
}

/** Desired fields absent from reported or different there; nested objects keep their path and
 * only differing leaves; arrays compare whole. Metadata = the desired metadata of those fields. */
export function deltaOf(shadow: ShadowState): { state: JsonObject; metadata: JsonObject } | undefined {
  const desired = shadow.state.desired;
  if (!desired) return undefined;
  const found = diff(desired, shadow.state.reported ?? {}, shadow.metadata.desired ?? {});
  return found ? { state: found.state, metadata: found.meta } : undefined;
}

function diff(desired: JsonObject, reported: JsonObject, meta: JsonObject): { state: JsonObject; meta: JsonObject } | undefined {
  const state: JsonObject = {};
  const metaOut: JsonObject = {};
  for (const [key, want] of Object.entries(desired)) {
    const have = reported[key];
    if (isObject(want) && isObject(have)) {
      const inner = diff(want, have, isObject(meta[key]) ? meta[key] : {});
      if (inner) {
        state[key] = inner.state;
        metaOut[key] = inner.meta;
      }
    } else if (have === undefined || !jsonEqual(want, have)) {
      state[key] = want;
      metaOut[key] = meta[key] ?? null;
    }
  }
  return Object.keys(state).length > 0 ? { state, meta: metaOut } : undefined;
}

/** Recursive merge: null removes a field, objects merge, everything else (arrays too) replaces.
 * An object left empty by removals is removed as well, so no `{}` husks stay behind. */
function mergeObject(base: JsonObject, baseMeta: JsonObject, patch: JsonObject, now: number): { value: JsonObject; meta: JsonObject } {
  const value: JsonObject = { ...base };
  const meta: JsonObject = { ...baseMeta };
  for (const [key, next] of Object.entries(patch)) {
    if (next === null) {
      delete value[key];
      delete meta[key];
    } else if (isObject(next) && isObject(value[key])) {
      const inner = mergeObject(value[key], isObject(meta[key]) ? meta[key] : {}, next, now);
      if (Object.keys(inner.value).length > 0) {
        value[key] = inner.value;
        meta[key] = inner.meta;
      } else {
        delete value[key];
        delete meta[key];
      }
    } else {
      const stored = isObject(next) ? stripNulls(next) : next;
      if (isObject(stored) && Object.keys(stored).length === 0 && Object.keys(next as JsonObject).length > 0) {
        delete value[key];
        delete meta[key];
        continue;
      }
      value[key] = stored;
      meta[key] = metadataOf(stored, now) as Json;
    }
  }
  return { value, meta };
}

/** A new object stored where there was none: its null members mean "absent". */
function stripNulls(obj: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === null) continue;
    if (isObject(v)) {
      const inner = stripNulls(v);
      if (Object.keys(inner).length > 0 || Object.keys(v).length === 0) out[k] = inner;
    } else out[k] = v;
  }
  return out;
}

export function metadataOf(value: Json, now: number): Metadata {
  if (Array.isArray(value)) return value.map((v) => metadataOf(v, now));
  if (isObject(value)) {
    const out: { [key: string]: Metadata } = {};
    for (const [k, v] of Object.entries(value)) out[k] = metadataOf(v, now);
    return out;
  }
  return { timestamp: now };
}

function versionedDocument(shadow: ShadowState): JsonObject {
  return { state: { ...shadow.state }, metadata: { ...shadow.metadata }, version: shadow.version };
}

/** Levels of objects and arrays: a scalar is 0, `{"a":1}` is 1. */
function depthOf(value: Json): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (isObject(value)) return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

function hasNullInArray(value: Json, inArray: boolean): boolean {
  if (value === null) return inArray;
  if (Array.isArray(value)) return value.some((v) => hasNullInArray(v, true));
  if (isObject(value)) return Object.values(value).some((v) => hasNullInArray(v, false));
  return false;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]!));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && jsonEqual(a[k]!, b[k]!));
  }
  return false;
}
