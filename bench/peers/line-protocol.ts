// InfluxDB line protocol for benchmark rows: `measurement,tag=v field=1.5,n=3i,s="x" time`.
// Numbers of a DOUBLE column are written without the `i` suffix so InfluxDB stores floats, as
// DuckDB stores DOUBLE; a BIGINT column gets `i`. NULLs and non-finite numbers are left out (line
// protocol has no NULL), so a point carries the fields its row has.
import type { Column } from '../../analytics/datastore/schema.js';

export type FieldKind = 'float' | 'integer' | 'boolean' | 'string';

export interface LineShape {
  measurement: string;
  /** columns written as tags (the series key), e.g. the device id */
  tags: { name: string; index: number }[];
  fields: { name: string; index: number; kind: FieldKind }[];
  /** the column holding the point's time, in the precision the write names */
  timeIndex: number;
}

/**
 * The shape of a table's rows as points: `tagColumns` become tags, `timeColumn` the time, every
 * other column a field by its type (TIMESTAMP and unknown types are left out).
 */
export function lineShape(measurement: string, columns: readonly Column[], tagColumns: readonly string[], timeColumn: string): LineShape {
  const tags: LineShape['tags'] = [];
  const fields: LineShape['fields'] = [];
  let timeIndex = -1;
  columns.forEach((c, index) => {
    if (c.name === timeColumn) timeIndex = index;
    else if (tagColumns.includes(c.name)) tags.push({ name: escapeKey(c.name), index });
    else {
      const kind = fieldKind(c);
      if (kind) fields.push({ name: escapeKey(c.name), index, kind });
    }
  });
  if (timeIndex < 0) throw new Error(`no time column ${timeColumn}`);
  // tags sorted by key: what InfluxDB recommends, it then skips sorting them per point
  tags.sort((a, b) => (a.name < b.name ? -1 : 1));
  return { measurement: escapeKey(measurement), tags, fields, timeIndex };
}

/** One point per row; `time` (digits) overrides the row's time column (e.g. to make times unique). */
export function toLine(shape: LineShape, row: readonly unknown[], time?: number | bigint | string): string {
  let line = shape.measurement;
  for (const t of shape.tags) {
    const v = row[t.index];
    if (v !== null && v !== undefined && v !== '') line += `,${t.name}=${escapeKey(String(v))}`;
  }
  let sep = ' ';
  for (const f of shape.fields) {
    const text = fieldValue(row[f.index], f.kind);
    if (text === null) continue;
    line += `${sep}${f.name}=${text}`;
    sep = ',';
  }
  return `${line} ${time ?? Number(row[shape.timeIndex])}`;
}

function fieldKind(c: Column): FieldKind | null {
  switch (c.type) {
    case 'DOUBLE':
      return 'float';
    case 'BIGINT':
      return 'integer';
    case 'BOOLEAN':
      return 'boolean';
    case 'VARCHAR':
    case 'JSON':
      return 'string';
    default:
      return null;
  }
}

function fieldValue(v: unknown, kind: FieldKind): string | null {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'float':
      return typeof v === 'number' && Number.isFinite(v) ? String(v) : null;
    case 'integer':
      return typeof v === 'number' || typeof v === 'bigint' ? `${v}i` : null;
    case 'boolean':
      return typeof v === 'boolean' ? String(v) : null;
    case 'string': {
      const s = typeof v === 'string' ? v : JSON.stringify(v);
      return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    }
  }
}

/** Measurement names, tag keys and values, field keys: commas, equals signs and spaces escaped. */
function escapeKey(s: string): string {
  return s.replace(/[,= ]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
}
