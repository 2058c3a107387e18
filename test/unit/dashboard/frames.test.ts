import type { LiveRowsFrame } from '../../../broker/contract.js';
import { decodeRows, filterFrameByDevice, metricColumns } from '../../../dashboard/src/frames.js';

const frame: LiveRowsFrame = {
  type: 'rows',
  datastore: 'telemetry_store',
  columns: ['__dt', 'deviceId', 'ts', 'seq', 'temperature', 'humidity', 'battery', 'status'],
  data: [
    [1_700_000_000_500, 1_700_000_001_500, 1_700_000_002_500],
    ['sim-1', 'sim-2', 'sim-1'],
    [1_700_000_000_000, 1_700_000_001_000, 1_700_000_002_000],
    [1, 1, 2],
    [21.5, 19.25, null],
    [45, 50.5, 46],
    [99, 80, 98],
    ['ok', 'ok', 'ok'],
  ],
  dropped: 0,
};

describe('metricColumns', () => {
  it('names the numeric measurement columns, leaving out times, sequence, text and decimation bounds', () => {
    expect(metricColumns(frame)).toEqual(['temperature', 'humidity', 'battery']);
    expect(metricColumns({ columns: ['__dt', 'temperature', 'temperature.min', 'temperature.max'], data: [[1], [2], [1], [3]] })).toEqual(['temperature']);
  });

  it('leaves out a column with no number in any row', () => {
    expect(metricColumns({ columns: ['__dt', 'humidity'], data: [[1, 2], [null, null]] })).toEqual([]);
  });
});

describe('decodeRows', () => {
  it('gives each row its device, ingestion time, device time and numeric values', () => {
    const { rows, metrics, skipped } = decodeRows(frame);
    expect(skipped).toBe(0);
    expect(metrics).toEqual(['temperature', 'humidity', 'battery']);
    expect(rows[0]).toEqual({ deviceId: 'sim-1', at: 1_700_000_000_500, ts: 1_700_000_000_000, values: { temperature: 21.5, humidity: 45, battery: 99 } });
    // a null value is absent, not zero
    expect(rows[2].values).toEqual({ humidity: 46, battery: 98 });
  });

  it('falls back to ts when there is no __dt and accepts ISO times', () => {
    const { rows } = decodeRows({ columns: ['ts', 'temperature'], data: [['1970-01-01T00:00:05.000Z'], [20]] });
    expect(rows).toEqual([{ deviceId: null, at: 5000, ts: 5000, values: { temperature: 20 } }]);
  });

  it('skips and counts rows without any time', () => {
    const { rows, skipped } = decodeRows({ columns: ['__dt', 'deviceId', 'temperature'], data: [[1000, null], ['a', 'b'], [1, 2]] });
    expect(rows.map((r) => r.deviceId)).toEqual(['a']);
    expect(skipped).toBe(1);
  });
});

describe('filterFrameByDevice', () => {
  it('keeps only the rows of the device, every column cut alike', () => {
    const only = filterFrameByDevice(frame, 'sim-1');
    expect(only?.data[1]).toEqual(['sim-1', 'sim-1']);
    expect(only?.data[4]).toEqual([21.5, null]);
    expect(only?.columns).toEqual(frame.columns);
  });

  it('returns null when none of the rows are the device’s, or the frame has no deviceId column', () => {
    expect(filterFrameByDevice(frame, 'sim-9')).toBeNull();
    expect(filterFrameByDevice({ ...frame, columns: ['__dt'], data: [[1]] }, 'sim-1')).toBeNull();
  });

  it('returns the frame itself when every row is the device’s', () => {
    const single = filterFrameByDevice(frame, 'sim-2')!;
    expect(filterFrameByDevice(single, 'sim-2')).toBe(single);
  });
});
