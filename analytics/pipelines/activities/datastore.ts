// datastore: the sink; names the datastore the pipeline's output rows go to. It has no `next`.
// A message without any attribute is not stored (spec §3.4) — the datastore step drops it.
import type { ActivityStep, Members } from './common.js';
import { checkMembers, checkString } from './common.js';
import { invalidRequest } from '../../errors.js';

export function compileDatastoreActivity(body: Members): { datastoreName: string; step: ActivityStep } {
  if (body && typeof body === 'object' && 'next' in body) {
    throw invalidRequest(`datastore activity "${String(body.name)}" must be the last activity (no next)`);
  }
  checkMembers(body, 'datastore', ['name', 'datastoreName']);
  const datastoreName = checkString(body, 'datastoreName', 'datastore', 1, 128);
  return { datastoreName, step: (m) => (hasAnyKey(m) ? m : null) };
}

function hasAnyKey(m: object): boolean {
  for (const _ in m) return true;
  return false;
}
