import type { Alert, AlertListBody, AlertState } from '../../../broker/contract.js';
import { actionsFor, AlertList, AlertPager, alertsPath, matchesFilter, statesOf } from '../../../dashboard/src/views/alert-list.js';

function alert(id: string, createdAt: number, over: Partial<Alert> = {}): Alert {
  return {
    id,
    source: 'temp-detector',
    deviceId: 'sensor-1',
    metric: 'temperature',
    severity: 'MAJOR',
    type: 'anomaly',
    message: 'temperature far from its usual range',
    at: createdAt,
    state: 'ACTIVE',
    createdAt,
    updatedAt: createdAt,
    occurrences: 1,
    ...over,
  };
}

/** A fake server: alerts of each state, handed out `pageSize` at a time in the server's order. */
function fakeServer(alerts: Alert[], pageSize: number) {
  const calls: { state: AlertState | undefined; nextToken: string | undefined }[] = [];
  const fetchPage = async (state: AlertState | undefined, nextToken: string | undefined): Promise<AlertListBody> => {
    calls.push({ state, nextToken });
    const matching = alerts.filter((a) => state === undefined || a.state === state).sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
    const start = nextToken === undefined ? 0 : Number(nextToken);
    const page = matching.slice(start, start + pageSize);
    return start + pageSize < matching.length ? { alerts: page, nextToken: String(start + pageSize) } : { alerts: page };
  };
  return { fetchPage, calls };
}

describe('alert filters', () => {
  it('asks the server for ACTIVE and ACKNOWLEDGED when the open alerts are wanted', () => {
    expect(statesOf('open')).toEqual(['ACTIVE', 'ACKNOWLEDGED']);
    expect(statesOf('cleared')).toEqual(['CLEARED']);
    expect(statesOf('all')).toEqual([undefined]);
  });

  it('matches an alert by state group, severity and device', () => {
    const a = alert('a', 1, { state: 'ACKNOWLEDGED', severity: 'CRITICAL' });
    expect(matchesFilter(a, { state: 'open' })).toBe(true);
    expect(matchesFilter(a, { state: 'cleared' })).toBe(false);
    expect(matchesFilter(a, { state: 'all', severity: 'MINOR' })).toBe(false);
    expect(matchesFilter(a, { state: 'all', severity: 'CRITICAL', deviceId: 'sensor-1' })).toBe(true);
    expect(matchesFilter(a, { state: 'all', deviceId: 'sensor-2' })).toBe(false);
    expect(matchesFilter(alert('c', 1, { state: 'CLEARED' }), { state: 'open' })).toBe(false);
  });

  it('puts only the given filters and the page into the query string', () => {
    expect(alertsPath({ maxResults: 50 })).toBe('/api/alerts?maxResults=50');
    expect(alertsPath({ state: 'ACTIVE', severity: 'MINOR', deviceId: 'a b/c', maxResults: 10, nextToken: 't+1' })).toBe(
      '/api/alerts?state=ACTIVE&severity=MINOR&deviceId=a+b%2Fc&maxResults=10&nextToken=t%2B1',
    );
  });

  it('allows acknowledging only an active alert and clearing any alert not yet cleared', () => {
    expect(actionsFor('ACTIVE')).toEqual({ acknowledge: true, clear: true });
    expect(actionsFor('ACKNOWLEDGED')).toEqual({ acknowledge: false, clear: true });
    expect(actionsFor('CLEARED')).toEqual({ acknowledge: false, clear: false });
  });
});

