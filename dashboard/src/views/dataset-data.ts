// A dataset content (DatasetContentBody) as the datasets view shows it: cell text for the table and
// columnar series for the chart. Column types are DuckDB's names (TIMESTAMP, DOUBLE, DECIMAL(9,2),
// ...); values are JSON-safe as analytics/datastore/duckdb.ts writes them: timestamps as ISO text,
// BIGINTs beyond 2^53 and non-finite doubles as text. Pure, unit tested.

import type { DatasetContentBody } from '../../../broker/contract.js';

const NUMERIC_TYPES = new Set([
  'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT',
  'FLOAT', 'REAL', 'DOUBLE', 'INT', 'INT4', 'INT8', 'INT2', 'FLOAT4', 'FLOAT8',
]);

export function isTimeType(type: string): boolean {
  const t = type.trim().toUpperCase();
  return t.startsWith('TIMESTAMP') || t === 'DATE';
}

export function isNumericType(type: string): boolean {
  const t = type.trim().toUpperCase();
  return NUMERIC_TYPES.has(t) || t.startsWith('DECIMAL') || t.startsWith('NUMERIC');
}

/** A cell as text: null as empty, objects and lists as JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A numeric cell as a number (text from huge BIGINTs and DECIMALs included), null when it is none. */
export function numberOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** A time cell (ISO text, or epoch ms) as epoch ms, null when it does not parse. */
export function epochMsOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

export interface ChartInput {
  /** x is time (epoch ms of `xColumn`) or the row index */
  xTime: boolean;
  /** the column on the x axis; undefined for the row index */
  xColumn?: string;
  seriesLabels: string[];
  /** [xs, ...ys], aligned, xs ascending */
  data: (number | null)[][];
}

/**
 * The chart of a content: x = the first timestamp column (rows sorted by it, rows without a time
 * left out) or, without one, the row index; y = every numeric column. Undefined when there is no
 * numeric column to draw.
 */
export function chartInputOf(content: Pick<DatasetContentBody, 'columns' | 'rows'>): ChartInput | undefined {
  const xIndex = content.columns.findIndex((c) => isTimeType(c.type));
  const yIndexes: number[] = [];
  content.columns.forEach((c, i) => {
    if (i !== xIndex && isNumericType(c.type)) yIndexes.push(i);
  });
  if (yIndexes.length === 0) return undefined;
  const seriesLabels = yIndexes.map((i) => content.columns[i].name);

  if (xIndex < 0) {
    const xs = content.rows.map((_row, i) => i);
    const ys = yIndexes.map((j) => content.rows.map((row) => numberOf(row[j])));
    return { xTime: false, seriesLabels, data: [xs, ...ys] };
  }

  const points: { x: number; row: unknown[] }[] = [];
  for (const row of content.rows) {
    const x = epochMsOf(row[xIndex]);
    if (x !== null) points.push({ x, row });
  }
  // uPlot needs ascending x; a dataset's SQL may order its rows any way (Array.sort is stable)
  points.sort((a, b) => a.x - b.x);
  const xs = points.map((p) => p.x);
  const ys = yIndexes.map((j) => points.map((p) => numberOf(p.row[j])));
  return { xTime: true, xColumn: content.columns[xIndex].name, seriesLabels, data: [xs, ...ys] };
}
