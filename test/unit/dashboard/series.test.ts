import type { DecodedRow } from '../../../dashboard/src/frames.js';
import { MetricSeries } from '../../../dashboard/src/series.js';

function row(at: number, values: Record<string, number>): DecodedRow {
  return { deviceId: 'd', at, ts: at, values };
}

describe('MetricSeries', () => {
  it('holds one x column and one column per metric, null where a row lacks the metric', () => {
    const series = new MetricSeries();
    series.add([row(1000, { temperature: 20 }), row(2000, { temperature: 21, battery: 90 })]);
    expect(series.metrics).toEqual(['temperature', 'battery']);
    expect(series.columnOf('temperature')).toEqual([[1000, 2000], [20, 21]]);
    expect(series.columnOf('battery')).toEqual([[1000, 2000], [null, 90]]);
    expect(series.countOf('battery')).toBe(1);
  });

  it('keeps x ascending when an older row arrives late', () => {
    const series = new MetricSeries();
    series.add([row(1000, { t: 1 }), row(3000, { t: 3 }), row(2000, { t: 2 })]);
    expect(series.columnOf('t')).toEqual([[1000, 2000, 3000], [1, 2, 3]]);
  });

  it('skips a row it already holds (refetched history overlapping live rows)', () => {
    const series = new MetricSeries();
    series.add([row(1000, { t: 1 }), row(2000, { t: 2 })]);
    expect(series.add([row(2000, { t: 2 }), row(2500, { t: 2.5 })])).toBe(1);
    expect(series.columnOf('t')[0]).toEqual([1000, 2000, 2500]);
    // same x, other values: a distinct row
    expect(series.add([row(2500, { t: 9 })])).toBe(1);
    expect(series.length).toBe(4);
  });

  it('slides the window and caps the points, oldest first', () => {
    const series = new MetricSeries(3);
    series.add([1, 2, 3, 4, 5].map((i) => row(i * 1000, { t: i })));
    expect(series.columnOf('t')).toEqual([[3000, 4000, 5000], [3, 4, 5]]);
    expect(series.droppedPoints).toBe(2);
    series.trimBefore(4500);
    expect(series.columnOf('t')).toEqual([[5000], [5]]);
    expect(series.firstX).toBe(5000);
    expect(series.lastX).toBe(5000);
  });

  it('reports a change once, and keeps its metrics when cleared', () => {
    const series = new MetricSeries();
    series.add([row(1, { t: 1 })]);
    expect(series.takeDirty()).toBe(true);
    expect(series.takeDirty()).toBe(false);
    series.clear();
    expect(series.takeDirty()).toBe(true);
    expect(series.metrics).toEqual(['t']);
    expect(series.columnOf('t')).toEqual([[], []]);
  });

  it('hands out copies, so a chart holding them does not see later changes', () => {
    const series = new MetricSeries();
    series.add([row(1, { t: 1 })]);
    const [xs] = series.columnOf('t');
    series.add([row(2, { t: 2 })]);
    expect(xs).toEqual([1]);
  });
});
