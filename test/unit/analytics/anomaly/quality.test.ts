// Data-quality alarms (silent, flood, flatline, range) fed stored rows directly, with a recording
// alert sink and explicit times: each raises once per condition with its severity and clears.
import type { AlertKey, AlertRaise, AlertSink } from '../../../../analytics/anomaly/alert.js';
import { qualityMonitor } from '../../../../analytics/anomaly/quality.js';
import { resolveDetectorResource } from '../../../../analytics/anomaly/resource-definition.js';

class RecordingSink implements AlertSink {
  readonly events: (['raise', AlertRaise] | ['resolve', AlertKey, number])[] = [];
  raise(a: AlertRaise): void {
    this.events.push(['raise', a]);
  }
  resolve(k: AlertKey, at: number): void {
    this.events.push(['resolve', k, at]);
  }
  raises() {
    return this.events.filter((e) => e[0] === 'raise').map((e) => e[1] as AlertRaise);
  }
  resolves() {
    return this.events.filter((e) => e[0] === 'resolve').map((e) => e[1] as AlertKey);
  }
}

const T0 = 1_700_000_000_000;
const monitor = (def: Record<string, unknown>, sink: AlertSink) => qualityMonitor(resolveDetectorResource({ detectorName: 'q', datastoreName: 'd', ...def }), () => sink);
const row = (deviceId: string, at: number, value?: unknown) => ({ __dt: at, deviceId, ...(value === undefined ? {} : { temp: value }) });

