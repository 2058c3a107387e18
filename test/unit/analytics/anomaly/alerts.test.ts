// The alert store against a real DuckDB file in a temp directory: lifecycle, one alert per
// condition, severity escalation, paging, persistence across a reopen, and its bounds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../../analytics/datastore/index.js';
import type { Database } from '../../../../analytics/datastore/index.js';
import { openAlertStore } from '../../../../analytics/anomaly/index.js';
import { openAnalytics } from '../../../../analytics/index.js';
import type { AlertEvent, AlertRaise, AlertStore, AlertStoreOptions } from '../../../../analytics/anomaly/index.js';

let dir: string;
let db: Database | null = null;
let store: AlertStore | null = null;
let clock = 1_700_000_000_000;
const now = (): number => clock;

async function open(opts: AlertStoreOptions = {}): Promise<AlertStore> {
  db = await openDatabase(join(dir, 'iotcore.duckdb'));
  store = await openAlertStore(db, { now, ...opts });
  return store;
}

async function reopen(opts: AlertStoreOptions = {}): Promise<AlertStore> {
  await store?.close();
  await db?.close();
  return open(opts);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iotcore-alerts-'));
  clock = 1_700_000_000_000;
});

afterEach(async () => {
  await store?.close();
  await db?.close();
  store = null;
  db = null;
  rmSync(dir, { recursive: true, force: true });
});

const raise = (over: Partial<AlertRaise> = {}): AlertRaise => ({
  source: 'temp-detector', deviceId: 'd1', metric: 'temperature', severity: 'MINOR', type: 'anomaly', message: 'temperature off', value: 80, score: 0.9, at: clock, ...over,
});

