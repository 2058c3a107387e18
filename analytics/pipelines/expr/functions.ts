// The math functions of IoT Analytics (spec §3.3), shared by the math and filter languages.
// Every argument goes through toNumber(): non-numeric arguments make the result Undefined; a
// result that is not a finite number (acos(2), ln(0), sqrt(-1)) is Undefined as well.
import { finite, toNumber } from './values.js';

type NumFn = (...args: number[]) => number | undefined;

/** round(): half away from zero — the documented examples (round(-1.5) = -2) win over the table text. */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/**
 * trunc(x, places): drops digits after `places` decimals without rounding; places is clamped to
 * 0..34 (decimal places are rounded down first). Works on the shortest decimal text of x so that
 * trunc(2.3123, 2) is exactly 2.31 (no binary artefacts); trailing zeros vanish in a number anyway.
 */
function truncPlaces(x: number, places: number): number {
  const p = Math.min(34, Math.max(0, Math.floor(places)));
  const text = String(x);
  if (/e/i.test(text)) {
    const f = 10 ** p;
    return Math.trunc(x * f) / f;
  }
  const dot = text.indexOf('.');
  if (dot < 0) return x;
  return Number(p === 0 ? text.slice(0, dot) : text.slice(0, dot + 1 + p));
}

export const FUNCTIONS: Record<string, { arity: number; fn: NumFn }> = {
  abs: { arity: 1, fn: Math.abs },
  acos: { arity: 1, fn: Math.acos },
  asin: { arity: 1, fn: Math.asin },
  atan: { arity: 1, fn: Math.atan },
  // atan2(a, b) is the angle of the point (x = b, y = a): atan2(1, 0) = π/2 as documented.
  atan2: { arity: 2, fn: Math.atan2 },
  ceil: { arity: 1, fn: Math.ceil },
  cos: { arity: 1, fn: Math.cos },
  cosh: { arity: 1, fn: Math.cosh },
  exp: { arity: 1, fn: Math.exp },
  // floor is not on the IoT Analytics list but is in the IoT SQL family the list comes from.
  floor: { arity: 1, fn: Math.floor },
  ln: { arity: 1, fn: Math.log },
  log: { arity: 1, fn: Math.log10 },
  // mod keeps the sign of the dividend (JVM remainder, as IoT SQL); mod(x, 0) is Undefined.
  mod: { arity: 2, fn: (a, b) => (b === 0 ? undefined : a % b) },
  power: { arity: 2, fn: Math.pow },
  round: { arity: 1, fn: roundHalfAway },
  sign: { arity: 1, fn: Math.sign },
  sin: { arity: 1, fn: Math.sin },
  sinh: { arity: 1, fn: Math.sinh },
  sqrt: { arity: 1, fn: Math.sqrt },
  tan: { arity: 1, fn: Math.tan },
  tanh: { arity: 1, fn: Math.tanh },
  trunc: { arity: 2, fn: truncPlaces },
};

/** Applies a numeric function to already-evaluated arguments with the Undefined rules above. */
export function applyFunction(fn: NumFn, args: unknown[]): number | undefined {
  const nums: number[] = new Array(args.length);
  for (let i = 0; i < args.length; i++) {
    const n = toNumber(args[i]);
    if (n === undefined) return undefined;
    nums[i] = n;
  }
  const r = fn(...nums);
  return r === undefined ? undefined : finite(r);
}