describe('AlertPager', () => {
  it('merges two state queries into one newest-first sequence, page after page, without gaps or repeats', async () => {
    const alerts = [
      alert('a1', 100),
      alert('k1', 95, { state: 'ACKNOWLEDGED' }),
      alert('a2', 90),
      alert('a3', 80),
      alert('k2', 85, { state: 'ACKNOWLEDGED' }),
      alert('c1', 99, { state: 'CLEARED' }),
      alert('k3', 10, { state: 'ACKNOWLEDGED' }),
    ];
    const server = fakeServer(alerts, 2);
    const pager = new AlertPager(statesOf('open'), server.fetchPage);
    const first = await pager.next(3);
    expect(first.map((a) => a.id)).toEqual(['a1', 'k1', 'a2']);
    expect(pager.done).toBe(false);
    const rest = await pager.next(10);
    expect(rest.map((a) => a.id)).toEqual(['k2', 'a3', 'k3']);
    expect(pager.done).toBe(true);
    expect(await pager.next(5)).toEqual([]);
  });

  it('passes one query straight through, following the server nextToken', async () => {
    const server = fakeServer([alert('x', 3), alert('y', 2), alert('z', 1)], 2);
    const pager = new AlertPager(statesOf('all'), server.fetchPage);
    expect((await pager.next(2)).map((a) => a.id)).toEqual(['x', 'y']);
    expect((await pager.next(2)).map((a) => a.id)).toEqual(['z']);
    expect(server.calls).toEqual([
      { state: undefined, nextToken: undefined },
      { state: undefined, nextToken: '2' },
    ]);
    expect(pager.done).toBe(true);
  });

  it('orders alerts created at the same instant by id, as the server does', async () => {
    const server = fakeServer([alert('b', 5), alert('a', 5, { state: 'ACKNOWLEDGED' })], 5);
    const pager = new AlertPager(statesOf('open'), server.fetchPage);
    expect((await pager.next(5)).map((a) => a.id)).toEqual(['a', 'b']);
  });
});

describe('AlertList', () => {
  it('puts a new matching alert from the live feed at the top', () => {
    const list = new AlertList();
    list.merge([alert('old', 10), alert('older', 5)]);
    expect(list.apply(alert('new', 20), { state: 'open' }, false)).toEqual({ kind: 'inserted', index: 0 });
    expect(list.alerts.map((a) => a.id)).toEqual(['new', 'old', 'older']);
  });

  it('replaces a shown alert in place with its newer version, also when it no longer matches the filter', () => {
    const list = new AlertList();
    list.merge([alert('a', 10), alert('b', 5)]);
    const cleared = alert('b', 5, { state: 'CLEARED', updatedAt: 30, clearedAt: 30 });
    expect(list.apply(cleared, { state: 'open' }, false)).toEqual({ kind: 'updated', index: 1 });
    expect(list.get('b')?.state).toBe('CLEARED');
  });

  it('keeps the newer version when an older one arrives late', () => {
    const list = new AlertList();
    list.merge([alert('a', 10, { state: 'ACKNOWLEDGED', updatedAt: 20 })]);
    expect(list.apply(alert('a', 10, { updatedAt: 15 }), { state: 'all' }, true)).toEqual({ kind: 'ignored' });
    list.merge([alert('a', 10, { updatedAt: 12 })]);
    expect(list.get('a')?.state).toBe('ACKNOWLEDGED');
  });

  it('ignores a new alert that the filter excludes', () => {
    const list = new AlertList();
    list.merge([alert('a', 10)]);
    expect(list.apply(alert('b', 20, { severity: 'MINOR' }), { state: 'open', severity: 'CRITICAL' }, true)).toEqual({ kind: 'ignored' });
    expect(list.apply(alert('c', 20, { state: 'CLEARED' }), { state: 'open' }, true)).toEqual({ kind: 'ignored' });
    expect(list.alerts).toHaveLength(1);
  });

  it('leaves an alert older than the loaded pages to "Load more", unless every page is loaded', () => {
    const list = new AlertList();
    list.merge([alert('a', 100), alert('b', 90)]);
    expect(list.apply(alert('ancient', 1), { state: 'all' }, false)).toEqual({ kind: 'ignored' });
    expect(list.apply(alert('ancient', 1), { state: 'all' }, true)).toEqual({ kind: 'inserted', index: 2 });
    expect(list.apply(alert('middle', 95), { state: 'all' }, false)).toEqual({ kind: 'inserted', index: 1 });
  });

  it('keeps one row per alert when a page repeats an alert the live feed already added', () => {
    const list = new AlertList();
    list.apply(alert('live', 50, { updatedAt: 60, severity: 'CRITICAL' }), { state: 'open' }, false);
    list.merge([alert('live', 50, { updatedAt: 55 }), alert('paged', 40)]);
    expect(list.alerts.map((a) => [a.id, a.severity])).toEqual([
      ['live', 'CRITICAL'],
      ['paged', 'MAJOR'],
    ]);
  });
});
