// Attribute paths as the pipeline activities write them: `.` walks into an object, `[i]` into an
// array (`device.coord[0]`). Parsed once when an activity is compiled; the returned closures do
// no string work per message.
import type { PipelineMessage } from '../types.js';
import { invalidRequest } from '../errors.js';

export type PathSegment = { key: string } | { index: number };

const SEGMENT = /^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$/;

/** `device.coord[0]` → [{key:'device'}, {key:'coord'}, {index:0}]; throws InvalidRequestException. */
export function parsePath(path: string, what = 'attribute path'): PathSegment[] {
  if (typeof path !== 'string' || path.length < 1 || path.length > 256) {
    throw invalidRequest(`${what} must be a string of 1..256 characters`);
  }
  const segments: PathSegment[] = [];
  for (const part of path.split('.')) {
    const m = SEGMENT.exec(part);
    if (!m) throw invalidRequest(`${what} "${path}" is not a valid path (names joined by '.', array indexes as [n])`);
    segments.push({ key: m[1] });
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) segments.push({ index: Number(idx[1]) });
  }
  return segments;
}

/** The last named segment: where selectAttributes re-creates a nested selection at the root. */
export function lastKey(segments: PathSegment[]): string {
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i];
    if ('key' in s) return s.key;
  }
  throw invalidRequest('path has no attribute name');
}

/** Looks a key up exactly, then case-insensitively: payload attribute names are case-insensitive
 * in IoT Analytics (spec §2.2), and the fallback scan only runs when the exact lookup misses. */
export function getKey(obj: Record<string, unknown>, key: string): unknown {
  const v = obj[key];
  if (v !== undefined || Object.prototype.hasOwnProperty.call(obj, key)) return v;
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

/** The actual key present in `obj` that matches `key` (exact first, then case-insensitive). */
export function findKey(obj: Record<string, unknown>, key: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(obj, key)) return key;
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return k;
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export type Getter = (m: PipelineMessage) => unknown;

/** Compiles a path to a getter; a missing step yields `undefined` (never throws). */
export function compileGetter(segments: PathSegment[]): Getter {
  if (segments.length === 1 && 'key' in segments[0]) {
    const key = segments[0].key;
    return (m) => getKey(m, key);
  }
  const steps = segments.map((s): ((v: unknown) => unknown) => {
    if ('key' in s) {
      const key = s.key;
      return (v) => (isPlainObject(v) ? getKey(v, key) : undefined);
    }
    const index = s.index;
    return (v) => (Array.isArray(v) ? v[index] : undefined);
  });
  return (m) => {
    let v: unknown = m;
    for (let i = 0; i < steps.length && v !== undefined; i++) v = steps[i](v);
    return v;
  };
}

/**
 * Returns a copy of `m` without the value at `segments`, copying only the containers along the
 * path (copy-on-write: the input message may be shared with other pipelines of the same channel).
 * A removed array element is spliced out (the array shortens). A missing path returns `m` itself.
 */
export function withoutPath(m: PipelineMessage, segments: PathSegment[]): PipelineMessage {
  const out = removeAt(m, segments, 0);
  return out === NOT_FOUND ? m : (out as PipelineMessage);
}

const NOT_FOUND = Symbol('not found');

function removeAt(container: unknown, segments: PathSegment[], i: number): unknown {
  const seg = segments[i];
  const last = i === segments.length - 1;
  if ('key' in seg) {
    if (!isPlainObject(container)) return NOT_FOUND;
    const key = findKey(container, seg.key);
    if (key === undefined) return NOT_FOUND;
    if (last) {
      const copy = { ...container };
      delete copy[key];
      return copy;
    }
    const child = removeAt(container[key], segments, i + 1);
    if (child === NOT_FOUND) return NOT_FOUND;
    return { ...container, [key]: child };
  }
  if (!Array.isArray(container) || seg.index >= container.length) return NOT_FOUND;
  if (last) {
    const copy = container.slice();
    copy.splice(seg.index, 1);
    return copy;
  }
  const child = removeAt(container[seg.index], segments, i + 1);
  if (child === NOT_FOUND) return NOT_FOUND;
  const copy = container.slice();
  copy[seg.index] = child;
  return copy;
}
