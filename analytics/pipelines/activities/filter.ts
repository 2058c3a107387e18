// filter: the message continues only when the expression is Boolean true (spec §3.2/§3.3);
// false, Undefined (e.g. a missing attribute) and non-Boolean results drop it.
import type { ActivityStep, Members } from './common.js';
import { checkMembers, checkString } from './common.js';
import { compileFilter } from '../expr/compile.js';

export function compileFilterActivity(body: Members): ActivityStep {
  checkMembers(body, 'filter', ['name', 'filter', 'next']);
  const predicate = compileFilter(checkString(body, 'filter', 'filter', 1, 256));
  return (m) => (predicate(m) ? m : null);
}
