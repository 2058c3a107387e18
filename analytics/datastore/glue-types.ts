// The column types a Parquet datastore's `schemaDefinition` may name (AWS Glue / Athena / Hive type
// strings such as `int`, `array<string>`, `struct<a:double,b:string>`), parsed once at
// CreateDatastore into a tree, the DuckDB type it becomes, and how a message value is made to fit
// it. Pure: no DuckDB here (duckdb.ts builds its own type objects from the tree).
//
// Decisions (why):
// - Unknown or unsupported type names are refused at create time (InvalidRequestException), never
//   silently stored as text: the schema is the contract readers of the Parquet export rely on.
// - `decimal` alone means DECIMAL(38,18); `decimal(p,s)` is refused, as AWS refuses a DECIMAL
//   with an explicit precision (spec §4.1).
// - Values are converted strictly: an int column takes integral numbers only, a timestamp takes
//   epoch milliseconds or an ISO-8601 / `yyyy-MM-dd HH:mm:ss[.fff]` text (UTC unless it has an
//   offset). A value that does not fit is stored as NULL and counted as a type mismatch by the
//   writer, instead of failing the whole batch inside DuckDB.

import { invalidRequest } from '../errors.js';

export type ScalarKind =
  | 'VARCHAR'
  | 'TINYINT'
  | 'SMALLINT'
  | 'INTEGER'
  | 'BIGINT'
  | 'FLOAT'
  | 'DOUBLE'
  | 'BOOLEAN'
  | 'TIMESTAMP'
  | 'DATE'
  | 'DECIMAL';

export type TypeNode =
  | { readonly kind: ScalarKind }
  | { readonly kind: 'LIST'; readonly item: TypeNode }
  | { readonly kind: 'STRUCT'; readonly fields: readonly { readonly name: string; readonly type: TypeNode }[] }
  | { readonly kind: 'MAP'; readonly key: TypeNode; readonly value: TypeNode };

export const DECIMAL_WIDTH = 38;
export const DECIMAL_SCALE = 18;
const MAX_DEPTH = 100; // spec §6: nesting depth ≤ 100 per column

const SCALARS: Record<string, ScalarKind> = {
  string: 'VARCHAR',
  varchar: 'VARCHAR',
  char: 'VARCHAR',
  tinyint: 'TINYINT',
  smallint: 'SMALLINT',
  int: 'INTEGER',
  integer: 'INTEGER',
  bigint: 'BIGINT',
  float: 'FLOAT',
  real: 'FLOAT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  date: 'DATE',
  decimal: 'DECIMAL',
};

/** Parse a Glue/Athena type string; InvalidRequestException naming `where` when it is not one we store. */
export function parseGlueType(text: string, where: string): TypeNode {
  const p = new Parser(text, where);
  const node = p.type(1);
  p.end();
  return node;
}

class Parser {
  private i = 0;
  constructor(private readonly s: string, private readonly where: string) {}

  type(depth: number): TypeNode {
    if (depth > MAX_DEPTH) throw this.fail(`nesting deeper than ${MAX_DEPTH}`);
    const word = this.word().toLowerCase();
    switch (word) {
      case 'array': {
        this.expect('<');
        const item = this.type(depth + 1);
        this.expect('>');
        return { kind: 'LIST', item };
      }
      case 'map': {
        this.expect('<');
        const key = this.type(depth + 1);
        if (key.kind === 'LIST' || key.kind === 'STRUCT' || key.kind === 'MAP') throw this.fail('a map key must be a primitive type');
        this.expect(',');
        const value = this.type(depth + 1);
        this.expect('>');
        return { kind: 'MAP', key, value };
      }
      case 'struct': {
        this.expect('<');
        const fields: { name: string; type: TypeNode }[] = [];
        const seen = new Set<string>();
        do {
          const name = this.word();
          if (seen.has(name.toLowerCase())) throw this.fail(`struct field "${name}" appears twice`);
          seen.add(name.toLowerCase());
          this.expect(':');
          fields.push({ name, type: this.type(depth + 1) });
        } while (this.accept(','));
        this.expect('>');
        return { kind: 'STRUCT', fields };
      }
      default: {
        const kind = SCALARS[word];
        if (!kind) throw this.fail(`unknown type "${word}"; use string, tinyint, smallint, int, bigint, float, double, boolean, timestamp, date, decimal, array<…>, struct<…>, map<…>`);
        if (this.accept('(')) {
          if (kind === 'DECIMAL') throw this.fail('decimal with an explicit precision is not supported (as in AWS IoT Analytics); use decimal (38 digits, 18 after the point) or double');
          if (kind !== 'VARCHAR') throw this.fail(`${word} takes no parameters`);
          const n = this.word();
          if (!/^[1-9][0-9]{0,5}$/.test(n)) throw this.fail(`${word}(n) needs a length`);
          this.expect(')'); // varchar(n)/char(n): the length is not enforced, text is text
        }
        return { kind };
      }
    }
  }

