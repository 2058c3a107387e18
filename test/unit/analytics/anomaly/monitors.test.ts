// Detector resources through the analytics facade with real DuckDB: rows committed to a datastore
// reach the monitors bound to it, alerts land in the real alert store (analytics.alerts) and clear,
// definitions persist across a restart, and bad definitions are refused with coded errors.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAnalytics, type Analytics } from '../../../../analytics/index.js';

let dir: string;
let a: Analytics | null = null;
let now = 1_700_000_000_000;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iotcore-monitors-'));
  now = 1_700_000_000_000;
});
afterEach(async () => {
  await a?.close().catch(() => undefined);
  a = null;
  await rm(dir, { recursive: true, force: true });
});

const open = () => openAnalytics({ dataDir: dir, now: () => now, channel: { flushDelayMs: 1 }, database: { flushDelayMs: 1 } });

async function withPipeline(x: Analytics): Promise<void> {
  await x.putChannel({ channelName: 'c' });
  await x.putDatastore({ datastoreName: 'readings' });
  await x.putPipeline({
    pipelineName: 'p',
    pipelineActivities: [{ channel: { name: 'in', channelName: 'c', next: 'out' } }, { datastore: { name: 'out', datastoreName: 'readings' } }],
  });
}

/** Ingests the rows one per call (each its own ingestion time) and waits until they are committed. */
async function send(x: Analytics, rows: Record<string, unknown>[]): Promise<void> {
  for (const r of rows) {
    now += 1000;
    await x.ingest('c', [{ payload: Buffer.from(JSON.stringify(r)) }]);
  }
  await x.flush();
}

const calm = (i: number) => 20 + Math.sin(i) * 0.5;

