// Per-rule counters; a fresh set whenever a rule is (re)created.
import type { RuleCounters } from './types.js';

export function newCounters(ruleName: string): RuleCounters {
  return { ruleName, matched: 0, fired: 0, noResult: 0, failed: 0, actionsOk: 0, actionsFailed: 0, errorActionsFailed: 0 };
}
