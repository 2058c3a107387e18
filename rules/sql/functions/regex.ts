// The regular expressions of regexp_matches, regexp_replace and regexp_substr. Patterns may come
// from payload data and the rules engine has no time limit per message, so they run on RE2 (the
// re2js port: linear time in the input, no catastrophic backtracking such as `^(a+)+$` on a long
// string of a's) instead of V8's backtracking RegExp. RE2 has no backreferences or lookaround; a
// pattern using them does not compile and the function returns Undefined. The only file that
// imports re2js.
import { RE2JS } from 're2js';

// Patterns come from rule text, so there are few distinct ones; the cap keeps a rule that builds
// patterns from payload data from growing memory without bound.
const CACHE_MAX = 256;
const cache = new Map<string, RE2JS | null>();

function compiled(pattern: string): RE2JS | undefined {
  let re = cache.get(pattern);
  if (re === undefined) {
    try {
      re = RE2JS.compile(pattern);
    } catch {
      re = null; // a syntax error (or a construct RE2 refuses): Undefined, as for a bad pattern
    }
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(pattern, re);
  }
  return re ?? undefined;
}

/** Whether `s` contains a match of `pattern`; undefined for an invalid pattern. */
export function regexTest(s: string, pattern: string): boolean | undefined {
  return compiled(pattern)?.matcher(s).find();
}

/** `s` with every match replaced (`$1` names a group, as in JavaScript); undefined for an invalid pattern. */
export function regexReplaceAll(s: string, pattern: string, replacement: string): string | undefined {
  return compiled(pattern)?.matcher(s).replaceAll(replacement);
}

/** The first match in `s`; undefined when there is none or the pattern is invalid. */
export function regexFirstMatch(s: string, pattern: string): string | undefined {
  const m = compiled(pattern)?.matcher(s);
  if (!m || !m.find()) return undefined;
  return m.group() ?? undefined;
}