  end(): void {
    this.skip();
    if (this.i < this.s.length) throw this.fail(`unexpected "${this.s.slice(this.i, this.i + 20)}"`);
  }

  private word(): string {
    this.skip();
    const m = /^[A-Za-z0-9_]+/.exec(this.s.slice(this.i));
    if (!m) throw this.fail(this.i >= this.s.length ? 'the type ends too early' : `unexpected "${this.s[this.i]}"`);
    this.i += m[0].length;
    return m[0];
  }

  private accept(ch: string): boolean {
    this.skip();
    if (this.s[this.i] !== ch) return false;
    this.i++;
    return true;
  }

  private expect(ch: string): void {
    if (!this.accept(ch)) throw this.fail(`expected "${ch}"`);
  }

  private skip(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  private fail(why: string) {
    return invalidRequest(`${this.where}: ${JSON.stringify(this.s.length > 200 ? `${this.s.slice(0, 200)}…` : this.s)} is not a supported type: ${why}`);
  }
}

/** The DuckDB DDL type of a tree. Struct field names are quoted. */
export function sqlOfType(node: TypeNode): string {
  switch (node.kind) {
    case 'LIST':
      return `${sqlOfType(node.item)}[]`;
    case 'STRUCT':
      return `STRUCT(${node.fields.map((f) => `"${f.name.replace(/"/g, '""')}" ${sqlOfType(f.type)}`).join(', ')})`;
    case 'MAP':
      return `MAP(${sqlOfType(node.key)}, ${sqlOfType(node.value)})`;
    case 'DECIMAL':
      return `DECIMAL(${DECIMAL_WIDTH},${DECIMAL_SCALE})`;
    default:
      return node.kind;
  }
}

/** Marker for a value that does not fit (same meaning as schema.ts's MISMATCH, kept local to avoid a cycle). */
export const NO_FIT: unique symbol = Symbol('no-fit');

const INT_RANGE: Partial<Record<ScalarKind, [number, number]>> = {
  TINYINT: [-128, 127],
  SMALLINT: [-32768, 32767],
  INTEGER: [-2147483648, 2147483647],
};

/**
 * Convert a message value for a typed column. Returns what duckdb.ts appends: string (VARCHAR,
 * DECIMAL as its text), number (integers up to INTEGER, FLOAT, DOUBLE, TIMESTAMP as epoch ms, DATE
 * as days since 1970-01-01), bigint (BIGINT), boolean, arrays (LIST), objects of the declared
 * fields (STRUCT), `{key, value}[]` (MAP); null for NULL; NO_FIT when it does not fit.
 */
