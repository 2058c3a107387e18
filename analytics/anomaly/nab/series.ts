// Reading a `timestamp,value` series (the NAB file format, also what `npm run detect` takes).
// Errors name the file and the 1-based line so a bad row can be found and fixed.

import { invalidRequest } from '../../errors.js';

export interface Series {
  /** epoch ms (UTC) of each row */
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  /** the text of each row's first two fields, so output can echo the input exactly */
  readonly rawTimestamps: readonly string[];
  readonly rawValues: readonly string[];
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` as UTC epoch ms; NaN when it is not that shape or not a real date. */
export function parseNabTimestamp(text: string): number {
  const m = TIMESTAMP.exec(text);
  if (m === null) return NaN;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const frac = m[7] === undefined ? 0 : Number(m[7].padEnd(6, '0')) / 1000;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s) + frac;
  // Date.UTC rolls 2014-02-30 over to March; a round trip catches it.
  const back = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d ||
      back.getUTCHours() !== h || back.getUTCMinutes() !== mi || back.getUTCSeconds() !== s) return NaN;
  return ms;
}

/**
 * Parses CSV text with a `timestamp,value` header. A value may be `NaN` (scored 0 by every
 * detector); anything else that is not a number, a missing field or a bad timestamp is refused
 * with InvalidRequestException naming `source` and the line.
 */
export function parseSeriesCsv(text: string, source: string): Series {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const header = (lines[0] ?? '').replace(/^\uFEFF/, '').split(',').map((f) => f.trim());
  if (header[0] !== 'timestamp' || header[1] !== 'value') {
    throw invalidRequest(`${source} line 1: expected the header timestamp,value, got ${JSON.stringify(lines[0] ?? '')}`);
  }
  const n = lines.length - 1;
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  const rawTimestamps: string[] = new Array(n);
  const rawValues: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const line = lines[i + 1];
    const comma = line.indexOf(',');
    if (comma < 0) throw invalidRequest(`${source} line ${i + 2}: expected timestamp,value, got ${JSON.stringify(line)}`);
    const ts = line.slice(0, comma).trim();
    const rest = line.slice(comma + 1);
    const comma2 = rest.indexOf(',');
    const v = (comma2 < 0 ? rest : rest.slice(0, comma2)).trim();
    const t = parseNabTimestamp(ts);
    if (Number.isNaN(t)) {
      throw invalidRequest(`${source} line ${i + 2}: bad timestamp ${JSON.stringify(ts)} (expected YYYY-MM-DD HH:MM:SS)`);
    }
    const x = v === '' ? NaN : Number(v);
    if (Number.isNaN(x) && v.toLowerCase() !== 'nan') {
      throw invalidRequest(`${source} line ${i + 2}: bad value ${JSON.stringify(v)} (expected a number)`);
    }
    timestamps[i] = t;
    values[i] = x;
    rawTimestamps[i] = ts;
    rawValues[i] = v;
  }
  return { timestamps, values, rawTimestamps, rawValues };
}
