// Decoding of the live feed's columnar `rows` frames into per-row readings. Tolerates missing
// columns (a datastore may not store every attribute) and wrong types (skipped, not thrown).

import type { LiveRowsFrame } from '../../broker/contract.js';

export interface Reading {
  deviceId: string;
  /** chart x: the device's `ts` if present, else ingestion time `__dt`, in SECONDS (uPlot's unit) */
  x: number;
  /** epoch ms the row was ingested (or produced, if `__dt` is missing) */
  seenAt: number;
  temperature: number | null;
  humidity: number | null;
  battery: number | null;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Epoch ms from a number, or from an ISO string (a datastore may serialize timestamps so). */
function timeOrNull(value: unknown): number | null {
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? null : parsed;
  }
  return numberOrNull(value);
}

/** Readings of a frame, in frame order. Rows without a device id or any time are skipped. */
export function readingsFromFrame(frame: Pick<LiveRowsFrame, 'columns' | 'data'>): { readings: Reading[]; skipped: number } {
  const column = (name: string) => {
    const index = frame.columns.indexOf(name);
    return index >= 0 ? frame.data[index] : undefined;
  };
  const deviceIds = column('deviceId');
  const ts = column('ts');
  const dt = column('__dt');
  const temperature = column('temperature');
  const humidity = column('humidity');
  const battery = column('battery');
  const rowCount = frame.data.reduce((max, values) => Math.max(max, values?.length ?? 0), 0);

  const readings: Reading[] = [];
  let skipped = 0;
  for (let row = 0; row < rowCount; row++) {
    const deviceId = deviceIds?.[row];
    const producedAt = timeOrNull(ts?.[row]);
    const ingestedAt = timeOrNull(dt?.[row]);
    const timeMs = producedAt ?? ingestedAt;
    if (typeof deviceId !== 'string' || deviceId === '' || timeMs === null) {
      skipped++;
      continue;
    }
    readings.push({
      deviceId,
      x: timeMs / 1000,
      seenAt: ingestedAt ?? timeMs,
      temperature: numberOrNull(temperature?.[row]),
      humidity: numberOrNull(humidity?.[row]),
      battery: numberOrNull(battery?.[row]),
    });
  }
  return { readings, skipped };
}
