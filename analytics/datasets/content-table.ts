// A dataset content's CSV read back as a table for the dashboard: the first rows with each cell
// typed again by the column type the query reported (the CSV holds text only). Reading the file
// the run wrote, not running the query again, shows exactly the content that was produced.
import { readFile } from 'node:fs/promises';
import { AnalyticsError } from '../errors.js';
import { parseCsv } from './content-rows.js';

export interface ContentTable {
  columns: { name: string; type: string }[];
  /** row-major; an empty CSV field is null (CSV cannot tell NULL from an empty string) */
  rows: unknown[][];
  /** the content has more rows than were read */
  truncated: boolean;
}

type Cell = (text: string) => unknown;

const INTEGER_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const FLOAT_TYPES = /^(FLOAT|DOUBLE|REAL)$/;

function cellFor(type: string): Cell {
  const t = type.toUpperCase();
  if (INTEGER_TYPES.test(t)) {
    // beyond 2^53 a number would change the value: keep the text
    return (s) => (s === '' ? null : Number.isSafeInteger(Number(s)) ? Number(s) : s);
  }
  if (FLOAT_TYPES.test(t)) {
    return (s) => {
      if (s === '') return null;
      const n = Number(s);
      return Number.isFinite(n) ? n : s; // NaN and Infinity stay readable as text (JSON has none)
    };
  }
  if (t.startsWith('DECIMAL')) return (s) => (s === '' ? null : s.replace(/[-.]/g, '').replace(/^0+/, '').length <= 15 ? Number(s) : s);
  if (t === 'BOOLEAN') return (s) => (s === '' ? null : s === 'true');
  if (t === 'JSON' || t.endsWith('[]') || t.startsWith('STRUCT') || t.startsWith('MAP')) {
    return (s) => {
      if (s === '') return null;
      try {
        return JSON.parse(s);
      } catch {
        return s;
      }
    };
  }
  return (s) => (s === '' ? null : s);
}

/** Reads at most `maxRows` data rows of the CSV at `path`. `columns` (types) may be missing for a
 * content written before they were recorded: the header names the columns, cells stay text. */
export async function readContentTable(path: string, columns: readonly { name: string; type: string }[] | undefined, maxRows: number): Promise<ContentTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new AnalyticsError('ResourceNotFoundException', `the content file is gone (pruned or deleted): ${(e as Error).message}`);
  }
  // the header, maxRows rows and one more to know whether there are more
  const [header = [], ...records] = parseCsv(text, maxRows + 2);
  const cols = columns && columns.length === header.length ? columns.map((c) => ({ ...c })) : header.map((name) => ({ name, type: 'VARCHAR' }));
  const cells = cols.map((c) => cellFor(c.type));
  const truncated = records.length > maxRows;
  const rows = records.slice(0, maxRows).map((r) => cells.map((cell, i) => cell(r[i] ?? '')));
  return { columns: cols, rows, truncated };
}