describe('detector resources on datastore columns', () => {
  it('raises one alert in the alert store for an anomalous row and clears it after clearAfter normal rows', async () => {
    a = await open();
    await withPipeline(a);
    const d = await a.detectors.put({ detectorName: 'temp_watch', datastoreName: 'readings', attribute: 'temp', detector: 'mad', params: { warmup: 20 }, severity: 'CRITICAL', clearAfter: 2 });
    expect(d.definition).toMatchObject({ detectorName: 'temp_watch', attribute: 'temp' });
    await send(a, Array.from({ length: 60 }, (_, i) => ({ deviceId: 'dev1', temp: calm(i) })));
    await send(a, [{ deviceId: 'dev1', temp: 90 }, { deviceId: 'dev1', temp: 95 }]);
    await a.alerts.flush();
    const open1 = await a.alerts.list({ source: 'temp_watch' });
    expect(open1.items).toHaveLength(1);
    expect(open1.items[0]).toMatchObject({ source: 'temp_watch', deviceId: 'dev1', metric: 'temp', type: 'anomaly', severity: 'CRITICAL', state: 'ACTIVE' });
    await send(a, [{ deviceId: 'dev1', temp: calm(61) }, { deviceId: 'dev1', temp: calm(62) }, { deviceId: 'dev1', temp: calm(63) }]);
    await a.alerts.flush();
    const after = await a.alerts.list({ source: 'temp_watch' });
    expect(after.items.map((x) => x.state)).toEqual(['CLEARED']);
    const { counters } = a.detectors.describe('temp_watch');
    expect(counters).toMatchObject({ rows: 65, points: 65, alertsRaised: 1, alertsCleared: 1, devices: 1 });
    expect(counters.anomalies).toBeGreaterThanOrEqual(1);
  });

  it('runs a range alarm beside an anomaly detector on the same datastore, per device', async () => {
    a = await open();
    await withPipeline(a);
    await a.detectors.put({ detectorName: 'too_hot', datastoreName: 'readings', type: 'range', attribute: 'temp', max: 50, severity: 'MAJOR' });
    await send(a, [{ deviceId: 'a', temp: 10 }, { deviceId: 'b', temp: 70 }, { deviceId: 'b', temp: 75 }]);
    await a.alerts.flush();
    const list = await a.alerts.list({ source: 'too_hot', state: 'ACTIVE' });
    expect(list.items.map((x) => [x.deviceId, x.type, x.value])).toEqual([['b', 'outOfRange', 75]]);
  });

  it('raises silent through the periodic check on the facade clock', async () => {
    a = await open();
    await withPipeline(a);
    await a.detectors.put({ detectorName: 'quiet', datastoreName: 'readings', type: 'silent', expectedIntervalSeconds: 5, intervals: 2 });
    await send(a, [{ deviceId: 'a', temp: 1 }]);
    now += 11_000;
    a.detectors.check();
    await a.alerts.flush();
    expect((await a.alerts.list({ source: 'quiet', state: 'ACTIVE' })).items.map((x) => x.deviceId)).toEqual(['a']);
    await send(a, [{ deviceId: 'a', temp: 2 }]);
    await a.alerts.flush();
    expect((await a.alerts.list({ source: 'quiet', state: 'ACTIVE' })).items).toEqual([]);
  });

  it('keeps definitions across a restart, lists them by name and deletes them', async () => {
    a = await open();
    await withPipeline(a);
    await a.detectors.put({ detectorName: 'z_flat', datastoreName: 'readings', type: 'flatline', attribute: 'temp', points: 3 });
    await a.detectors.put({ detectorName: 'a_anom', datastoreName: 'readings', attribute: 'temp' });
    await a.close();
    a = await open();
    expect(a.detectors.list().map((d) => d.definition.detectorName)).toEqual(['a_anom', 'z_flat']);
    expect(a.detectors.describe('z_flat').definition).toEqual({ detectorName: 'z_flat', datastoreName: 'readings', type: 'flatline', attribute: 'temp', points: 3 });
    await send(a, [1, 1, 1].map((temp) => ({ deviceId: 'd', temp })));
    expect(a.detectors.describe('z_flat').counters).toMatchObject({ points: 3, alertsRaised: 1 });
    await a.detectors.delete('z_flat');
    await a.alerts.flush();
    // deleting the resource clears its open alert
    expect((await a.alerts.list({ source: 'z_flat', state: 'ACTIVE' })).items).toEqual([]);
    await a.close();
    a = await open();
    expect(a.detectors.list().map((d) => d.definition.detectorName)).toEqual(['a_anom']);
  });

  it('starts a replaced definition with fresh counters', async () => {
    a = await open();
    await withPipeline(a);
    await a.detectors.put({ detectorName: 'r', datastoreName: 'readings', type: 'range', attribute: 'temp', max: 5 });
    await send(a, [{ deviceId: 'a', temp: 1 }]);
    expect(a.detectors.describe('r').counters.points).toBe(1);
    const replaced = await a.detectors.put({ detectorName: 'r', datastoreName: 'readings', type: 'range', attribute: 'temp', max: 10 });
    expect(replaced.counters.points).toBe(0);
    expect(replaced.definition).toMatchObject({ max: 10 });
  });

  it('refuses bad definitions and unknown names with coded errors, and a datastore delete while watched', async () => {
    a = await open();
    await withPipeline(a);
    await expect(a.detectors.put({ detectorName: 'x', datastoreName: 'nope', attribute: 'temp' })).rejects.toMatchObject({ code: 'ResourceNotFoundException', statusCode: 404 });
    await expect(a.detectors.put({ detectorName: 'x', datastoreName: 'readings', attribute: 'temp', detector: 'nope' })).rejects.toMatchObject({ code: 'InvalidRequestException', statusCode: 400 });
    await expect(a.detectors.put({ detectorName: 'bad name!', datastoreName: 'readings', attribute: 'temp' })).rejects.toMatchObject({ code: 'InvalidRequestException' });
    expect(() => a!.detectors.describe('x')).toThrow(expect.objectContaining({ code: 'ResourceNotFoundException' }));
    await expect(a.detectors.delete('x')).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
    await a.putDatastore({ datastoreName: 'other' });
    await a.detectors.put({ detectorName: 'w', datastoreName: 'other', type: 'flood', maxPerMinute: 10 });
    await expect(a.deleteDatastore('other')).rejects.toMatchObject({ code: 'InvalidRequestException', message: expect.stringMatching(/watched by detector\(s\) w/) });
    await a.detectors.delete('w');
    await a.deleteDatastore('other');
  });
});
