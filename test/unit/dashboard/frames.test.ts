import { readingsFromFrame } from '../../../dashboard/src/frames.js';

describe('readingsFromFrame', () => {
  it('turns columnar data into per-row readings, x in seconds from the device ts', () => {
    const { readings, skipped } = readingsFromFrame({
      columns: ['__dt', 'deviceId', 'ts', 'seq', 'temperature', 'humidity', 'battery'],
      data: [
        [1_700_000_000_500, 1_700_000_001_500],
        ['sim-1', 'sim-2'],
        [1_700_000_000_000, 1_700_000_001_000],
        [1, 1],
        [21.5, 19.25],
        [45, 50.5],
        [99, 80],
      ],
    });
    expect(skipped).toBe(0);
    expect(readings).toEqual([
      { deviceId: 'sim-1', x: 1_700_000_000, seenAt: 1_700_000_000_500, temperature: 21.5, humidity: 45, battery: 99 },
      { deviceId: 'sim-2', x: 1_700_000_001, seenAt: 1_700_000_001_500, temperature: 19.25, humidity: 50.5, battery: 80 },
    ]);
  });

  it('falls back to __dt when there is no ts column and tolerates missing attributes', () => {
    const { readings } = readingsFromFrame({ columns: ['__dt', 'deviceId', 'temperature'], data: [[2000], ['d'], [20]] });
    expect(readings).toEqual([{ deviceId: 'd', x: 2, seenAt: 2000, temperature: 20, humidity: null, battery: null }]);
  });

  it('accepts ISO timestamps and ignores values of the wrong type', () => {
    const { readings } = readingsFromFrame({
      columns: ['__dt', 'deviceId', 'temperature', 'humidity'],
      data: [['1970-01-01T00:00:05.000Z'], ['d'], ['hot'], [null]],
    });
    expect(readings).toEqual([{ deviceId: 'd', x: 5, seenAt: 5000, temperature: null, humidity: null, battery: null }]);
  });

  it('skips and counts rows without a device id or any time', () => {
    const { readings, skipped } = readingsFromFrame({
      columns: ['__dt', 'deviceId', 'temperature'],
      data: [
        [1000, null, 3000],
        ['a', 'b', null],
        [1, 2, 3],
      ],
    });
    expect(readings.map((r) => r.deviceId)).toEqual(['a']);
    expect(skipped).toBe(2);
  });

  it('returns nothing for a frame without a deviceId column', () => {
    expect(readingsFromFrame({ columns: ['__dt', 'temperature'], data: [[1], [2]] })).toEqual({ readings: [], skipped: 1 });
  });
});
