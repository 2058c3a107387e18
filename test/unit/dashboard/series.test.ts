import type { Reading } from '../../../dashboard/src/frames.js';
import { SeriesStore } from '../../../dashboard/src/series.js';

function reading(deviceId: string, x: number, temperature: number | null): Reading {
  return { deviceId, x, seenAt: x * 1000, temperature, humidity: null, battery: null };
}

describe('SeriesStore', () => {
  it('aligns devices on the union of their x values with null where a device has no point', () => {
    const store = new SeriesStore({ maxDevices: 20, maxPointsPerDevice: 100, windowS: 300 });
    store.add([reading('a', 10, 1), reading('b', 11, 5), reading('a', 12, 2), reading('b', 12, 6)]);
    expect(store.deviceIds).toEqual(['a', 'b']);
    expect(store.toAligned()).toEqual([
      [10, 11, 12],
      [1, null, 2],
      [null, 5, 6],
    ]);
  });

  it('keeps each device ordered by x even when a row arrives late', () => {
    const store = new SeriesStore({ maxDevices: 20, maxPointsPerDevice: 100, windowS: 300 });
    store.add([reading('a', 10, 1), reading('a', 30, 3), reading('a', 20, 2), reading('a', 5, 0)]);
    expect(store.toAligned()).toEqual([
      [5, 10, 20, 30],
      [0, 1, 2, 3],
    ]);
  });

  it('drops points older than the window, measured from the newest x', () => {
    const store = new SeriesStore({ maxDevices: 20, maxPointsPerDevice: 100, windowS: 60 });
    store.add([reading('a', 0, 1), reading('b', 30, 2)]);
    store.add([reading('a', 100, 3)]);
    expect(store.toAligned()).toEqual([[100], [3], [null]]);
  });

  it('bounds points per device and counts what it drops', () => {
    const store = new SeriesStore({ maxDevices: 20, maxPointsPerDevice: 3, windowS: 1e9 });
    store.add([1, 2, 3, 4, 5].map((x) => reading('a', x, x * 10)));
    expect(store.toAligned()).toEqual([
      [3, 4, 5],
      [30, 40, 50],
    ]);
    expect(store.droppedPoints).toBe(2);
  });

  it('charts at most maxDevices devices, in order of appearance, and counts the others', () => {
    const store = new SeriesStore({ maxDevices: 2, maxPointsPerDevice: 10, windowS: 300 });
    store.add([reading('c', 1, 1), reading('a', 1, 2), reading('b', 1, 3), reading('d', 2, 4), reading('b', 3, 5)]);
    expect(store.deviceIds).toEqual(['c', 'a']);
    expect(store.droppedDevices).toBe(2);
    expect(store.toAligned()).toEqual([[1], [1], [2]]);
  });

  it('ignores readings without a temperature and reports whether anything changed', () => {
    const store = new SeriesStore();
    store.add([reading('a', 1, null)]);
    expect(store.dirty).toBe(false);
    expect(store.deviceIds).toEqual([]);
    store.add([reading('a', 2, 20)]);
    expect(store.dirty).toBe(true);
    store.toAligned();
    expect(store.dirty).toBe(false);
  });

  it('shows the last value when one device has several points at the same x', () => {
    const store = new SeriesStore();
    store.add([reading('a', 1, 1), reading('a', 1, 2), reading('b', 1, 7)]);
    expect(store.toAligned()).toEqual([[1], [2], [7]]);
  });
});
