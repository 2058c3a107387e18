import type { Reading } from '../../../dashboard/src/frames.js';
import { compareIds, LatestByDevice } from '../../../dashboard/src/latest.js';

function reading(deviceId: string, seenAt: number, values: Partial<Reading> = {}): Reading {
  return { deviceId, x: seenAt / 1000, seenAt, temperature: 20, humidity: 50, battery: 90, ...values };
}

describe('LatestByDevice', () => {
  it('keeps the newest reading per device and counts rows', () => {
    const latest = new LatestByDevice();
    latest.update([reading('a', 1000, { temperature: 20 }), reading('a', 2000, { temperature: 21 })]);
    expect(latest.list()).toEqual([{ deviceId: 'a', temperature: 21, humidity: 50, battery: 90, lastSeen: 2000, rows: 2 }]);
  });

  it('does not let a late row overwrite a newer reading', () => {
    const latest = new LatestByDevice();
    latest.update([reading('a', 2000, { temperature: 21 }), reading('a', 1000, { temperature: 5 })]);
    expect(latest.list()[0]).toMatchObject({ temperature: 21, lastSeen: 2000, rows: 2 });
  });

  it('keeps the previous value of an attribute a row lacks', () => {
    const latest = new LatestByDevice();
    latest.update([reading('a', 1000, { battery: 77 }), reading('a', 2000, { battery: null })]);
    expect(latest.list()[0].battery).toBe(77);
  });

  it('sorts device ids with numbers compared as numbers', () => {
    const latest = new LatestByDevice();
    latest.update(['sim-10', 'sim-2', 'sim-1'].map((id) => reading(id, 1000)));
    expect(latest.list().map((d) => d.deviceId)).toEqual(['sim-1', 'sim-2', 'sim-10']);
    expect(compareIds('b', 'a')).toBeGreaterThan(0);
  });

  it('stores at most maxDevices devices and counts the rest', () => {
    const latest = new LatestByDevice(2);
    latest.update(['a', 'b', 'c', 'd', 'c'].map((id) => reading(id, 1000)));
    expect(latest.list().map((d) => d.deviceId)).toEqual(['a', 'b']);
    expect(latest.droppedDevices).toBe(2);
  });

  it('advances its revision only when rows arrive', () => {
    const latest = new LatestByDevice();
    const before = latest.revision;
    latest.update([]);
    expect(latest.revision).toBe(before);
    latest.update([reading('a', 1)]);
    expect(latest.revision).toBe(before + 1);
  });
});
