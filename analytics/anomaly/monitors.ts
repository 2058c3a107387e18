// Running detector resources over a datastore's committed rows: the shared machinery (reading a
// row's device, value and time; raising and resolving alerts with per-device state) and the
// anomaly monitor. The data-quality alarms are in quality.ts.
//
// Alert discipline, for every kind: a device's condition opens one alert (the store dedupes on
// {source: detectorName, deviceId, metric}); it clears after `clearAfter` normal points. A device
// whose state is new (first row since the resource was put, or since a restart) sends one resolve
// on its first normal evaluation, so an alert left open by an earlier run of the resource clears
// too (resolving a key with no open alert changes nothing in the store).
import type { AlertSink } from './alert.js';
import type { Detector } from './detector.js';
import type { ResolvedDetectorResource } from './resource-definition.js';
import { SeriesMap } from './series.js';
import { deviceKey } from './spec.js';
import { getKey } from '../pipelines/paths.js';

export interface MonitorCounters {
  /** rows of the datastore the resource looked at */
  rows: number;
  /** rows evaluated (anomaly, flatline, range: with a finite numeric value) */
  points: number;
  /** rows without a finite numeric value in the attribute (skipped) */
  skippedRows: number;
  /** points found anomalous / out of range / flat, and silent or flooding checks that fired */
  anomalies: number;
  /** alerts opened (a condition starting, not each point while it lasts) */
  alertsRaised: number;
  alertsCleared: number;
  /** devices tracked now, and devices forgotten to stay within maxDevices */
  devices: number;
  evictedDevices: number;
  /** raises and resolves that had no alert sink to go to, or that the sink refused by throwing */
  undeliveredAlerts: number;
}

export interface Monitor {
  readonly spec: ResolvedDetectorResource;
  /** rows of spec.datastoreName as committed, in commit order */
  onRows(rows: readonly Record<string, unknown>[], committedAt: number): void;
  /** periodic check (silent devices, flood windows that ended); `now` in epoch ms */
  check(now: number): void;
  /** the resource is going away: its open alerts clear */
  resolveAll(at: number): void;
  counters(): MonitorCounters;
}

/** The per-device alert state every monitor keeps (as part of its own device state). */
export interface AlertState {
  /** undefined: not known yet (see the file comment) */
  active: boolean | undefined;
  /** consecutive normal points while active */
  ok: number;
}

export function newCounters(): MonitorCounters {
  return { rows: 0, points: 0, skippedRows: 0, anomalies: 0, alertsRaised: 0, alertsCleared: 0, devices: 0, evictedDevices: 0, undeliveredAlerts: 0 };
}

/** Raises and resolves one resource's alerts, keeping the counters. */
export class Alerter {
  constructor(
    private readonly spec: ResolvedDetectorResource,
    private readonly sink: () => AlertSink | undefined,
    private readonly c: MonitorCounters,
    /** the alert key's metric: the column, or the alarm kind for silent and flood */
    private readonly metric: string,
    /** the alert's type: anomaly, silent, flood, flatline, outOfRange */
    private readonly type: string,
  ) {}

  raise(st: AlertState, deviceId: string, at: number, message: string, value?: number, score?: number): void {
    st.ok = 0;
    if (st.active !== true) {
      st.active = true;
      this.c.alertsRaised++;
    }
    const sink = this.sink();
    if (!sink) {
      this.c.undeliveredAlerts++;
      return;
    }
    const alert = { source: this.spec.name, deviceId, metric: this.metric, severity: this.spec.severity, type: this.type, message, at, ...(value === undefined ? {} : { value }), ...(score === undefined ? {} : { score }) };
    try {
      sink.raise(alert);
    } catch {
      this.c.undeliveredAlerts++;
    }
  }

  /** A normal point (or check): clears the alert after `clearAfter` of them in a row. */
  normal(st: AlertState, deviceId: string, at: number, clearAfter: number): void {
    if (st.active === false) return;
    if (++st.ok < clearAfter) return;
    if (st.active === true) this.c.alertsCleared++;
    st.active = false;
    st.ok = 0;
    const sink = this.sink();
    if (!sink) {
      this.c.undeliveredAlerts++;
      return;
    }
    try {
      sink.resolve({ source: this.spec.name, deviceId, metric: this.metric }, at);
    } catch {
      this.c.undeliveredAlerts++;
    }
  }

  /** Clears every open alert of the given devices (the resource is deleted). */
  clearAll(states: Iterable<[string, AlertState]>, at: number): void {
    for (const [device, st] of states) if (st.active === true) this.normal(st, device, at, 1);
  }
}

/** Reads what the monitors need from a stored row: the device, the value, the ingestion time. */
export function rowReader(spec: ResolvedDetectorResource) {
  const { deviceAttribute, attribute } = spec;
  return {
    device: (row: Record<string, unknown>): string => deviceKey(getKey(row, deviceAttribute)),
    /** the attribute's value when it is a finite number, else undefined */
    value: (row: Record<string, unknown>): number | undefined => {
      const v = getKey(row, attribute);
      return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
    },
    /** `__dt`, the row's ingestion time (epoch ms) */
    time: (row: Record<string, unknown>, committedAt: number): number => {
      const t = row.__dt;
      return typeof t === 'number' ? t : committedAt;
    },
  };
}

interface AnomalyState extends AlertState {
  detector: Detector;
}

/**
 * What every per-device monitor shares: one pass over each commit's rows handing `onRow` the
 * device's state, the row's value and time; resolve-all and counters. With `everyRow` (silent,
 * flood) each row counts and `value` is NaN; otherwise rows without a finite value of the
 * attribute are skipped (counted). `check` runs on the resources' timer.
 */
export function deviceMonitor<S extends AlertState>(
  spec: ResolvedDetectorResource,
  c: MonitorCounters,
  series: SeriesMap<S>,
  alerter: Alerter,
  onRow: (st: S, device: string, value: number, at: number) => void,
  options: { everyRow?: boolean; check?: (now: number) => void } = {},
): Monitor {
  const read = rowReader(spec);
  const everyRow = options.everyRow === true;
  return {
    spec,
    onRows(rows, committedAt) {
      for (const row of rows) {
        c.rows++;
        const v = everyRow ? Number.NaN : read.value(row);
        if (v === undefined) {
          c.skippedRows++;
          continue;
        }
        c.points++;
        const device = read.device(row);
        onRow(series.get(device), device, v, read.time(row, committedAt));
      }
    },
    check: options.check ?? (() => {}),
    resolveAll(at) {
      alerter.clearAll(series.entries(), at);
    },
    counters: () => ({ ...c, devices: series.size, evictedDevices: series.evicted }),
  };
}

/** Scores `attribute` per device; a score at or above the threshold raises (each such point
 * updates the open alert with its value and score), `clearAfter` points below it clear. */
export function anomalyMonitor(spec: ResolvedDetectorResource, sink: () => AlertSink | undefined): Monitor {
  const c = newCounters();
  const make = spec.make!;
  const series = new SeriesMap<AnomalyState>(spec.maxDevices, () => ({ detector: make(), active: undefined, ok: 0 }));
  const alerter = new Alerter(spec, sink, c, spec.attribute, 'anomaly');
  const { threshold, clearAfter, attribute } = spec;
  return deviceMonitor(spec, c, series, alerter, (st, device, v, at) => {
    const score = st.detector.update(v, at);
    if (score >= threshold) {
      c.anomalies++;
      alerter.raise(st, device, at, `${attribute} = ${v} scored ${score.toFixed(3)} (threshold ${threshold})`, v, score);
    } else {
      alerter.normal(st, device, at, clearAfter);
    }
  });
}
