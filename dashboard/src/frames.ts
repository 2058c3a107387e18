// Decoding of columnar rows (live `rows` frames, history bodies) into what the views chart and
// tabulate. Tolerates missing columns (a datastore may not store every attribute) and values of
// the wrong type (skipped, not thrown). Pure.

import type { LiveRowsFrame } from '../../broker/contract.js';

/** Columns that are numbers but not measurements: ingestion time, device time, sequence. */
export const NON_METRIC_COLUMNS: ReadonlySet<string> = new Set(['__dt', 'ts', 'seq']);

export type Columnar = Pick<LiveRowsFrame, 'columns' | 'data'>;

export function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Epoch ms from a number, or from an ISO string (a datastore may serialize timestamps so). */
export function timeOrNull(value: unknown): number | null {
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? null : parsed;
  }
  return numberOrNull(value);
}

function rowCount(frame: Columnar): number {
  return frame.data.reduce((max, values) => Math.max(max, values?.length ?? 0), 0);
}

/**
 * Names of the columns that hold measurements: a finite number in at least one row, and not
 * a time, sequence or decimation column (`x.min`, `x.max` of history buckets).
 */
export function metricColumns(frame: Columnar): string[] {
  return frame.columns.filter((name, i) => {
    if (NON_METRIC_COLUMNS.has(name) || name.endsWith('.min') || name.endsWith('.max')) return false;
    return (frame.data[i] ?? []).some((value) => numberOrNull(value) !== null);
  });
}

export interface DecodedRow {
  /** the row's `deviceId` attribute, null when it has none */
  deviceId: string | null;
  /** epoch ms: ingestion time `__dt`, else the device's `ts` */
  at: number;
  /** the device's own epoch ms (`ts`), when the row has it */
  ts: number | null;
  /** measurements of this row by metric name (only finite numbers) */
  values: Record<string, number>;
}

/** Rows of a frame in frame order; rows without any time are skipped and counted. */
export function decodeRows(frame: Columnar): { rows: DecodedRow[]; metrics: string[]; skipped: number } {
  const column = (name: string) => {
    const index = frame.columns.indexOf(name);
    return index >= 0 ? frame.data[index] : undefined;
  };
  const deviceIds = column('deviceId');
  const dt = column('__dt');
  const ts = column('ts');
  const metrics = metricColumns(frame);
  const metricData = metrics.map((name) => column(name) ?? []);
  const count = rowCount(frame);

  const rows: DecodedRow[] = [];
  let skipped = 0;
  for (let row = 0; row < count; row++) {
    const producedAt = timeOrNull(ts?.[row]);
    const at = timeOrNull(dt?.[row]) ?? producedAt;
    if (at === null) {
      skipped++;
      continue;
    }
    const values: Record<string, number> = {};
    metrics.forEach((name, m) => {
      const value = numberOrNull(metricData[m][row]);
      if (value !== null) values[name] = value;
    });
    const deviceId = deviceIds?.[row];
    rows.push({ deviceId: typeof deviceId === 'string' && deviceId !== '' ? deviceId : null, at, ts: producedAt, values });
  }
  return { rows, metrics, skipped };
}

/**
 * The frame with only one device's rows (a subscription filtered in the browser when the server
 * sends a datastore's rows unfiltered), or null when none of its rows are that device's.
 */
export function filterFrameByDevice(frame: LiveRowsFrame, deviceId: string): LiveRowsFrame | null {
  const ids = frame.data[frame.columns.indexOf('deviceId')];
  if (!ids) return null;
  const keep: number[] = [];
  ids.forEach((id, row) => {
    if (id === deviceId) keep.push(row);
  });
  if (keep.length === 0) return null;
  if (keep.length === ids.length) return frame;
  return { ...frame, data: frame.data.map((values) => keep.map((row) => values[row] ?? null)) };
}
