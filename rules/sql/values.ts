// Values flowing through compiled expressions, and the AWS IoT SQL conversion rules (spec §1.5).
//
// Representation (chosen so parsed JSON is used as is, without wrapping):
//   Undefined -> JS `undefined` (absence; omitted from output objects)
//   Null -> null, Boolean -> boolean, String -> string, Array -> array, Object -> plain object
//   Int / Decimal -> number: an integer-valued number is an Int, anything else a Decimal.
//     This is exactly SQL 2016-03-23 ("whole-number decimals are processed as Int").
//   a whole-number Decimal under SQL 2015-10-08 (`10.0`) -> WholeDecimal, which keeps its
//     Decimal type through arithmetic and serializes as `10.0`. Never created for 2016-03-23.
//   raw payload bytes (`*` on a non-JSON payload) -> Buffer

/** A Decimal whose value is a whole number, under SQL 2015-10-08 only. */
export class WholeDecimal {
  constructor(readonly value: number) {}
  /** Serialized as a marked string that toJson() turns back into `10.0` (see WHOLE_MARK). */
  toJSON(): string {
    return WHOLE_MARK + wholeDecimalText(this.value);
  }
}

export type Value = undefined | null | boolean | number | string | Buffer | WholeDecimal | Value[] | { [k: string]: Value };
export type Obj = { [k: string]: Value };

export function isObject(v: Value): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof WholeDecimal);
}

export function isInt(v: Value): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

const DECIMAL_TEXT = /^-?\d+(\.\d+)?([eE]-?\d+)?$/;

/** Implicit conversion to a number (Int or Decimal); Null stays Null. */
export function toNumber(v: Value): number | null | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') return DECIMAL_TEXT.test(v) ? Number(v) : undefined;
  if (v instanceof WholeDecimal) return v.value;
  if (v === null) return null;
  return undefined;
}

/** Implicit conversion to Int: decimals round to nearest, strings parse then truncate. */
export function toInt(v: Value): number | null | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.round(v) : undefined;
  if (typeof v === 'string') return DECIMAL_TEXT.test(v) ? Math.trunc(Number(v)) : undefined;
  if (v instanceof WholeDecimal) return v.value;
  if (v === null) return null;
  return undefined;
}

export function toBool(v: Value): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const l = v.toLowerCase();
    if (l === 'true') return true;
    if (l === 'false') return false;
  }
  return undefined;
}

/** Standard string conversion; Null and Undefined have none. */
export function toStr(v: Value): string | undefined {
  switch (typeof v) {
    case 'string': return v;
    case 'number': return numberText(v);
    case 'boolean': return v ? 'true' : 'false';
    case 'undefined': return undefined;
  }
  if (v === null) return undefined;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (v instanceof WholeDecimal) return wholeDecimalText(v.value);
  return toJson(v);
}

function numberText(n: number): string {
  return String(n);
}

function wholeDecimalText(n: number): string {
  const s = String(n);
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

/** True for a Decimal operand: a non-whole number, a whole Decimal of SQL 2015, or a numeric
 * string (strings convert to Decimal). */
export function isDecimalOperand(v: Value): boolean {
  return (typeof v === 'number' && !Number.isInteger(v)) || v instanceof WholeDecimal || typeof v === 'string';
}

/** A Decimal result: under SQL 2015-10-08 a whole value stays Decimal; 2016-03-23 makes it Int. */
export function decimalResult(n: number, keepWholeDecimals: boolean): Value {
  return keepWholeDecimals && Number.isInteger(n) ? new WholeDecimal(n) : n;
}

/** Equality per spec §1.6: Undefined on either side -> Undefined, mismatched types -> false. */
export function sqlEquals(a: Value, b: Value): boolean | undefined {
  if (a === undefined || b === undefined) return undefined;
  return deepEqual(a, b);
}

function deepEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a instanceof WholeDecimal || b instanceof WholeDecimal) {
    const x = typeof a === 'number' || a instanceof WholeDecimal ? toNumber(a) : undefined;
    const y = typeof b === 'number' || b instanceof WholeDecimal ? toNumber(b) : undefined;
    return x !== undefined && x === y;
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!(k in b) || !deepEqual(a[k], b[k])) return false;
  return true;
}

