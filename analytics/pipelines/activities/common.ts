// What every activity shares: the compiled step type and member validation helpers.
import type { PipelineMessage } from '../../types.js';
import { invalidRequest } from '../../errors.js';

/** A compiled activity: the transformed message, or null when the message is dropped. Must not
 * mutate its input (messages parsed once are shared by every pipeline of a channel). */
export type ActivityStep = (m: PipelineMessage) => PipelineMessage | null;

export type Members = Record<string, unknown>;

/** Activity names: 1..128 characters, as in the API model (`name`, `next`). */
export function checkName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > 128) {
    throw invalidRequest(`${what} must be a string of 1..128 characters`);
  }
  return value;
}

export function checkString(body: Members, member: string, type: string, min: number, max: number): string {
  const v = body[member];
  if (typeof v !== 'string' || v.length < min || v.length > max) {
    throw invalidRequest(`${type} activity "${String(body.name)}": ${member} must be a string of ${min}..${max} characters`);
  }
  return v;
}

/** Refuses members the activity does not define, so a typo (`attribute` for `attributes`) is an
 * error at definition time rather than a silently ignored setting. */
export function checkMembers(body: Members, type: string, allowed: readonly string[]): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest(`${type} activity must be an object`);
  }
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) throw invalidRequest(`${type} activity "${String(body.name)}": unknown member "${k}"`);
  }
}

/** A list of 1..50 attribute paths (removeAttributes, selectAttributes). */
export function checkAttributeList(body: Members, type: string): string[] {
  const v = body.attributes;
  if (!Array.isArray(v) || v.length < 1 || v.length > 50 || !v.every((s) => typeof s === 'string')) {
    throw invalidRequest(`${type} activity "${String(body.name)}": attributes must be a list of 1..50 strings`);
  }
  return v as string[];
}