export function convertTyped(value: unknown, node: TypeNode): unknown {
  if (value === null || value === undefined) return null;
  switch (node.kind) {
    case 'VARCHAR':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
      try {
        return JSON.stringify(value) ?? NO_FIT;
      } catch {
        return NO_FIT;
      }
    case 'TINYINT':
    case 'SMALLINT':
    case 'INTEGER': {
      const [lo, hi] = INT_RANGE[node.kind]!;
      const n = typeof value === 'bigint' ? Number(value) : value;
      return typeof n === 'number' && Number.isInteger(n) && n >= lo && n <= hi ? n : NO_FIT;
    }
    case 'BIGINT':
      if (typeof value === 'bigint') return value >= -(2n ** 63n) && value < 2n ** 63n ? value : NO_FIT;
      return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : NO_FIT;
    case 'FLOAT':
    case 'DOUBLE':
      if (typeof value === 'bigint') return Number(value);
      return typeof value === 'number' ? value : NO_FIT;
    case 'BOOLEAN':
      return typeof value === 'boolean' ? value : NO_FIT;
    case 'TIMESTAMP':
      return toEpochMs(value) ?? NO_FIT;
    case 'DATE': {
      const ms = /^\d{4}-\d{2}-\d{2}$/.test(String(value)) ? toEpochMs(`${String(value)}T00:00:00Z`) : toEpochMs(value);
      return ms === undefined ? NO_FIT : Math.floor(ms / 86_400_000);
    }
    case 'DECIMAL':
      return decimalText(value) ?? NO_FIT;
    case 'LIST': {
      if (!Array.isArray(value)) return NO_FIT;
      const out: unknown[] = [];
      for (const item of value) {
        const c = convertTyped(item, node.item);
        if (c === NO_FIT) return NO_FIT;
        out.push(c);
      }
      return out;
    }
    case 'STRUCT': {
      if (typeof value !== 'object' || Array.isArray(value)) return NO_FIT;
      const src = value as Record<string, unknown>;
      const lower = new Map(Object.keys(src).map((k) => [k.toLowerCase(), k]));
      const out: Record<string, unknown> = {};
      for (const f of node.fields) {
        const key = f.name in src ? f.name : lower.get(f.name.toLowerCase());
        const c = key === undefined ? null : convertTyped(src[key], f.type);
        if (c === NO_FIT) return NO_FIT;
        out[f.name] = c;
      }
      return out;
    }
    case 'MAP': {
      if (typeof value !== 'object' || Array.isArray(value)) return NO_FIT;
      const out: { key: unknown; value: unknown }[] = [];
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const key = convertTyped(mapKey(k, node.key), node.key);
        const val = convertTyped(v, node.value);
        if (key === NO_FIT || key === null || val === NO_FIT) return NO_FIT;
        out.push({ key, value: val });
      }
      return out;
    }
  }
}

/** JSON object keys are text; a numeric or boolean map key type reads them as such. */
function mapKey(k: string, node: TypeNode): unknown {
  switch (node.kind) {
    case 'VARCHAR':
    case 'TIMESTAMP':
    case 'DATE':
    case 'DECIMAL':
      return k;
    case 'BOOLEAN':
      return k === 'true' ? true : k === 'false' ? false : k;
    default:
      return /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(k) ? Number(k) : k;
  }
}

const MAX_INTEGER_DIGITS = DECIMAL_WIDTH - DECIMAL_SCALE;

/** Canonical decimal text with at most 18 fraction digits (truncated), or undefined. */
function decimalText(value: unknown): string | undefined {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || Math.abs(value) >= 10 ** MAX_INTEGER_DIGITS) return undefined;
    text = /e/i.test(String(value)) ? value.toFixed(DECIMAL_SCALE) : String(value);
  } else if (typeof value === 'bigint') {
    text = value.toString();
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    return undefined;
  }
  const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return undefined;
  const int = m[2].replace(/^0+(?=\d)/, '');
  if (int.length > MAX_INTEGER_DIGITS) return undefined;
  const frac = (m[3] ?? '').slice(0, DECIMAL_SCALE);
  return `${m[1] === '-' ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** A decimal text as the scaled integer DuckDB stores for DECIMAL(38,18). */
export function scaledDecimal(text: string): bigint {
  const neg = text.startsWith('-');
  const [int, frac = ''] = text.replace(/^[+-]/, '').split('.');
  const scaled = BigInt(int + frac.padEnd(DECIMAL_SCALE, '0'));
  return neg ? -scaled : scaled;
}

const MIN_MS = -62_135_596_800_000; // 0001-01-01T00:00:00Z, DuckDB's and Parquet readers' common range
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const TIMESTAMP_TEXT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Epoch milliseconds of a timestamp value: a number is epoch ms; text is ISO-8601-like, UTC unless it says otherwise. */
export function toEpochMs(value: unknown): number | undefined {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const m = TIMESTAMP_TEXT.exec(value.trim());
    if (!m) return undefined;
    const [, y, mo, d, h = '0', mi = '0', s = '0', f = '', zone] = m;
    ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(f.padEnd(3, '0').slice(0, 3)));
    const back = new Date(ms);
    // Date.UTC rolls 2024-02-31 over into March: refuse impossible dates instead
    if (back.getUTCMonth() !== Number(mo) - 1 || back.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
    if (zone && zone.toUpperCase() !== 'Z') {
      const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
      const offset = (Number(z[2]) * 60 + Number(z[3] ?? 0)) * 60_000;
      ms -= z[1] === '+' ? offset : -offset;
    }
  } else {
    return undefined;
  }
  return Number.isFinite(ms) && ms >= MIN_MS && ms <= MAX_MS ? Math.round(ms) : undefined;
}