describe('alert store', () => {
  it('opens one ACTIVE alert per condition and counts further raises on it instead of duplicating', async () => {
    const s = await open();
    s.raise(raise());
    clock += 1000;
    s.raise(raise({ value: 85, score: 0.95 }));
    s.raise(raise({ value: 90, score: undefined }));
    const { items } = await s.list();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ state: 'ACTIVE', occurrences: 3, value: 90, createdAt: 1_700_000_000_000, updatedAt: 1_700_000_001_000 });
    expect(items[0].score).toBeUndefined(); // the last raise carried no score
    expect(s.counters()).toMatchObject({ raised: 1, updated: 2, open: 1 });
  });

  it('keeps separate alerts for different devices, metrics and sources', async () => {
    const s = await open();
    s.raise(raise());
    s.raise(raise({ deviceId: 'd2' }));
    s.raise(raise({ metric: 'humidity' }));
    s.raise(raise({ source: 'silence' }));
    expect((await s.list()).items).toHaveLength(4);
  });

  it('escalates the severity to the highest raised and never lowers it', async () => {
    const s = await open();
    const events: AlertEvent[] = [];
    s.subscribe((e) => events.push(e));
    s.raise(raise({ severity: 'MINOR' }));
    s.raise(raise({ severity: 'CRITICAL' }));
    s.raise(raise({ severity: 'WARNING' }));
    const [a] = (await s.list()).items;
    expect(a.severity).toBe('CRITICAL');
    // occurrences are not events; opening and the escalation are
    expect(events.map((e) => [e.event, e.alert.severity])).toEqual([['opened', 'MINOR'], ['escalated', 'CRITICAL']]);
  });

  it('keeps an acknowledged alert acknowledged while its condition persists, then clears it on resolve', async () => {
    const s = await open();
    const events: AlertEvent[] = [];
    s.subscribe((e) => events.push(e));
    s.raise(raise());
    const [a] = (await s.list()).items;
    clock += 5;
    const acked = await s.acknowledge(a.id, 'looking at it');
    expect(acked).toMatchObject({ state: 'ACKNOWLEDGED', acknowledgedAt: clock, note: 'looking at it' });
    s.raise(raise());
    expect(await s.get(a.id)).toMatchObject({ state: 'ACKNOWLEDGED', occurrences: 2 });
    clock += 5;
    s.resolve({ source: 'temp-detector', deviceId: 'd1', metric: 'temperature' }, clock);
    expect(await s.get(a.id)).toMatchObject({ state: 'CLEARED', clearedAt: clock });
    expect(events.map((e) => e.event)).toEqual(['opened', 'acknowledged', 'cleared']);
    expect(s.counters()).toMatchObject({ raised: 1, acknowledged: 1, cleared: 1, open: 0 });
  });

  it('opens a new alert when a cleared condition comes back', async () => {
    const s = await open();
    s.raise(raise());
    const [first] = (await s.list()).items;
    await s.clear(first.id, 'fixed the sensor');
    clock += 10;
    s.raise(raise());
    const { items } = await s.list();
    expect(items.map((a) => a.state)).toEqual(['ACTIVE', 'CLEARED']); // newest first
    expect(items[1]).toMatchObject({ id: first.id, note: 'fixed the sensor' });
  });

  it('refuses to acknowledge or clear a cleared alert, and treats a second acknowledge as no change', async () => {
    const s = await open();
    s.raise(raise());
    const [a] = (await s.list()).items;
    await s.acknowledge(a.id);
    const again = await s.acknowledge(a.id, 'ignored');
    expect(again.note).toBeUndefined();
    await s.clear(a.id);
    await expect(s.clear(a.id)).rejects.toMatchObject({ code: 'InvalidStateTransitionException', statusCode: 409 });
    await expect(s.acknowledge(a.id)).rejects.toMatchObject({ code: 'InvalidStateTransitionException' });
    await expect(s.get('no-such-alert')).rejects.toMatchObject({ code: 'ResourceNotFoundException', statusCode: 404 });
    await expect(s.clear('no-such-alert')).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
    await expect(s.acknowledge(a.id, 'x'.repeat(2000))).rejects.toMatchObject({ code: 'InvalidRequestException' });
  });

  it('filters by state, severity, device, source and creation time, and pages newest first', async () => {
    const s = await open();
    for (let i = 0; i < 5; i++) {
      clock += 100;
      s.raise(raise({ deviceId: `d${i}`, severity: i % 2 === 0 ? 'MAJOR' : 'WARNING', source: i < 3 ? 'a' : 'b' }));
    }
    const all = (await s.list()).items;
    expect(all.map((a) => a.deviceId)).toEqual(['d4', 'd3', 'd2', 'd1', 'd0']);
    await s.clear(all[0].id);
    expect((await s.list({ state: 'ACTIVE' })).items.map((a) => a.deviceId)).toEqual(['d3', 'd2', 'd1', 'd0']);
    expect((await s.list({ severity: 'MAJOR' })).items.map((a) => a.deviceId)).toEqual(['d4', 'd2', 'd0']);
    expect((await s.list({ deviceId: 'd1' })).items).toHaveLength(1);
    expect((await s.list({ source: 'b' })).items.map((a) => a.deviceId)).toEqual(['d4', 'd3']);
    const t0 = 1_700_000_000_000;
    expect((await s.list({ since: t0 + 200, until: t0 + 400 })).items.map((a) => a.deviceId)).toEqual(['d2', 'd1']);

    const p1 = await s.list({}, { maxResults: 2 });
    expect(p1.items.map((a) => a.deviceId)).toEqual(['d4', 'd3']);
    const p2 = await s.list({}, { maxResults: 2, nextToken: p1.nextToken });
    const p3 = await s.list({}, { maxResults: 2, nextToken: p2.nextToken });
    expect([...p2.items, ...p3.items].map((a) => a.deviceId)).toEqual(['d2', 'd1', 'd0']);
    expect(p3.nextToken).toBeUndefined();

    await expect(s.list({ state: 'OPEN' as never })).rejects.toMatchObject({ code: 'InvalidRequestException' });
    await expect(s.list({}, { maxResults: 0 })).rejects.toMatchObject({ code: 'InvalidRequestException' });
    await expect(s.list({}, { nextToken: 'bogus' })).rejects.toMatchObject({ code: 'InvalidRequestException' });
  });

  it('keeps open alerts across a restart, so the same condition updates them instead of duplicating', async () => {
    let s = await open();
    s.raise(raise());
    s.raise(raise({ deviceId: 'd2' }));
    const before = (await s.list()).items;
    await s.acknowledge(before[0].id, 'seen');
    await s.clear(before[1].id);
    s = await reopen();
    expect(s.counters().open).toBe(1);
    s.raise(raise({ deviceId: before[0].deviceId }));
    s.raise(raise({ deviceId: before[1].deviceId })); // its alert was cleared: a new one
    const after = (await s.list()).items;
    expect(after).toHaveLength(3);
    expect(after.find((a) => a.id === before[0].id)).toMatchObject({ state: 'ACKNOWLEDGED', occurrences: 2, note: 'seen' });
    expect(after.find((a) => a.id === before[1].id)).toMatchObject({ state: 'CLEARED' });
  });

  it('writes changes in batches, coalescing the raises of one alert into one stored row', async () => {
    const s = await open({ flushDelayMs: 60_000, flushCount: 1000 });
    for (let i = 0; i < 500; i++) s.raise(raise({ value: i }));
    expect(s.counters().persisted).toBe(0); // nothing written per raise
    await s.flush();
    expect(s.counters().persisted).toBe(1);
    const r = await db!.query('SELECT count(*), max(occurrences), max(value) FROM iotcore_alerts.alerts');
    expect(r.rows[0]).toEqual([1, 500, 499]);
  });

  it('holds at most maxOpen open alerts and counts the raises it refuses', async () => {
    const s = await open({ maxOpen: 2 });
    s.raise(raise({ deviceId: 'd1' }));
    s.raise(raise({ deviceId: 'd2' }));
    s.raise(raise({ deviceId: 'd3' }));
    s.raise(raise({ deviceId: 'd1' })); // an open one still updates
    expect(s.counters()).toMatchObject({ raised: 2, dropped: 1, updated: 1, open: 2 });
    const [newest] = (await s.list()).items;
    await s.clear(newest.id);
    s.raise(raise({ deviceId: 'd3' })); // room again
    expect(s.counters()).toMatchObject({ raised: 3, open: 2 });
  });

  it('does not list the alerts table as a datastore', async () => {
    const s = await open();
    s.raise(raise());
    await s.flush();
    expect(db!.listDatastores()).toEqual([]);
  });
});

