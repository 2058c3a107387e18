// Data-quality alarms over a datastore's committed rows, per device (issue 6):
//   silent   no row from a device for `intervals` × expectedIntervalSeconds (checked by the timer);
//            the next row clears it. Only devices seen since the resource started are known.
//   flood    more than maxPerMinute rows from a device within one minute window (windows start at
//            a device's first row and follow each other); clears at the end of a window that
//            held at most maxPerMinute rows (the timer ends windows when rows stop).
//   flatline the same value (within `tolerance`) for `points` consecutive rows; a different
//            value clears it.
//   range    a value below min or above max (each such row updates the open alert); `clearAfter`
//            values inside the range clear it.
// Times are the rows' ingestion times (`__dt`), on the same clock as the timer's `now`.
import type { AlertSink } from './alert.js';
import type { AlertState, Monitor } from './monitors.js';
import { Alerter, deviceMonitor, newCounters } from './monitors.js';
import type { ResolvedDetectorResource } from './resource-definition.js';
import { SeriesMap } from './series.js';

const MINUTE_MS = 60_000;

type Sink = () => AlertSink | undefined;

export function qualityMonitor(spec: ResolvedDetectorResource, sink: Sink): Monitor {
  switch (spec.type) {
    case 'silent':
      return silentMonitor(spec, sink);
    case 'flood':
      return floodMonitor(spec, sink);
    case 'flatline':
      return flatlineMonitor(spec, sink);
    case 'range':
      return rangeMonitor(spec, sink);
    default:
      throw new Error(`not a data-quality alarm: ${spec.type}`);
  }
}

interface SilentState extends AlertState {
  last: number;
}

function silentMonitor(spec: ResolvedDetectorResource, sink: Sink): Monitor {
  const c = newCounters();
  const series = new SeriesMap<SilentState>(spec.maxDevices, () => ({ last: 0, active: undefined, ok: 0 }));
  const alerter = new Alerter(spec, sink, c, 'silent', 'silent');
  const limit = spec.intervals * spec.expectedIntervalMs;
  const check = (now: number): void => {
    for (const [device, st] of series.entries()) {
      if (st.active === true || now - st.last <= limit) continue;
      c.anomalies++;
      const seconds = Math.round((now - st.last) / 1000);
      alerter.raise(st, device, now, `no row from ${device || '(no device)'} for ${seconds} s (expected every ${spec.expectedIntervalMs / 1000} s)`);
    }
  };
  return deviceMonitor(spec, c, series, alerter, (st, device, _v, at) => {
    if (at > st.last) st.last = at;
    alerter.normal(st, device, at, 1);
  }, { everyRow: true, check });
}

interface FloodState extends AlertState {
  start: number;
  count: number;
}

function floodMonitor(spec: ResolvedDetectorResource, sink: Sink): Monitor {
  const c = newCounters();
  const series = new SeriesMap<FloodState>(spec.maxDevices, () => ({ start: Number.NaN, count: 0, active: undefined, ok: 0 }));
  const alerter = new Alerter(spec, sink, c, 'flood', 'flood');
  const max = spec.maxPerMinute;
  /** Ends the device's window when `t` lies past it; a window with at most `max` rows is normal. */
  const roll = (st: FloodState, device: string, t: number): void => {
    if (Number.isNaN(st.start)) {
      st.start = t;
      return;
    }
    if (t - st.start < MINUTE_MS) return;
    if (st.count <= max || t - st.start >= 2 * MINUTE_MS) {
      // a calm window, or the one after it already over and empty
      alerter.normal(st, device, t, 1);
    }
    st.start = t - st.start >= 2 * MINUTE_MS ? t : st.start + MINUTE_MS;
    st.count = 0;
  };
  return deviceMonitor(spec, c, series, alerter, (st, device, _v, at) => {
    roll(st, device, at);
    if (++st.count === max + 1) {
      c.anomalies++;
      alerter.raise(st, device, at, `more than ${max} rows within a minute from ${device || '(no device)'}`, st.count);
    }
  }, {
    everyRow: true,
    check(now) {
      for (const [device, st] of series.entries()) if (st.active !== false) roll(st, device, now);
    },
  });
}

interface FlatlineState extends AlertState {
  value: number;
  run: number;
}

function flatlineMonitor(spec: ResolvedDetectorResource, sink: Sink): Monitor {
  const c = newCounters();
  const series = new SeriesMap<FlatlineState>(spec.maxDevices, () => ({ value: Number.NaN, run: 0, active: undefined, ok: 0 }));
  const alerter = new Alerter(spec, sink, c, spec.attribute, 'flatline');
  const { points, tolerance, attribute } = spec;
  return deviceMonitor(spec, c, series, alerter, (st, device, v, at) => {
    if (Math.abs(v - st.value) <= tolerance) {
      st.run++;
    } else {
      st.value = v;
      st.run = 1;
    }
    if (st.run < points) {
      // a changed value ends a flatline at once; the first rows of a device clear a stale alert
      if (st.run === 1) alerter.normal(st, device, at, 1);
    } else if (st.run === points) {
      c.anomalies++;
      alerter.raise(st, device, at, `${attribute} stuck at ${st.value} for ${st.run} rows`, v);
    }
  });
}

function rangeMonitor(spec: ResolvedDetectorResource, sink: Sink): Monitor {
  const c = newCounters();
  const series = new SeriesMap<AlertState>(spec.maxDevices, () => ({ active: undefined, ok: 0 }));
  const alerter = new Alerter(spec, sink, c, spec.attribute, 'outOfRange');
  const { min, max, clearAfter, attribute } = spec;
  const bounds = `${Number.isFinite(min) ? min : '-∞'}..${Number.isFinite(max) ? max : '∞'}`;
  return deviceMonitor(spec, c, series, alerter, (st, device, v, at) => {
    if (v < min || v > max) {
      c.anomalies++;
      alerter.raise(st, device, at, `${attribute} = ${v} outside ${bounds}`, v);
    } else {
      alerter.normal(st, device, at, clearAfter);
    }
  });
}
