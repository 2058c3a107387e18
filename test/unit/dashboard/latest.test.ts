import type { DecodedRow } from '../../../dashboard/src/frames.js';
import { compareIds, LatestByDevice } from '../../../dashboard/src/latest.js';

function row(deviceId: string | null, at: number, values: Record<string, number> = {}): DecodedRow {
  return { deviceId, at, ts: at, values };
}

describe('LatestByDevice', () => {
  it('keeps the newest values per device and counts rows', () => {
    const latest = new LatestByDevice();
    latest.update([row('a', 1000, { temperature: 20, battery: 90 }), row('a', 2000, { temperature: 21 })]);
    expect(latest.get('a')).toEqual({ deviceId: 'a', values: { temperature: 21, battery: 90 }, lastSeen: 2000, rows: 2 });
  });

  it('does not let a late row overwrite a newer reading', () => {
    const latest = new LatestByDevice();
    latest.update([row('a', 2000, { temperature: 21 }), row('a', 1000, { temperature: 5 })]);
    expect(latest.get('a')).toMatchObject({ values: { temperature: 21 }, lastSeen: 2000, rows: 2 });
  });

  it('ignores rows without a device and moves its revision only on change', () => {
    const latest = new LatestByDevice();
    latest.update([row(null, 1000, { temperature: 1 })]);
    expect(latest.revision).toBe(0);
    latest.update([row('a', 1000)]);
    expect(latest.revision).toBe(1);
  });

  it('counts devices beyond its cap instead of storing them', () => {
    const latest = new LatestByDevice(2);
    latest.update([row('a', 1), row('b', 1), row('c', 1), row('c', 2)]);
    expect(latest.list().map((d) => d.deviceId)).toEqual(['a', 'b']);
    expect(latest.droppedDevices).toBe(1);
  });

  it('sorts device ids with numbers compared as numbers', () => {
    expect(['sim-10', 'sim-2', 'sim-1'].sort(compareIds)).toEqual(['sim-1', 'sim-2', 'sim-10']);
  });
});
