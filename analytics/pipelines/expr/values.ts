// Value semantics shared by the filter and math languages, following the AWS IoT rules SQL type
// table that the IoT Analytics math pages copy (spec §3.3):
// * numbers are JS doubles. Int vs Decimal is not tracked separately: a whole-valued number is an
//   Int (IoT SQL 2016-03-23 also treats 10.0 as Int 10), so `mod(8, 3)` is 2 and `20.0` is
//   emitted as 20.
// * a String converts to a number only when it matches ^-?\d+(\.\d+)?(E-?\d+)?$ (case-insensitive
//   E); any other value (Boolean, Array, Object, Null, Undefined) is not a number → Undefined.
// * Undefined is the JS `undefined`; every operator and function propagates it.

const NUMERIC_STRING = /^-?\d+(\.\d+)?([eE]-?\d+)?$/;

/** The numeric value of `v`, or undefined when it has none (also for NaN/±Infinity). */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && NUMERIC_STRING.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Boolean operand of AND/OR/NOT: a Boolean, or the strings "true"/"false" (any case). */
export function toBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const l = v.toLowerCase();
    if (l === 'true') return true;
    if (l === 'false') return false;
  }
  return undefined;
}

/** A finite number stays; NaN/±Infinity (e.g. sqrt(-1), ln(0)) become Undefined. -0 becomes 0. */
export function finite(n: number): number | undefined {
  if (!Number.isFinite(n)) return undefined;
  return n === 0 ? 0 : n;
}

type Kind = 'number' | 'string' | 'boolean' | 'null' | 'array' | 'object';

function kindOf(v: unknown): Kind | undefined {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'object':
      return 'object';
    default:
      return undefined;
  }
}

/**
 * SQL `=`: same-type values compare by value (numbers numerically, arrays item by item in order,
 * objects key by key ignoring key order); mismatched types are unequal (`5 = '5'` is false);
 * Undefined on either side → Undefined.
 */
export function sqlEquals(a: unknown, b: unknown): boolean | undefined {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === undefined || kb === undefined) return undefined;
  return deepEqual(a, b, ka, kb);
}

function deepEqual(a: unknown, b: unknown, ka: Kind | undefined, kb: Kind | undefined): boolean {
  if (ka !== kb) return false;
  if (ka === 'array') {
    const x = a as unknown[];
    const y = b as unknown[];
    return x.length === y.length && x.every((v, i) => deepEqual(v, y[i], kindOf(v), kindOf(y[i])));
  }
  if (ka === 'object') {
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    const keys = Object.keys(x);
    if (keys.length !== Object.keys(y).length) return false;
    return keys.every((k) => Object.prototype.hasOwnProperty.call(y, k) && deepEqual(x[k], y[k], kindOf(x[k]), kindOf(y[k])));
  }
  return a === b;
}