describe('alert retention', () => {
  const DAY = 86_400_000;

  it('deletes alerts cleared more than retentionDays ago in the analytics retention sweep, and keeps recently cleared and all open alerts', async () => {
    const x = await openAnalytics({ dataDir: dir, now, alerts: { retentionDays: 30, flushDelayMs: 1 } });
    try {
      const ids = new Map<string, string>();
      x.alerts.subscribe((e) => {
        if (e.event === 'opened') ids.set(e.alert.deviceId, e.alert.id);
      });
      for (const deviceId of ['old-cleared', 'old-active', 'old-acknowledged']) x.alerts.raise(raise({ deviceId }));
      await x.alerts.clear(ids.get('old-cleared')!);
      await x.alerts.acknowledge(ids.get('old-acknowledged')!);
      clock += 31 * DAY;
      x.alerts.raise(raise({ deviceId: 'recent-cleared' }));
      await x.alerts.clear(ids.get('recent-cleared')!);
      clock += DAY; // old-cleared was cleared 32 days ago, recent-cleared 1 day ago

      await x.sweepRetention();

      const left = (await x.alerts.list()).items.map((a) => `${a.deviceId}:${a.state}`).sort();
      expect(left).toEqual(['old-acknowledged:ACKNOWLEDGED', 'old-active:ACTIVE', 'recent-cleared:CLEARED']);
      await expect(x.alerts.get(ids.get('old-cleared')!)).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
      expect(x.counters().alerts.retentionDeleted).toBe(1);
    } finally {
      await x.close();
    }
  });
});
