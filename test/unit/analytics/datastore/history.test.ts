// One device's history through Database.history: raw rows when few, avg/min/max buckets otherwise.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../../analytics/datastore/index.js';
import type { Database } from '../../../../analytics/datastore/index.js';

const T0 = Date.UTC(2024, 0, 1);
const N = 3000; // one reading a second for d1
const SPIKE_AT = 1234;

let dir: string;
let db: Database;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iotcore-history-'));
  db = await openDatabase(join(dir, 'analytics.duckdb'), { flushDelayMs: 5 });
  await db.ensureDatastore({ datastoreName: 'telemetry' });
  const w = db.writer('telemetry');
  const appends: Promise<void>[] = [];
  for (let i = 0; i < N; i++) {
    const rows = [{ deviceId: 'd1', temperature: i === SPIKE_AT ? 1000 : 20, battery: 90, label: 'x' }];
    if (i % 10 === 0) rows.push({ deviceId: 'd2', temperature: -5, battery: 50, label: 'y' });
    appends.push(w.append(rows, T0 + i * 1000));
  }
  await Promise.all(appends);
});

afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('device history', () => {
  it('answers the raw rows, oldest first, when the range holds no more than points rows', async () => {
    const h = await db.history({ datastoreName: 'telemetry', deviceId: 'd2', from: T0, to: T0 + 50_000, points: 10 });
    expect(h).toMatchObject({ datastore: 'telemetry', deviceId: 'd2', bucketMs: 0, rowsInRange: 5 });
    expect(h.columns).toEqual(['__dt', 'temperature', 'battery']); // every numeric column; text ones left out
    expect(h.data).toEqual([[0, 10, 20, 30, 40].map((s) => T0 + s * 1000), [-5, -5, -5, -5, -5], [50, 50, 50, 50, 50]]);
  });

  it('buckets a range with more rows than points into avg, min and max per bucket, so a spike survives', async () => {
    const h = await db.history({ datastoreName: 'telemetry', deviceId: 'd1', attributes: ['temperature'], from: T0, to: T0 + N * 1000, points: 100 });
    expect(h.rowsInRange).toBe(N);
    expect(h.bucketMs).toBe(30_000);
    expect(h.columns).toEqual(['__dt', 'temperature', 'temperature.min', 'temperature.max']);
    const [dt, avg, min, max] = h.data;
    expect(dt).toHaveLength(100);
    expect(dt[0]).toBe(T0);
    expect((dt[1] as number) - (dt[0] as number)).toBe(30_000);
    const spikeBucket = Math.floor(SPIKE_AT / 30);
    expect(max[spikeBucket]).toBe(1000);
    expect(avg[spikeBucket]).toBeCloseTo((29 * 20 + 1000) / 30);
    expect(min[spikeBucket]).toBe(20);
    expect(Math.max(...(max as number[]).filter((_, i) => i !== spikeBucket))).toBe(20);
  });

  it('names an unknown or non-numeric attribute in an InvalidRequestException', async () => {
    const base = { datastoreName: 'telemetry', deviceId: 'd1', from: T0, to: T0 + 1000, points: 10 };
    await expect(db.history({ ...base, attributes: ['pressure'] })).rejects.toMatchObject({ code: 'InvalidRequestException', message: expect.stringContaining('pressure') });
    await expect(db.history({ ...base, attributes: ['label'] })).rejects.toMatchObject({ code: 'InvalidRequestException', message: expect.stringContaining('label') });
    await expect(db.history({ ...base, deviceAttribute: 'serial' })).rejects.toMatchObject({ code: 'InvalidRequestException', message: expect.stringContaining('serial') });
    await expect(db.history({ ...base, points: 0 })).rejects.toMatchObject({ code: 'InvalidRequestException' });
    await expect(db.history({ ...base, to: T0 })).rejects.toMatchObject({ code: 'InvalidRequestException' });
  });

  it('answers ResourceNotFoundException for an unknown datastore', async () => {
    await expect(db.history({ datastoreName: 'nope', deviceId: 'd1', from: T0, to: T0 + 1000, points: 10 })).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
  });

  it('treats the device id as a value, never as SQL', async () => {
    const h = await db.history({ datastoreName: 'telemetry', deviceId: "d1' OR '1'='1", from: T0, to: T0 + N * 1000, points: 10 });
    expect(h.rowsInRange).toBe(0);
    expect(h.data).toEqual([[], [], []]);
  });
});
