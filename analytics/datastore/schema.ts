// A datastore table's columns, how a message attribute maps onto them, and how a value is made to
// fit its column. Pure: no DuckDB here, so the rules are unit-testable and duckdb.ts only has to
// append already-converted values.
//
// Type decisions (why):
// - Every JSON number becomes DOUBLE, integers included. A payload number has already been parsed
//   into a JS double, so DOUBLE holds every value exactly; choosing BIGINT for a first integer
//   value would turn the next `21.5` into a mismatch (NULL) — silent loss we refuse.
// - strings → VARCHAR, booleans → BOOLEAN, objects and arrays → JSON (kept as JSON text, parsed
//   back by the query layer).
// - A null/undefined value creates no column (its type cannot be known); it is stored as NULL.
// - Attribute names are case-insensitive (AWS IoT Analytics, and DuckDB identifiers too): the first
//   spelling seen names the column, later spellings land in it.
// - A Parquet datastore with a `schemaDefinition` has a fixed table: exactly the declared typed
//   columns (glue-types.ts) after `__dt`; attributes not in the schema are dropped and counted
//   (writer's droppedAttributes), never added as columns.

import type { TypeNode } from './glue-types.js';
import { convertTyped, NO_FIT, sqlOfType } from './glue-types.js';

export const DT_COLUMN = '__dt';

/**
 * Column types we create or understand. `OTHER` is anything else found in an existing table; a
 * TypeNode is a column declared by a Parquet schemaDefinition.
 */
export type ColumnType = 'TIMESTAMP' | 'DOUBLE' | 'BIGINT' | 'VARCHAR' | 'BOOLEAN' | 'JSON' | 'OTHER' | TypeNode;

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
}

/** Marker returned by `convertForColumn` when a value does not fit its column without loss. */
export const MISMATCH: unique symbol = Symbol('type-mismatch');

/** Double-quote an identifier for DuckDB, doubling embedded quotes. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The DuckDB type name used in DDL for a column type we create. */
export function sqlTypeOf(type: ColumnType): string {
  if (type === 'OTHER') throw new Error('OTHER columns are never created');
  return typeof type === 'object' ? sqlOfType(type) : type;
}

/** Map a DuckDB `information_schema.columns.data_type` back to our column type. */
export function columnTypeFromSql(dataType: string): ColumnType {
  switch (dataType.toUpperCase()) {
    case 'TIMESTAMP':
    case 'DOUBLE':
    case 'BIGINT':
    case 'VARCHAR':
    case 'BOOLEAN':
    case 'JSON':
      return dataType.toUpperCase() as ColumnType;
    default:
      return 'OTHER';
  }
}

/** The column type a new attribute gets from its first non-null value; undefined for null. */
export function inferColumnType(value: unknown): ColumnType | undefined {
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return 'DOUBLE';
    case 'string':
      return 'VARCHAR';
    case 'boolean':
      return 'BOOLEAN';
    case 'object':
      return value === null ? undefined : 'JSON';
    default:
      return undefined; // undefined, functions, symbols: nothing to store
  }
}

/** Why an attribute is not stored even though it is present. */
function unusableName(name: string): boolean {
  // DuckDB refuses zero-length identifiers; NUL would truncate the identifier in the C API.
  return name.length === 0 || name.length > 255 || name.includes('\u0000');
}

/**
 * Convert a value for a column of the given type. Returns the value in the form duckdb.ts appends
 * (number, bigint, string, boolean; JSON as its text), `null` for SQL NULL, or MISMATCH when it
 * cannot be stored without losing information.
 */
export function convertForColumn(value: unknown, type: ColumnType): unknown {
  if (value === null || value === undefined) return null;
  if (typeof type === 'object') {
    const converted = convertTyped(value, type);
    return converted === NO_FIT ? MISMATCH : converted;
  }
  switch (type) {
    case 'DOUBLE':
      if (typeof value === 'number') return value;
      if (typeof value === 'bigint') {
        const n = Number(value);
        return BigInt(n) === value ? n : MISMATCH;
      }
      return MISMATCH;
    case 'BIGINT':
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
      return MISMATCH;
    case 'BOOLEAN':
      return typeof value === 'boolean' ? value : MISMATCH;
    case 'VARCHAR':
      // Text holds any scalar losslessly (String(number) round-trips), objects as their JSON text.
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
        return String(value);
      }
      if (typeof value === 'object') return stringifyJson(value);
      return MISMATCH;
    case 'JSON':
      if (typeof value === 'number' && !Number.isFinite(value)) return MISMATCH; // JSON has no NaN
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'object' || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        return stringifyJson(value);
      }
      return MISMATCH;
    case 'TIMESTAMP':
      // Only __dt is a TIMESTAMP; epoch milliseconds.
      return typeof value === 'number' && Number.isFinite(value) ? value : MISMATCH;
    default:
      return MISMATCH;
  }
}

function stringifyJson(value: unknown): string | typeof MISMATCH {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? MISMATCH : text;
  } catch {
    return MISMATCH; // cycles, bigint inside objects
  }
}

/**
 * The ordered column list of one table, with a case-insensitive index. Columns are only ever
 * appended (DuckDB ALTER TABLE ADD COLUMN puts them last), so a column's position never changes.
 */
export class TableSchema {
  private readonly cols: Column[] = [];
  private readonly byKey = new Map<string, number>();

  /** `fixed`: the columns are a declared schema; plan() never adds one. */
  constructor(columns: readonly Column[], private readonly maxColumns = 1000, readonly fixed = false) {
    for (const c of columns) this.add(c);
  }

  get columns(): readonly Column[] {
    return this.cols;
  }

  /** Position of the column an attribute name lands in, or -1. */
  indexOf(attribute: string): number {
    return this.byKey.get(attribute.toLowerCase()) ?? -1;
  }

  add(column: Column): void {
    const key = column.name.toLowerCase();
    if (this.byKey.has(key)) return;
    this.byKey.set(key, this.cols.length);
    this.cols.push(column);
  }

  /**
   * Columns to add for these rows: the first spelling and the first non-null value decide name and
   * type. Does not modify the schema (the caller adds the columns once DuckDB accepted the ALTER).
   * Attributes that get no column (unusable name, over the column cap) are left out here and
   * counted by the writer when it converts the row.
   */
  plan(rows: readonly Record<string, unknown>[]): Column[] {
    const additions: Column[] = [];
    if (this.fixed) return additions;
    const planned = new Set<string>();
    for (const row of rows) {
      for (const name in row) {
        const value = row[name];
        if (value === undefined || value === null) continue; // no type to learn yet
        const key = name.toLowerCase();
        if (this.byKey.has(key) || planned.has(key) || unusableName(name)) continue;
        const type = inferColumnType(value);
        if (type === undefined) continue;
        if (this.cols.length + additions.length >= this.maxColumns) continue;
        planned.add(key);
        additions.push({ name, type });
      }
    }
    return additions;
  }
}
