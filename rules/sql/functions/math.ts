// Numeric functions (spec §1.8). Arguments follow the implicit conversions of §1.5: numeric
// strings are accepted, anything else gives Undefined.
import type { FunctionTable, SqlFunction } from './registry.js';
import { toInt, toNumber, type Value } from '../values.js';

function num(v: Value): number | undefined {
  const n = toNumber(v);
  return typeof n === 'number' ? n : undefined;
}

/** A one-argument double-precision function; non-finite results (imaginary, overflow) are Undefined. */
function unaryDouble(f: (x: number) => number): SqlFunction {
  return {
    min: 1, max: 1,
    call([a]) {
      const x = num(a);
      if (x === undefined) return undefined;
      const r = f(x);
      return Number.isFinite(r) ? r : undefined;
    },
  };
}

function binaryInt(f: (a: number, b: number) => number): SqlFunction {
  return {
    min: 2, max: 2,
    call([a, b]) {
      const x = toIntDown(a);
      const y = toIntDown(b);
      return x === undefined || y === undefined ? undefined : f(x, y);
    },
  };
}

/** Bit functions round decimals and strings down (spec: "rounded down"). */
function toIntDown(v: Value): number | undefined {
  const n = num(v);
  return n === undefined ? undefined : Math.trunc(n);
}

const remainder: SqlFunction = {
  min: 2, max: 2,
  call([a, b]) {
    const x = num(a);
    const y = num(b);
    if (x === undefined || y === undefined || y === 0) return undefined;
    return x % y;
  },
};

/** Java's Math.round rounds halves up; the docs' examples (-1.5 -> -2) round halves away from zero. */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

export const mathFunctions: FunctionTable = {
  abs: { min: 1, max: 1, call: ([a]) => { const x = num(a); return x === undefined ? undefined : Math.abs(x); } },
  ceil: { min: 1, max: 1, call: ([a]) => { const x = num(a); return x === undefined ? undefined : Math.ceil(x); } },
  floor: { min: 1, max: 1, call: ([a]) => { const x = num(a); return x === undefined ? undefined : Math.floor(x); } },
  round: { min: 1, max: 1, call: ([a]) => { const x = num(a); return x === undefined ? undefined : roundHalfAway(x); } },
  sign: { min: 1, max: 1, call: ([a]) => { const x = num(a); return x === undefined ? undefined : Math.sign(x) + 0; } },
  trunc: {
    min: 2, max: 2,
    call([a, d]) {
      const x = num(a);
      const digits = toInt(d);
      if (x === undefined || typeof digits !== 'number') return undefined;
      const p = 10 ** Math.min(34, Math.max(0, digits));
      return Math.trunc(x * p) / p;
    },
  },
  mod: remainder,
  remainder,
  power: {
    min: 2, max: 2,
    call([a, b]) {
      const x = num(a);
      const y = num(b);
      if (x === undefined || y === undefined) return undefined;
      const r = x ** y;
      return Number.isFinite(r) ? r : undefined;
    },
  },
  sqrt: unaryDouble(Math.sqrt),
  exp: unaryDouble(Math.exp),
  ln: unaryDouble(Math.log),
  log: unaryDouble(Math.log10),
  sin: unaryDouble(Math.sin),
  cos: unaryDouble(Math.cos),
  tan: unaryDouble(Math.tan),
  asin: unaryDouble(Math.asin),
  acos: unaryDouble(Math.acos),
  atan: unaryDouble(Math.atan),
  sinh: unaryDouble(Math.sinh),
  cosh: unaryDouble(Math.cosh),
  tanh: unaryDouble(Math.tanh),
  atan2: {
    min: 2, max: 2,
    call([y, x]) {
      const a = num(y);
      const b = num(x);
      return a === undefined || b === undefined ? undefined : Math.atan2(a, b);
    },
  },
  bitand: binaryInt((a, b) => a & b),
  bitor: binaryInt((a, b) => a | b),
  bitxor: binaryInt((a, b) => a ^ b),
  bitnot: { min: 1, max: 1, call: ([a]) => { const x = toIntDown(a); return x === undefined ? undefined : ~x; } },
  rand: { min: 0, max: 0, impure: true, call: () => Math.random() },
  nanvl: {
    min: 2, max: 2, takesUndefined: true,
    call: ([a, b]) => (a === undefined || a === null || (typeof a === 'number' && Number.isNaN(a)) ? b : a),
  },
};
