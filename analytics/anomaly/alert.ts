// The contract between what raises alerts (detector resources, data-quality alarms) and the alert
// store (lifecycle, persistence, API, MQTT and live fan-out). Alerts follow the IoT Events alarm /
// ThingsBoard lifecycle: ACTIVE → ACKNOWLEDGED → CLEARED, or ACTIVE → CLEARED; a cleared alert is
// history. While a condition persists there is one alert for it, not one per point.

export type AlertSeverity = 'CRITICAL' | 'MAJOR' | 'MINOR' | 'WARNING' | 'INDETERMINATE';
export type AlertState = 'ACTIVE' | 'ACKNOWLEDGED' | 'CLEARED';

/** What identifies one condition: a second raise with the same key updates the open alert. */
export interface AlertKey {
  /** the detector resource or data-quality alarm that raised it */
  source: string;
  /** the device (thing name / client id / the row's device attribute) */
  deviceId: string;
  /** the metric (datastore column or attribute), or the alarm kind for data-quality alarms */
  metric: string;
}

export interface AlertRaise extends AlertKey {
  severity: AlertSeverity;
  /** e.g. 'anomaly', 'silent', 'flood', 'flatline', 'outOfRange' */
  type: string;
  message: string;
  /** the value and score that raised (or last updated) it, when there is one */
  value?: number;
  score?: number;
  /** epoch ms of the point or check that raised it */
  at: number;
}

export interface Alert extends AlertRaise {
  id: string;
  state: AlertState;
  /** epoch ms */
  createdAt: number;
  updatedAt: number;
  acknowledgedAt?: number;
  clearedAt?: number;
  /** how many raises the alert absorbed while open (1 = only the first) */
  occurrences: number;
  note?: string;
}

/** What raisers call; the store decides whether a raise opens an alert or updates the open one. */
export interface AlertSink {
  raise(alert: AlertRaise): void;
  /** the condition is over: the open alert of this key (if any) becomes CLEARED */
  resolve(key: AlertKey, at: number): void;
}
