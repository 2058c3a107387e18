// removeAttributes: deletes the listed attributes (spec §3.2).
// Decisions (undocumented):
// * nested paths are honoured (`device.temp` removes only `temp` inside `device`; an emptied
//   `device` object stays), `[i]` removes that array element (the array shortens);
// * missing paths are ignored;
// * a message left without attributes travels on and is dropped by the datastore activity
//   ("a message with all attributes removed is not stored", spec §3.4).
import type { ActivityStep, Members } from './common.js';
import { checkAttributeList, checkMembers } from './common.js';
import { parsePath, withoutPath } from '../paths.js';

export function compileRemoveAttributesActivity(body: Members): ActivityStep {
  checkMembers(body, 'removeAttributes', ['name', 'attributes', 'next']);
  const paths = checkAttributeList(body, 'removeAttributes').map((p) => parsePath(p, 'removeAttributes path'));
  return (m) => {
    let out = m;
    for (const p of paths) out = withoutPath(out, p);
    return out;
  };
}
