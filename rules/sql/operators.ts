// Operator semantics of spec §1.6, as plain functions over evaluated operands.
import { decimalResult, isDecimalOperand, sqlEquals, toBool, toNumber, toStr, WholeDecimal, type Value } from './values.js';

function isNumeric(v: Value): v is number | WholeDecimal {
  return typeof v === 'number' || v instanceof WholeDecimal;
}

/** `keepWholeDecimals` is true for SQL 2015-10-08, where 2.5 + 2.5 is the Decimal 5.0. */
export function plus(a: Value, b: Value, keepWholeDecimals = false): Value {
  if (a === undefined || b === undefined) return undefined;
  if (typeof a === 'string' || typeof b === 'string') {
    const l = toStr(a);
    const r = toStr(b);
    return l === undefined || r === undefined ? undefined : l + r;
  }
  if (typeof a === 'number' && typeof b === 'number' && !keepWholeDecimals) return a + b;
  if (isNumeric(a) && isNumeric(b)) {
    const sum = toNumber(a)! + toNumber(b)!;
    return isDecimalOperand(a) || isDecimalOperand(b) ? decimalResult(sum, keepWholeDecimals) : sum;
  }
  return undefined;
}

/** `- * / %`: strings are converted to numbers; Int op Int stays Int (division truncates). */
export function arith(op: '-' | '*' | '/' | '%', a: Value, b: Value, keepWholeDecimals = false): Value {
  const x = toNumber(a);
  const y = toNumber(b);
  if (typeof x !== 'number' || typeof y !== 'number') return undefined;
  const decimal = isDecimalOperand(a) || isDecimalOperand(b);
  let r: number;
  switch (op) {
    case '-': r = x - y; break;
    case '*': r = x * y; break;
    case '/':
      if (y === 0) return undefined;
      r = decimal ? x / y : Math.trunc(x / y);
      break;
    case '%':
      if (y === 0) return undefined;
      r = x % y;
      break;
  }
  return decimal ? decimalResult(r, keepWholeDecimals) : r;
}

export function compare(op: '<' | '<=' | '>' | '>=', a: Value, b: Value): Value {
  const x = toNumber(a);
  const y = toNumber(b);
  if (typeof x !== 'number' || typeof y !== 'number') return undefined;
  switch (op) {
    case '<': return x < y;
    case '<=': return x <= y;
    case '>': return x > y;
    case '>=': return x >= y;
  }
}

export function equals(a: Value, b: Value): Value {
  return sqlEquals(a, b);
}

export function notEquals(a: Value, b: Value): Value {
  const e = sqlEquals(a, b);
  return e === undefined ? undefined : !e;
}

export function and(a: Value, b: Value): Value {
  const x = toBool(a);
  const y = toBool(b);
  return x === undefined || y === undefined ? undefined : x && y;
}

export function or(a: Value, b: Value): Value {
  const x = toBool(a);
  const y = toBool(b);
  return x === undefined || y === undefined ? undefined : x || y;
}

export function not(a: Value): Value {
  const x = toBool(a);
  return x === undefined ? undefined : !x;
}

export function negate(a: Value): Value {
  if (a instanceof WholeDecimal) return new WholeDecimal(-a.value);
  const x = toNumber(a);
  return typeof x === 'number' ? -x : undefined;
}