describe('data-quality alarms', () => {
  it('raises silent for a device without a row for intervals × expectedIntervalSeconds, once, and clears on its next row', () => {
    const sink = new RecordingSink();
    const m = monitor({ type: 'silent', expectedIntervalSeconds: 10, intervals: 3, severity: 'CRITICAL' }, sink);
    m.onRows([row('a', T0), row('b', T0)], T0);
    m.check(T0 + 30_000); // exactly 3 intervals: not yet
    m.onRows([row('b', T0 + 25_000)], T0 + 25_000);
    m.check(T0 + 30_001);
    m.check(T0 + 40_000); // still silent: no second alert
    expect(sink.raises()).toEqual([expect.objectContaining({ source: 'q', deviceId: 'a', metric: 'silent', type: 'silent', severity: 'CRITICAL', at: T0 + 30_001 })]);
    m.onRows([row('a', T0 + 41_000)], T0 + 41_000);
    expect(sink.resolves()).toContainEqual({ source: 'q', deviceId: 'a', metric: 'silent' });
    expect(m.counters()).toMatchObject({ alertsRaised: 1, alertsCleared: 1, devices: 2 });
  });

  it('raises flood when a device sends more than maxPerMinute rows in a minute window and clears after a calm window', () => {
    const sink = new RecordingSink();
    const m = monitor({ type: 'flood', maxPerMinute: 5, severity: 'WARNING' }, sink);
    m.onRows(Array.from({ length: 5 }, (_, i) => row('a', T0 + i * 1000)), T0);
    expect(sink.raises()).toEqual([]);
    m.onRows(Array.from({ length: 10 }, (_, i) => row('a', T0 + 10_000 + i)), T0);
    expect(sink.raises()).toEqual([expect.objectContaining({ deviceId: 'a', metric: 'flood', type: 'flood', severity: 'WARNING', value: 6 })]);
    m.check(T0 + 61_000); // the flooded window ends; the next one has just begun
    expect(m.counters().alertsCleared).toBe(0);
    m.onRows([row('a', T0 + 70_000)], T0 + 70_000);
    m.check(T0 + 121_000); // a window with one row: calm
    expect(m.counters()).toMatchObject({ alertsRaised: 1, alertsCleared: 1 });
    expect(sink.resolves()).toContainEqual({ source: 'q', deviceId: 'a', metric: 'flood' });
  });

  it('clears a flood once rows stop altogether, through the timer', () => {
    const sink = new RecordingSink();
    const m = monitor({ type: 'flood', maxPerMinute: 1 }, sink);
    m.onRows([row('a', T0), row('a', T0 + 1)], T0);
    m.check(T0 + 120_000);
    expect(m.counters()).toMatchObject({ alertsRaised: 1, alertsCleared: 1 });
  });

  it('raises flatline after points equal values in a row, once, and clears when the value changes', () => {
    const sink = new RecordingSink();
    const m = monitor({ type: 'flatline', attribute: 'temp', points: 4, tolerance: 0.01 }, sink);
    m.onRows([20, 21, 21, 21.005].map((v, i) => row('a', T0 + i, v)), T0);
    expect(sink.raises()).toEqual([]); // three equal values so far
    m.onRows([21, 21, 21].map((v, i) => row('a', T0 + 10 + i, v)), T0);
    expect(sink.raises()).toEqual([expect.objectContaining({ deviceId: 'a', metric: 'temp', type: 'flatline', value: 21 })]);
    m.onRows([row('a', T0 + 20, 22)], T0);
    expect(m.counters()).toMatchObject({ alertsRaised: 1, alertsCleared: 1 });
    expect(sink.resolves().at(-1)).toEqual({ source: 'q', deviceId: 'a', metric: 'temp' });
  });

  it('raises outOfRange for each value outside min..max (one alert) and clears after clearAfter values inside', () => {
    const sink = new RecordingSink();
    const m = monitor({ type: 'range', attribute: 'temp', min: 0, max: 50, clearAfter: 2 }, sink);
    m.onRows([row('a', T0, 10), row('a', T0 + 1, 60), row('a', T0 + 2, -5), row('a', T0 + 3, 20)], T0);
    expect(sink.raises().map((r) => [r.type, r.value])).toEqual([['outOfRange', 60], ['outOfRange', -5]]);
    expect(m.counters()).toMatchObject({ alertsRaised: 1, alertsCleared: 0, anomalies: 2 });
    m.onRows([row('a', T0 + 4, 30)], T0);
    expect(m.counters()).toMatchObject({ alertsRaised: 1, alertsCleared: 1 });
  });

  it('skips rows without a numeric value and counts them', () => {
    const sink = new RecordingSink();
    const m = monitor({ type: 'range', attribute: 'temp', max: 1 }, sink);
    m.onRows([row('a', T0), row('a', T0, 'x'), { __dt: T0, deviceid: 'a', TEMP: 5 }], T0);
    expect(m.counters()).toMatchObject({ rows: 3, skippedRows: 2, points: 1, anomalies: 1 });
  });

  it('sends one resolve for a device first seen normal, so an alert left open by an earlier run clears', () => {
    const sink = new RecordingSink();
    const m = monitor({ type: 'range', attribute: 'temp', max: 50 }, sink);
    m.onRows([row('a', T0, 10), row('a', T0 + 1, 11)], T0);
    expect(sink.events).toEqual([['resolve', { source: 'q', deviceId: 'a', metric: 'temp' }, T0]]);
    expect(m.counters().alertsCleared).toBe(0);
  });

  it('counts alerts it had no sink for', () => {
    const m = qualityMonitor(resolveDetectorResource({ detectorName: 'q', datastoreName: 'd', type: 'range', attribute: 'temp', max: 1 }), () => undefined);
    m.onRows([row('a', T0, 5)], T0);
    expect(m.counters()).toMatchObject({ alertsRaised: 1, undeliveredAlerts: 1 });
  });

  it.each([
    ['a silent alarm without expectedIntervalSeconds', { type: 'silent' }, /expectedIntervalSeconds/],
    ['a flood alarm without maxPerMinute', { type: 'flood' }, /maxPerMinute/],
    ['a range alarm without bounds', { type: 'range', attribute: 'temp' }, /min, max/],
    ['a range with min above max', { type: 'range', attribute: 'temp', min: 2, max: 1 }, /min must not exceed max/],
    ['a member of another type', { type: 'flatline', attribute: 'temp', maxPerMinute: 3 }, /maxPerMinute/],
    ['an unknown type', { type: 'spooky' }, /type must be one of/],
    ['an unknown severity', { type: 'flood', maxPerMinute: 1, severity: 'LOUD' }, /severity/],
    ['a nested attribute path', { type: 'range', attribute: 'a.b', max: 1 }, /one column name/],
  ])('refuses %s with InvalidRequestException', (_what, def, message) => {
    expect(() => resolveDetectorResource({ detectorName: 'q', datastoreName: 'd', ...def })).toThrow(expect.objectContaining({ code: 'InvalidRequestException', message: expect.stringMatching(message) }));
  });
});
