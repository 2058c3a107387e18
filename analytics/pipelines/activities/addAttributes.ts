// addAttributes: copies the value at each source path to a new root attribute; sources stay.
// Decisions (undocumented):
// * the new name is a literal root-level key (dots in it are not paths);
// * a missing source path adds nothing (no null placeholder);
// * an existing attribute of that name is overwritten in place (its key position is kept);
// * all sources are read from the incoming message, so the order of the map does not matter.
import type { ActivityStep, Members } from './common.js';
import { checkMembers } from './common.js';
import { compileGetter, parsePath } from '../paths.js';
import { invalidRequest } from '../../errors.js';

export function compileAddAttributesActivity(body: Members): ActivityStep {
  checkMembers(body, 'addAttributes', ['name', 'attributes', 'next']);
  const map = body.attributes;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw invalidRequest(`addAttributes activity "${String(body.name)}": attributes must be a map of 1..50 entries`);
  }
  const entries = Object.entries(map as Record<string, unknown>);
  if (entries.length < 1 || entries.length > 50) {
    throw invalidRequest(`addAttributes activity "${String(body.name)}": attributes must be a map of 1..50 entries`);
  }
  const copies = entries.map(([from, to]) => {
    if (typeof to !== 'string' || to.length < 1 || to.length > 256) {
      throw invalidRequest(`addAttributes activity "${String(body.name)}": new name for "${from}" must be a string of 1..256 characters`);
    }
    return { get: compileGetter(parsePath(from, 'addAttributes source path')), to };
  });
  return (m) => {
    const out = { ...m };
    for (const c of copies) {
      const v = c.get(m);
      if (v !== undefined) out[c.to] = v;
    }
    return out;
  };
}
