// Per-device temperature series for the live chart, kept bounded (points per device, a time
// window, a number of devices) and ordered by x, and turned into uPlot's aligned columnar data:
// `[xs, ys_device1, ys_device2, ...]` with null where a device has no point at that x.

import type { Reading } from './frames.js';

export interface SeriesLimits {
  /** devices charted; later devices are counted in `droppedDevices`, not drawn */
  maxDevices: number;
  /** points kept per device; the oldest go first */
  maxPointsPerDevice: number;
  /** seconds of history kept, relative to the newest x seen (not the browser's clock, which may be skewed) */
  windowS: number;
}

export const DEFAULT_SERIES_LIMITS: SeriesLimits = { maxDevices: 20, maxPointsPerDevice: 1200, windowS: 300 };

export type AlignedSeries = [number[], ...(number | null)[][]];

interface DeviceSeries {
  xs: number[];
  ys: number[];
}

export class SeriesStore {
  private readonly names: string[] = [];
  private readonly byDevice = new Map<string, DeviceSeries>();
  private readonly overflowDevices = new Set<string>();
  private newestX = Number.NEGATIVE_INFINITY;
  private changed = false;
  /** points removed because a device exceeded maxPointsPerDevice */
  droppedPoints = 0;

  constructor(private readonly limits: SeriesLimits = DEFAULT_SERIES_LIMITS) {}

  /** Device ids in series order (the order they first appeared). */
  get deviceIds(): readonly string[] {
    return this.names;
  }

  /** Devices seen but not charted because maxDevices was reached. */
  get droppedDevices(): number {
    return this.overflowDevices.size;
  }

  /** True once since the last `toAligned()` when something changed. */
  get dirty(): boolean {
    return this.changed;
  }

  add(readings: readonly Reading[]): void {
    for (const reading of readings) {
      if (reading.temperature === null) continue;
      const series = this.seriesFor(reading.deviceId);
      if (!series) continue;
      insertOrdered(series, reading.x, reading.temperature);
      if (reading.x > this.newestX) this.newestX = reading.x;
      this.changed = true;
    }
    if (this.changed) this.trim();
  }

  private seriesFor(deviceId: string): DeviceSeries | undefined {
    const existing = this.byDevice.get(deviceId);
    if (existing) return existing;
    if (this.names.length >= this.limits.maxDevices) {
      // The Set is bounded by what the feed sends; cap it too so a flood of ids cannot grow it.
      if (this.overflowDevices.size < 100_000) this.overflowDevices.add(deviceId);
      return undefined;
    }
    const created: DeviceSeries = { xs: [], ys: [] };
    this.byDevice.set(deviceId, created);
    this.names.push(deviceId);
    return created;
  }

  private trim(): void {
    const oldestKept = this.newestX - this.limits.windowS;
    for (const series of this.byDevice.values()) {
      let cut = 0;
      while (cut < series.xs.length && series.xs[cut] < oldestKept) cut++;
      const overCap = series.xs.length - cut - this.limits.maxPointsPerDevice;
      if (overCap > 0) {
        this.droppedPoints += overCap;
        cut += overCap;
      }
      if (cut > 0) {
        series.xs.splice(0, cut);
        series.ys.splice(0, cut);
      }
    }
  }

  /** uPlot aligned data: the union of all devices' xs (ascending, distinct), one y column per device. */
  toAligned(): AlignedSeries {
    this.changed = false;
    const all = this.names.map((name) => this.byDevice.get(name) as DeviceSeries);
    const heads = new Array<number>(all.length).fill(0);
    const xs: number[] = [];
    const columns: (number | null)[][] = all.map(() => []);
    // k-way merge of the per-device sorted xs: O(points x devices), devices <= maxDevices.
    for (;;) {
      let nextX = Number.POSITIVE_INFINITY;
      for (let d = 0; d < all.length; d++) {
        const x = all[d].xs[heads[d]];
        if (x !== undefined && x < nextX) nextX = x;
      }
      if (nextX === Number.POSITIVE_INFINITY) break;
      xs.push(nextX);
      for (let d = 0; d < all.length; d++) {
        const series = all[d];
        if (series.xs[heads[d]] === nextX) {
          // Several points of one device at the same x: the chart shows the last one.
          while (series.xs[heads[d]] === nextX) heads[d]++;
          columns[d].push(series.ys[heads[d] - 1]);
        } else {
          columns[d].push(null);
        }
      }
    }
    return [xs, ...columns];
  }
}

/** Appends in the common case (x not older than the last point); otherwise inserts in order. */
function insertOrdered(series: DeviceSeries, x: number, y: number): void {
  const { xs, ys } = series;
  if (xs.length === 0 || x >= xs[xs.length - 1]) {
    xs.push(x);
    ys.push(y);
    return;
  }
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  xs.splice(lo, 0, x);
  ys.splice(lo, 0, y);
}