// JSON.stringify cannot write `10.0` (Node 20 has no JSON.rawJSON): whole decimals are written
// as a marked string first and the marks replaced afterwards. The random mark cannot be forged
// by payload text.
const WHOLE_MARK = `\u0000wd${Math.random().toString(36).slice(2)}:`;
const WHOLE_MARK_JSON = new RegExp(`"${JSON.stringify(WHOLE_MARK).slice(1, -1).replace(/\\/g, '\\\\')}([^"]*)"`, 'g');

const WHOLE_MARK_IN_JSON = JSON.stringify(WHOLE_MARK).slice(1, -1);
const SERIALIZED_BUFFER = '"type":"Buffer","data":[';

/** JSON text of a value; Undefined keys are dropped by JSON.stringify, raw bytes become text.
 * Runs JSON.stringify without a replacer (a replacer call per key costs more than the rest of a
 * rule run); WholeDecimal marks itself through toJSON, and the rare nested Buffer is detected in
 * the text and redone with a replacer. */
export function toJson(v: Value): string {
  let text = JSON.stringify(v);
  if (text !== undefined && text.includes(SERIALIZED_BUFFER)) {
    text = JSON.stringify(v, (_k, x: unknown) => (isSerializedBuffer(x) ? Buffer.from(x.data).toString('utf8') : x));
  }
  return text !== undefined && text.includes(WHOLE_MARK_IN_JSON) ? text.replace(WHOLE_MARK_JSON, '$1') : text;
}

function isSerializedBuffer(x: unknown): x is { type: 'Buffer'; data: number[] } {
  return typeof x === 'object' && x !== null && (x as { type?: unknown }).type === 'Buffer' && Array.isArray((x as { data?: unknown }).data);
}

/** `v` itself when it is an object that its JSON text (toJson) parses back to unchanged, else
 * undefined: lets whoever receives the text skip parsing it again. Not when anything inside would
 * change on the way (an Undefined member or element, raw bytes, a 2015 whole Decimal, -0, a
 * non-finite number, an array hole), nor past MAX_EXACT_DEPTH levels, where parsing is left to do. */
export function asExactJsonObject(v: Value): Obj | undefined {
  return isObject(v) && isExactJson(v, 0) ? v : undefined;
}

const MAX_EXACT_DEPTH = 32;

function isExactJson(v: Value, depth: number): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object': {
      if (v === null) return true;
      if (depth >= MAX_EXACT_DEPTH || Buffer.isBuffer(v) || v instanceof WholeDecimal) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!(i in v) || !isExactJson(v[i], depth + 1)) return false;
        return true;
      }
      for (const k in v) if (!isExactJson(v[k], depth + 1)) return false;
      return true;
    }
    default:
      return false; // undefined
  }
}

/** The outgoing payload bytes of a rule: raw bytes unchanged, a bare Undefined as empty. */
export function serializeOutput(v: Value): Buffer {
  if (v === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(v)) return v;
  return Buffer.from(toJson(v), 'utf8');
}

/** Member access `a.b`: only objects have attributes; anything else gives Undefined. */
export function member(v: Value, key: string): Value {
  if (isObject(v) && Object.prototype.hasOwnProperty.call(v, key)) return v[key];
  return undefined;
}

/** Sets an own data property; a key named `__proto__` (legal in JSON) never changes a prototype. */
export function setKey(o: Obj, key: string, v: Value): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value: v, enumerable: true, writable: true, configurable: true });
  else o[key] = v;
}

const TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
const DECIMAL_KEY = `\u0000wd${Math.random().toString(36).slice(2)}`;

/** JSON.parse for SQL 2015-10-08: numbers written as decimals with a whole value (`10.0`, `1E3`)
 * become WholeDecimal. Returns undefined when the text has none, so the caller can share the
 * ordinary parse. Throws like JSON.parse on invalid JSON. */
export function parseJsonKeepingWholeDecimals(text: string): Value | undefined {
  let found = false;
  const marked = text.replace(TOKEN, (tok) => {
    if (tok.charCodeAt(0) === 34 /* " */ || !/[.eE]/.test(tok) || !Number.isInteger(Number(tok))) return tok;
    found = true;
    return `{${JSON.stringify(DECIMAL_KEY)}:${tok}}`;
  });
  if (!found) return undefined;
  return JSON.parse(marked, (_k, v: unknown) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === DECIMAL_KEY) return new WholeDecimal((v as Record<string, number>)[DECIMAL_KEY]!);
    }
    return v;
  }) as Value;
}
