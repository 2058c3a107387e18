// Payload decoding (once per archived message, shared by every pipeline of the channel) and the
// payload attribute-name rule of spec §2.2.
import type { PipelineMessage } from '../types.js';

/** The payload as a JSON object, or null when it is not JSON or not an object (such messages
 * stay in the archive but no pipeline activity other than lambda could use them, spec §3.4). */
export function decodePayload(payload: Buffer): PipelineMessage | null {
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as PipelineMessage) : null;
}

const FIELD_NAME = /^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$/;

/** Payload attribute names: letters, digits, underscores; at most one leading underscore; ≤ 255. */
export function isValidFieldName(name: string): boolean {
  return name.length <= 255 && FIELD_NAME.test(name);
}

/** Names that collide case-insensitively (`foo` and `FOO` are duplicates), in order found. */
export function duplicateFieldNames(obj: PipelineMessage): string[] {
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const k of Object.keys(obj)) {
    const l = k.toLowerCase();
    if (seen.has(l)) dups.push(k);
    else seen.add(l);
  }
  return dups;
}
