// selectAttributes: builds a new message with only the listed attributes (spec §3.2); a nested
// selection lands at the root under its last name (`device.temp` → `temp`,
// `device.coord[0]` → `coord`).
// Decisions (undocumented):
// * missing attributes are left out; a message with none of them becomes {} and is dropped by
//   the datastore activity;
// * two selections landing on the same root name: the later one in the list wins;
// * keys appear in the order of the attribute list.
import type { ActivityStep, Members } from './common.js';
import { checkAttributeList, checkMembers } from './common.js';
import type { PipelineMessage } from '../../types.js';
import { compileGetter, lastKey, parsePath } from '../paths.js';

export function compileSelectAttributesActivity(body: Members): ActivityStep {
  checkMembers(body, 'selectAttributes', ['name', 'attributes', 'next']);
  const picks = checkAttributeList(body, 'selectAttributes').map((p) => {
    const segments = parsePath(p, 'selectAttributes path');
    return { get: compileGetter(segments), key: lastKey(segments) };
  });
  return (m) => {
    const out: PipelineMessage = {};
    for (const p of picks) {
      const v = p.get(m);
      if (v !== undefined) out[p.key] = v;
    }
    return out;
  };
}
