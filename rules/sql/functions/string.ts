// String functions (spec §1.8): arguments are taken in their standard string form, so
// `lower(["HELLO"])` lowers the JSON text and `length(false)` is 5.
import { VARIADIC, type FunctionTable, type SqlFunction } from './registry.js';
import { toNumber, toStr, type Value } from '../values.js';
import { regexFirstMatch, regexReplaceAll, regexTest } from './regex.js';

function str1(f: (s: string) => Value): SqlFunction {
  return { min: 1, max: 1, call: ([a]) => { const s = toStr(a); return s === undefined ? undefined : f(s); } };
}

/** Counts and positions round decimals down and accept numeric strings. */
function intDown(v: Value): number | undefined {
  const n = toNumber(v);
  return typeof n === 'number' ? Math.trunc(n) : undefined;
}

function pad(left: boolean): SqlFunction {
  return {
    min: 2, max: 2,
    call([a, n]) {
      const s = toStr(a);
      const count = intDown(n);
      if (s === undefined || count === undefined) return undefined;
      const spaces = ' '.repeat(Math.min(1000, Math.max(0, count)));
      return left ? spaces + s : s + spaces;
    },
  };
}

function concat(args: Value[]): Value {
  if (args.length === 0) return undefined;
  if (args.length === 1) return args[0];
  if (args.some(Array.isArray)) {
    const out: Value[] = [];
    for (const a of args) if (Array.isArray(a)) out.push(...a); else out.push(a);
    return out;
  }
  let s = '';
  for (const a of args) {
    const part = toStr(a);
    if (part === undefined) return undefined;
    s += part;
  }
  return s;
}

export const stringFunctions: FunctionTable = {
  upper: str1((s) => s.toUpperCase()),
  lower: str1((s) => s.toLowerCase()),
  length: { ...str1((s) => [...s].length), v2: true },
  numbytes: { ...str1((s) => Buffer.byteLength(s, 'utf8')), v2: true },
  ltrim: str1((s) => s.replace(/^[ \t]+/, '')),
  rtrim: str1((s) => s.replace(/[ \t]+$/, '')),
  trim: str1((s) => s.replace(/^[ \t]+|[ \t]+$/g, '')),
  lpad: pad(true),
  rpad: pad(false),
  concat: { min: 0, max: VARIADIC, call: concat },
  substring: {
    min: 2, max: 3,
    call([a, b, c]) {
      const s = toStr(a);
      const start = intDown(b);
      if (s === undefined || start === undefined) return undefined;
      const end = c === undefined ? s.length : intDown(c);
      if (end === undefined) return undefined;
      const from = Math.min(Math.max(0, start), s.length);
      const to = Math.min(Math.max(0, end), s.length);
      return from >= to ? '' : s.slice(from, to);
    },
  },
  replace: {
    min: 3, max: 3,
    call([a, b, c]) {
      const [s, from, to] = [toStr(a), toStr(b), toStr(c)];
      if (s === undefined || from === undefined || to === undefined) return undefined;
      return from === '' ? s : s.split(from).join(to);
    },
  },
  indexof: {
    min: 2, max: 2, v2: true,
    call([a, b]) {
      const [s, sub] = [toStr(a), toStr(b)];
      return s === undefined || sub === undefined ? undefined : s.indexOf(sub);
    },
  },
  startswith: {
    min: 2, max: 2,
    call([a, b]) {
      const [s, p] = [toStr(a), toStr(b)];
      return s === undefined || p === undefined ? undefined : s.startsWith(p);
    },
  },
  endswith: {
    min: 2, max: 2,
    call([a, b]) {
      const [s, p] = [toStr(a), toStr(b)];
      return s === undefined || p === undefined ? undefined : s.endsWith(p);
    },
  },
  chr: {
    min: 1, max: 1,
    call([a]) {
      const n = intDown(a);
      return n === undefined || n < 0 || n > 127 ? undefined : String.fromCharCode(n);
    },
  },
  regexp_matches: {
    min: 2, max: 2,
    call([a, b]) {
      const [s, p] = [toStr(a), toStr(b)];
      return s === undefined || p === undefined ? undefined : regexTest(s, p);
    },
  },
  regexp_replace: {
    min: 3, max: 3,
    call([a, b, c]) {
      const [s, p, r] = [toStr(a), toStr(b), toStr(c)];
      return s === undefined || p === undefined || r === undefined ? undefined : regexReplaceAll(s, p, r);
    },
  },
  regexp_substr: {
    min: 2, max: 2,
    call([a, b]) {
      const [s, p] = [toStr(a), toStr(b)];
      return s === undefined || p === undefined ? undefined : regexFirstMatch(s, p);
    },
  },
};

