// Wire types shared with devices-sim/ and dashboard/ (they import this file for types only,
// never anything at run time). Changing a shape here is changing a public API: document it in
// README.md.
import type { Alert, AlertEventKind, HistoryResult, PipelineCountersSnapshot } from '../analytics/index.js';

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
export type LiveServerFrame = LiveHelloFrame | LiveRowsFrame | LiveAlertFrame | LiveDatasetFrame | LiveErrorFrame;

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
  /** rows left out by the subscription's `maxRowsPerFrame` (absent or 0 when none) */
  decimated?: number;
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

/**
 * A dataset produced new content (a scheduled or triggered run, CreateDatasetContent, or the
 * dashboard's run), or failed to; every client gets these without subscribing, so an open
 * dashboard shows new content without a reload.
 */
export interface LiveDatasetFrame {
  type: 'dataset';
  datasetName: string;
  versionId: string;
  state: 'SUCCEEDED' | 'FAILED';
  /** epoch ms */
  completedAt: number;
  /** FAILED: why */
  reason?: string;
}

/** The server refused a client frame (malformed, unknown datastore). */
export interface LiveErrorFrame {
  type: 'error';
  code: string;
  message: string;
}

/**
 * Frames the browser may send. A subscription is per datastore; a second subscribe to the same
 * datastore replaces the first one's options.
 * - `deviceId`: only rows whose `deviceId` attribute equals it (the device view);
 * - `maxRowsPerFrame`: when more rows are pending for this client than this (a chart's width in
 *   pixels, say), the server decimates them evenly to about this many, keeping each device's newest
 *   row, and counts the rows left out in the frame's `decimated`.
 */
export type LiveClientFrame =
  | { type: 'subscribe'; datastore: string; deviceId?: string; maxRowsPerFrame?: number }
  | { type: 'unsubscribe'; datastore: string };

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

// ---- Operator sign-in (README "Operators and sign-in") ----
// POST   /api/session {username, password} → 200 SessionBody, Set-Cookie: iotcore_session=<token>;
//        HttpOnly; SameSite=Strict; Path=/ | 401 InvalidCredentials | 429 TooManyRequestsException
// GET    /api/session → 200 SessionBody | 401
// DELETE /api/session → 204 (signs this session out)
// The session cookie is accepted on every /api/ route, the AWS-compatible routes and the
// /api/live WebSocket, in place of SigV4. Nothing but /health, /metrics, the dashboard's static
// files, POST /api/session and signed dataset-content URLs answers without one of the two.

/** The cookie holding an operator's session token. */
export type SessionCookieName = 'iotcore_session';

export interface SessionBody {
  username: string;
  /** epoch ms at which the session ends unless used before (idle timeout) or at the latest */
  expiresAt: number;
}

/** `GET /api/operators` */
export interface OperatorListBody {
  operators: { username: string; createdAt: number }[];
}

/** One line of `<dataDir>/audit.jsonl`: who changed what, when (README "Security"). Never a body or a secret. */
export interface AuditEntry {
  /** ISO 8601 */
  at: string;
  /** a signed-in operator, the verified SigV4 access key id, nobody (refused or open requests), or the configuration file */
  who: { kind: 'operator' | 'accessKey' | 'anonymous' | 'config'; name?: string };
  /** `signIn` (with `outcome`) and `applyConfiguration`; other requests are named by method and route */
  action?: string;
  outcome?: string;
  sourceIp?: string;
  method?: string;
  /** the route pattern, e.g. `/things/:thingName` */
  route?: string;
  /** the path parameters, e.g. `{"thingName": "lamp-1"}` */
  target?: Record<string, string>;
  /** the HTTP status answered */
  status?: number;
}

/** `GET /api/audit`: the latest entries, newest first. */
export interface AuditListBody {
  entries: AuditEntry[];
}

// ---- Fleet, history, rules and pipeline status (for the dashboard) ----

/** `GET /api/fleet`: every registered thing and every client seen since start, by name. */
export interface FleetBody {
  /** epoch ms the snapshot was taken */
  generatedAt: number;
  devices: FleetDevice[];
}

