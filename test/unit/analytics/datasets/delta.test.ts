import { applyDeltaFilter, checkTimeExpression, manualWindow, scheduledWindow } from '../../../../analytics/datasets/delta.js';

const t = (iso: string) => Date.parse(iso);
const W = { start: 1000, end: 61000 };
const COND = 'epoch(__dt) >= 1.000 AND epoch(__dt) < 61.000';

describe('delta windows', () => {
  test('the documented example: every 15 minutes, offset -180 s, run at 10:30 → 10:12 to 10:27', () => {
    const w = scheduledWindow(t('2024-01-01T10:30:00Z'), 15 * 60_000, -180);
    expect(new Date(w.start).toISOString()).toBe('2024-01-01T10:12:00.000Z');
    expect(new Date(w.end).toISOString()).toBe('2024-01-01T10:27:00.000Z');
  });

  test('a manual run continues from the previous window end (the epoch for the first one)', () => {
    expect(manualWindow(undefined, 10_000, -5)).toEqual({ start: 0, end: 5_000 });
    expect(manualWindow(4_000, 10_000, 0)).toEqual({ start: 4_000, end: 10_000 });
    expect(manualWindow(9_000, 10_000, -5)).toEqual({ start: 5_000, end: 5_000 });
  });
});

describe('applyDeltaFilter', () => {
  const tables = new Set(['telemetry_store', 'other']);

  test('a datastore table becomes a filtered subquery under its own name', () => {
    expect(applyDeltaFilter('SELECT count(*) FROM telemetry_store WHERE x > 1', tables, '__dt', W))
      .toBe(`SELECT count(*) FROM (SELECT * FROM telemetry_store WHERE ${COND}) AS "telemetry_store" WHERE x > 1`);
  });

  test('an alias is kept, joins and comma lists are filtered too', () => {
    expect(applyDeltaFilter('SELECT * FROM telemetry_store t JOIN "other" AS o ON t.a = o.a', tables, '__dt', W))
      .toBe(`SELECT * FROM (SELECT * FROM telemetry_store WHERE ${COND}) t JOIN (SELECT * FROM "other" WHERE ${COND}) AS o ON t.a = o.a`);
    expect(applyDeltaFilter('SELECT * FROM telemetry_store, other', tables, '__dt', W))
      .toBe(`SELECT * FROM (SELECT * FROM telemetry_store WHERE ${COND}) AS "telemetry_store", (SELECT * FROM other WHERE ${COND}) AS "other"`);
  });

  test('subqueries are filtered; EXTRACT(... FROM col), strings and other tables are not', () => {
    expect(applyDeltaFilter("SELECT extract(year FROM telemetry_store) FROM (SELECT * FROM telemetry_store) s, unrelated WHERE y = 'FROM telemetry_store'", tables, '__dt', W))
      .toBe(`SELECT extract(year FROM telemetry_store) FROM (SELECT * FROM (SELECT * FROM telemetry_store WHERE ${COND}) AS "telemetry_store") s, unrelated WHERE y = 'FROM telemetry_store'`);
  });

  test('a query that reads no datastore cannot be windowed', () => {
    expect(() => applyDeltaFilter('SELECT 1', tables, '__dt', W)).toThrow(expect.objectContaining({ code: 'InvalidRequestException' }));
  });

  test('timeExpression must be one expression', () => {
    expect(checkTimeExpression('from_unixtime(ts)')).toBe('from_unixtime(ts)');
    for (const bad of ['ts); DROP TABLE x', 'ts --', '(ts', "'ts", '']) {
      expect(() => checkTimeExpression(bad)).toThrow(expect.objectContaining({ code: 'InvalidRequestException' }));
    }
  });
});
