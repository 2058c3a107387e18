// Wire types shared with devices-sim/ and dashboard/ (they import this file for types only,
// never anything at run time). Changing a shape here is changing a public API: document it in
// README.md.
import type { Alert, AlertEventKind } from '../analytics/index.js';

/** The telemetry document the simulator's environmental profile publishes on
 * `devices/<deviceId>/telemetry` and the demo configuration stores. */
export interface TelemetryPayload {
  deviceId: string;
  /** epoch ms at which the device produced the reading (used for publish-to-row latency) */
  ts: number;
  seq: number;
  temperature: number;
  humidity: number;
  battery: number;
}

/** Frames the server sends on the live WebSocket (`/api/live`). JSON text frames. */
export type LiveServerFrame = LiveHelloFrame | LiveRowsFrame | LiveAlertFrame;

export interface LiveHelloFrame {
  type: 'hello';
  /** datastores that can be subscribed to */
  datastores: string[];
}

/**
 * New rows of one datastore, columnar: `columns[i]` names the attribute whose values, one per
 * row, are `data[i]`. Rows are in commit order. `__dt` (epoch ms of ingestion) is always the
 * first column. A slow client gets several commits coalesced into one frame; when its buffer is
 * full, the oldest rows are dropped and counted in `dropped` (rows lost for this client since the
 * previous frame).
 */
export interface LiveRowsFrame {
  type: 'rows';
  datastore: string;
  columns: string[];
  data: (number | string | boolean | null)[][];
  dropped: number;
}

/**
 * An alert was opened, escalated (its severity rose), acknowledged or cleared; every client gets
 * these, without subscribing. Repeated raises of an open alert are not sent (GET /api/alerts has
 * the latest occurrences). `dropped` counts alert frames this client lost (its buffer was full)
 * since the previous alert frame.
 */
export interface LiveAlertFrame {
  type: 'alert';
  event: AlertEventKind;
  alert: Alert;
  dropped: number;
}

/** Frames the browser may send. */
export type LiveClientFrame = { type: 'subscribe'; datastore: string } | { type: 'unsubscribe'; datastore: string };

/** Body of `<data dir>/ports.json`, written once the server listens. */
export interface PortsFile {
  mqtt: number;
  /** MQTT over TLS (device certificates) */
  mqtts: number;
  http: number;
  pid: number;
}

/** `POST /api/datasets/{name}/run` answers with the dataset's result. */
export type { DatasetResult } from '../analytics/index.js';

/** An alert as `GET /api/alerts` and the live feed give it (analytics/anomaly/alert.ts; times epoch ms). */
export type { Alert, AlertEventKind, AlertSeverity, AlertState } from '../analytics/index.js';

/** `GET /api/alerts` */
export interface AlertListBody {
  alerts: Alert[];
  nextToken?: string;
}

/** The JSON published on `iotcore/alerts/<source>/<deviceId>`: the alert's members plus what happened. */
export type AlertMessage = Alert & { eventType: AlertEventKind };

/** `GET /api/datasets` */
export interface DatasetListBody {
  datasets: string[];
}

/** Coded error body of our own `/api/` routes. */
export interface ApiErrorBody {
  code: string;
  message: string;
}
