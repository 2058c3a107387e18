// math: evaluates a numeric expression and writes it to `attribute` (spec §3.2/§3.3).
// Decisions (undocumented):
// * the result lands as the LAST key; when `attribute` already exists it is replaced and moved
//   to the end (same result as "append", and the value never silently keeps its old position);
// * an Undefined result (missing/non-numeric operand, division by zero, acos(2)...) leaves the
//   message unchanged and lets it continue — the attribute is omitted, as an Undefined SELECT
//   expression is omitted in IoT SQL; the pipeline counts these as `undefinedResults`.
import type { ActivityStep, Members } from './common.js';
import { checkMembers, checkString } from './common.js';
import { compileMath } from '../expr/compile.js';
import { findKey } from '../paths.js';

export interface MathActivityHooks {
  onUndefined?: () => void;
}

export function compileMathActivity(body: Members, hooks: MathActivityHooks = {}): ActivityStep {
  checkMembers(body, 'math', ['name', 'attribute', 'math', 'next']);
  const attribute = checkString(body, 'attribute', 'math', 1, 256);
  const evaluate = compileMath(checkString(body, 'math', 'math', 1, 256));
  const onUndefined = hooks.onUndefined;
  return (m) => {
    const v = evaluate(m);
    if (v === undefined) {
      onUndefined?.();
      return m;
    }
    const out = { ...m };
    const existing = findKey(out, attribute);
    if (existing !== undefined) delete out[existing];
    out[attribute] = v;
    return out;
  };
}
