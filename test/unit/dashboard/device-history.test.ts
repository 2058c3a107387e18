import { describeWindow, historyPath, liveWindow, panWindow, pointsForWidth, RANGE_PRESETS } from '../../../dashboard/src/views/device-history.js';

describe('device history windows', () => {
  it('asks for one device’s window decimated to the chart width, the device id escaped', () => {
    const path = historyPath('plant a/1', { datastore: 'telemetry_store', from: 1000.4, to: 61000.2, points: 800 });
    const url = new URL(path, 'http://x');
    expect(url.pathname).toBe('/api/devices/plant%20a%2F1/history');
    expect(Object.fromEntries(url.searchParams)).toEqual({ datastore: 'telemetry_store', from: '1000', to: '61001', points: '800' });
  });

  it('wants about one point per pixel, within what the server allows', () => {
    expect(pointsForWidth(1234.4)).toBe(1234);
    expect(pointsForWidth(20)).toBe(50);
    expect(pointsForWidth(50_000)).toBe(10_000);
    expect(pointsForWidth(0)).toBe(1000);
    expect(pointsForWidth(Number.NaN)).toBe(1000);
  });

  it('offers the presets 15 min, 1 h, 24 h and 7 d', () => {
    expect(RANGE_PRESETS.map((p) => [p.id, p.ms])).toEqual([
      ['15m', 900_000],
      ['1h', 3_600_000],
      ['24h', 86_400_000],
      ['7d', 604_800_000],
    ]);
    expect(liveWindow(900_000, 1_000_000)).toEqual({ from: 100_000, to: 1_000_000 });
  });

  it('pans by half the window, and a pan past now is the live window again', () => {
    const now = 10_000;
    expect(panWindow({ from: 4000, to: 8000 }, -1, now)).toEqual({ from: 2000, to: 6000, live: false });
    expect(panWindow({ from: 2000, to: 6000 }, 1, now)).toEqual({ from: 4000, to: 8000, live: false });
    expect(panWindow({ from: 6000, to: 10_000 }, 1, now)).toEqual({ from: 6000, to: 10_000, live: true });
    expect(panWindow({ from: 5000, to: 9000 }, 1, now)).toEqual({ from: 6000, to: 10_000, live: true });
  });

  it('describes a window by times, with dates when it spans days', () => {
    const text = (ms: number, withDate: boolean) => `${withDate ? 'D' : ''}${ms}`;
    expect(describeWindow({ from: 0, to: 60_000 }, text)).toBe('0 – 60000');
    expect(describeWindow({ from: 0, to: 86_400_000 }, text)).toBe('D0 – D86400000');
  });
});