/** `GET /api/fleet/{name}`: one device, as it appears in FleetBody. */
export interface FleetDeviceBody {
  /** epoch ms the snapshot was taken */
  generatedAt: number;
  device: FleetDevice;
}

export interface FleetDevice {
  /** the thing name (= MQTT client id, as at AWS) */
  thingName: string;
  /** a thing in the registry (false: a client that connected without one, e.g. anonymous) */
  registered: boolean;
  thingTypeName?: string;
  attributes: Record<string, string>;
  /** thing groups it belongs to, by name */
  groups: string[];
  connected: boolean;
  /** epoch ms of the current connection's CONNECT, when connected */
  connectedSince?: number;
  /** epoch ms of its last publish, connect or disconnect since start */
  lastSeen?: number;
  /** publishes accepted in the last 60 s, per minute */
  messagesPerMinute: number;
  /** publishes accepted since start */
  messages: number;
  /** alerts ACTIVE or ACKNOWLEDGED for this device (alert.deviceId === thingName) */
  openAlerts: number;
}

/**
 * `GET /api/devices/{deviceId}/history?datastore=&attributes=a,b&from=&to=&points=&deviceAttribute=`
 * One device's rows from a datastore over [from, to) (epoch ms or ISO-8601; default the last hour),
 * decimated on the server to about `points` buckets (default 1000, at most 10000). `attributes`
 * defaults to every numeric column. Columnar like the live frames: `columns[0]` is `__dt`.
 * Raw rows when the range holds at most `points` rows (`bucketMs` 0); otherwise one row per bucket
 * with each attribute's average, and `<attribute>.min` / `<attribute>.max` columns so spikes survive
 * the decimation.
 */
export type HistoryBody = HistoryResult;

/** `GET /api/rules` */
export interface RuleStatusBody {
  rules: RuleStatus[];
}

export interface RuleStatus {
  ruleName: string;
  sql: string;
  awsIotSqlVersion: string;
  enabled: boolean;
  /** action kinds in order, e.g. ["iotAnalytics", "republish"] */
  actions: string[];
  errorAction?: string;
  counters: { matched: number; fired: number; noResult: number; failed: number; actionsOk: number; actionsFailed: number };
}

/** `POST /api/rules/test` request: one statement against one message, without creating a rule;
 * `payload` is sent as its JSON text, raw bytes go in `payloadBase64` instead. */
export interface RulesTestRequest {
  sql: string;
  awsIotSqlVersion?: string;
  topic: string;
  payload?: unknown;
  payloadBase64?: string;
  clientId?: string;
}

/** `POST /api/rules/test` answer */
export interface RulesTestBody {
  /** the topic matched the FROM filter (always true without FROM) */
  matched: boolean;
  /** matched and WHERE was true: a rule would have run its actions */
  fired: boolean;
  /** the output when it is JSON */
  output?: unknown;
  /** the output bytes, base64, when they are not JSON */
  outputBase64?: string;
}

/** `GET /api/pipelines` */
export interface PipelineStatusBody {
  pipelines: PipelineStatus[];
}

/** A pipeline's counters as analytics keeps them (backlog, lastError, ...), its activities in execution order. */
export type PipelineStatus = { pipelineName: string } & Pick<PipelineCountersSnapshot, 'channelName' | 'datastoreName' | 'rowsOut' | 'writeErrors' | 'backlog' | 'lastError'> & {
  activities: { name: string; type: string; in: number; out: number; dropped: number; errors: number }[];
};

/**
 * A dataset content with its rows, for the dashboard:
 * `POST /api/datasets/{name}/contents` (runs it now, answers when the content is done) and
 * `GET /api/datasets/{name}/contents/latest` ($LATEST_SUCCEEDED). The CSV of a version downloads
 * from `GET /api/datasets/{name}/contents/{versionId}.csv` (Content-Disposition: attachment).
 */
export interface DatasetContentBody {
  datasetName: string;
  versionId: string;
  state: 'SUCCEEDED' | 'FAILED';
  completedAt: number;
  reason?: string;
  columns: { name: string; type: string }[];
  rows: unknown[][];
  /** rows beyond the first 10,000 are left out of `rows` (the CSV has them all) */
  truncated: boolean;
  /** path of the CSV download, relative to the server */
  csvPath: string;
}
