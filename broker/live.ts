// The live feed: rows committed to a datastore go to every dashboard subscribed to it, as
// columnar frames (see LiveRowsFrame in contract.ts). Each socket has a bounded buffer; while the
// socket's own send buffer is above the high-water mark we hold frames back and coalesce, and
// when our buffer is full we drop the oldest rows and tell the client how many. Alert and dataset
// events go to every client (no subscription) through bounded buffers with the same policy.
//
// A subscription may name a device (only its rows are kept, so a device view costs the socket
// nothing for the rest of the fleet) and a most rows per frame (a chart cannot draw more points
// than it has pixels: the pending rows are thinned evenly at flush time, once per frame, instead
// of per published row).
//
// Fifty dashboards on one datastore would otherwise build and serialise the same frame fifty
// times: the pending rows of a subscription that saw whole publishes and lost none are named by
// the publishes they hold, and a frame is built and encoded once per name and tick, then sent to
// every client holding the same rows.
import type { AlertEvent } from '../analytics/index.js';
import type { LiveAlertFrame, LiveClientFrame, LiveDatasetFrame, LiveErrorFrame, LiveRowsFrame, LiveServerFrame } from './contract.js';
import type { WebSocket } from './http/websocket.js';

export interface LiveOptions {
  /** rows kept per client and datastore while the client is slow */
  maxPendingRows: number;
  /** bytes queued in the socket above which we stop sending and coalesce */
  highWaterBytes: number;
  /** alert events kept per client while it is slow (default 1000); the oldest are dropped */
  maxPendingAlerts?: number;
  /** dataset events kept per client while it is slow (default 100); the oldest are dropped */
  maxPendingDatasets?: number;
}

export interface LiveCounters {
  clients: number;
  framesSent: number;
  rowsSent: number;
  rowsDropped: number;
  /** rows left out of frames by subscriptions' maxRowsPerFrame */
  decimated: number;
  /** rows frames sent as another client's frame of the same tick, not built again */
  framesShared: number;
  alertsSent: number;
  alertsDropped: number;
  datasetsSent: number;
  datasetsDropped: number;
}

type Row = Record<string, unknown>;

/** The attribute a subscription's `deviceId` is matched against. */
const DEVICE_ATTRIBUTE = 'deviceId';
/** A subscription's maxRowsPerFrame at most (a frame wider than any screen is pointless). */
const MAX_ROWS_PER_FRAME_LIMIT = 100_000;

interface Subscription {
  rows: Row[];
  dropped: number;
  /** the publishes `rows` holds, first and last (sequence numbers), while `whole` */
  from: number;
  to: number;
  /** rows are exactly those publishes' rows for this subscription: none trimmed since the last frame */
  whole: boolean;
  deviceId: string | undefined;
  maxRowsPerFrame: number | undefined;
}

interface LiveClient {
  socket: WebSocket;
  subs: Map<string, Subscription>;
  alerts: AlertEvent[];
  alertsDropped: number;
  datasets: LiveDatasetFrame[];
  scheduled: boolean;
}

export interface LiveFeed {
  accept(socket: WebSocket): void;
  publish(datastore: string, rows: Row[]): void;
  /** an alert event, to every client */
  publishAlert(event: AlertEvent): void;
  /** a dataset content finished (SUCCEEDED or FAILED), to every client */
  publishDataset(frame: LiveDatasetFrame): void;
  counters(): LiveCounters;
  close(): void;
}

export function createLiveFeed(listDatastores: () => string[], opts: LiveOptions): LiveFeed {
  const clients = new Set<LiveClient>();
  const totals = { framesSent: 0, framesShared: 0, rowsSent: 0, rowsDropped: 0, decimated: 0, alertsSent: 0, alertsDropped: 0, datasetsSent: 0, datasetsDropped: 0 };
  const maxPendingAlerts = opts.maxPendingAlerts ?? 1000;
  const maxPendingDatasets = opts.maxPendingDatasets ?? 100;

  let publishSeq = 0;
  /** frames built this tick, by the name of the rows they hold (see the opening comment) */
  const sharedFrames = new Map<string, { bytes: Buffer; rows: number; decimated: number }>();

  function send(client: LiveClient, frame: LiveServerFrame): void {
    client.socket.send(JSON.stringify(frame));
  }

  /** The encoded rows frame of a subscription's pending rows, built once per tick for equal ones. */
  function rowsFrame(datastore: string, sub: Subscription): { bytes: Buffer; rows: number; decimated: number } {
    const key = sub.whole ? `${datastore}\0${sub.deviceId ?? ''}\0${sub.maxRowsPerFrame ?? ''}\0${sub.dropped}\0${sub.from}\0${sub.to}` : undefined;
    const cached = key === undefined ? undefined : sharedFrames.get(key);
    if (cached) {
      totals.framesShared++;
      return cached;
    }
    let rows = sub.rows;
    let decimated = 0;
    if (sub.maxRowsPerFrame !== undefined && rows.length > sub.maxRowsPerFrame) {
      const kept = decimate(rows, sub.maxRowsPerFrame);
      decimated = rows.length - kept.length;
      rows = kept;
    }
    const frame = toColumnar(datastore, rows, sub.dropped);
    if (decimated > 0) frame.decimated = decimated;
    const built = { bytes: Buffer.from(JSON.stringify(frame)), rows: rows.length, decimated };
    if (key !== undefined) {
      if (sharedFrames.size === 0) setImmediate(() => sharedFrames.clear()); // after this tick's flushes
      sharedFrames.set(key, built);
    }
    return built;
  }

  function flush(client: LiveClient): void {
    client.scheduled = false;
    if (client.socket.readyState !== client.socket.OPEN) return;
    if (client.socket.bufferedAmount > opts.highWaterBytes) {
      schedule(client, 50); // slow reader: try again later with everything coalesced
      return;
    }
    for (const [datastore, sub] of client.subs) {
      if (sub.rows.length === 0 && sub.dropped === 0) continue;
      const { bytes, rows, decimated } = rowsFrame(datastore, sub);
      totals.framesSent++;
      totals.rowsSent += rows;
      totals.decimated += decimated;
      sub.rows = [];
      sub.dropped = 0;
      sub.whole = true;
      client.socket.send(bytes, { binary: false });
    }
    for (const { event, alert } of client.alerts) {
      const frame: LiveAlertFrame = { type: 'alert', event, alert, dropped: client.alertsDropped };
      client.alertsDropped = 0;
      totals.framesSent++;
      totals.alertsSent++;
      send(client, frame);
    }
    client.alerts = [];
    for (const frame of client.datasets) {
      totals.framesSent++;
      totals.datasetsSent++;
      send(client, frame);
    }
    client.datasets = [];
  }

  function schedule(client: LiveClient, delayMs: number): void {
    if (client.scheduled) return;
    client.scheduled = true;
    if (delayMs === 0) setImmediate(() => flush(client));
    else setTimeout(() => flush(client), delayMs).unref();
  }

  function refuse(client: LiveClient, code: string, message: string): void {
    const frame: LiveErrorFrame = { type: 'error', code, message };
    send(client, frame);
  }

  function onMessage(client: LiveClient, text: string): void {
    const parsed = parseClientFrame(text);
    if (typeof parsed === 'string') {
      refuse(client, 'InvalidRequestException', parsed);
      return;
    }
    if (parsed.type === 'unsubscribe') {
      client.subs.delete(parsed.datastore);
      return;
    }
    if (!listDatastores().includes(parsed.datastore)) {
      refuse(client, 'ResourceNotFoundException', `datastore ${parsed.datastore} does not exist`);
      return;
    }
    const previous = client.subs.get(parsed.datastore);
    // a second subscribe replaces the options; rows pending for another device are not this view's
    const keepPending = previous !== undefined && previous.deviceId === parsed.deviceId;
    client.subs.set(parsed.datastore, {
      rows: keepPending ? previous.rows : [],
      dropped: keepPending ? previous.dropped : 0,
      from: keepPending ? previous.from : 0,
      to: keepPending ? previous.to : 0,
      whole: keepPending ? previous.whole : true,
      deviceId: parsed.deviceId,
      maxRowsPerFrame: parsed.maxRowsPerFrame,
    });
  }

  return {
    accept(socket) {
      const client: LiveClient = { socket, subs: new Map(), alerts: [], alertsDropped: 0, datasets: [], scheduled: false };
      clients.add(client);
      socket.on('close', () => clients.delete(client));
      socket.on('error', () => socket.terminate());
      socket.on('message', (data) => onMessage(client, String(data)));
      send(client, { type: 'hello', datastores: listDatastores() });
    },
    publish(datastore, rows) {
      // rows by device, built once per publish and only when a subscription filters on a device
      let byDevice: Map<string, Row[]> | undefined;
      const seq = ++publishSeq;
      for (const client of clients) {
        const sub = client.subs.get(datastore);
        if (!sub) continue;
        let mine = rows;
        if (sub.deviceId !== undefined) {
          byDevice ??= groupByDevice(rows);
          const found = byDevice.get(sub.deviceId);
          if (found === undefined) continue;
          mine = found;
        }
        if (sub.rows.length === 0) sub.from = seq;
        sub.to = seq;
        for (const row of mine) sub.rows.push(row);
        const excess = sub.rows.length - opts.maxPendingRows;
        if (excess > 0) {
          sub.rows.splice(0, excess);
          sub.dropped += excess;
          sub.whole = false;
          totals.rowsDropped += excess;
        }
        schedule(client, 0);
      }
    },
    publishAlert(event) {
      for (const client of clients) {
        client.alerts.push(event);
        if (client.alerts.length > maxPendingAlerts) {
          client.alerts.shift();
          client.alertsDropped++;
          totals.alertsDropped++;
        }
        schedule(client, 0);
      }
    },
    publishDataset(frame) {
      for (const client of clients) {
        client.datasets.push(frame);
        if (client.datasets.length > maxPendingDatasets) {
          client.datasets.shift();
          totals.datasetsDropped++;
        }
        schedule(client, 0);
      }
    },
    counters: () => ({ clients: clients.size, ...totals }),
    close() {
      for (const c of clients) c.socket.close(1001, 'server stopping');
      clients.clear();
    },
  };
}

function groupByDevice(rows: Row[]): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const row of rows) {
    const id = deviceOf(row);
    if (id === undefined) continue;
    const list = out.get(id);
    if (list) list.push(row);
    else out.set(id, [row]);
  }
  return out;
}

function deviceOf(row: Row): string | undefined {
  const v = row[DEVICE_ATTRIBUTE];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : String(v);
}

/**
 * About `max` rows of `rows`, evenly spaced, in their order; each device's newest row is always
 * kept (a device view must show where each series stands now), so with more devices than `max`
 * the result has one row per device.
 */
export function decimate(rows: readonly Row[], max: number): Row[] {
  const n = rows.length;
  if (n <= max) return rows.slice();
  const keep = new Uint8Array(n);
  const newestSeen = new Set<string>();
  let mandatory = 0;
  for (let i = n - 1; i >= 0; i--) {
    const id = deviceOf(rows[i]) ?? '';
    if (newestSeen.has(id)) continue;
    newestSeen.add(id);
    keep[i] = 1;
    mandatory++;
  }
  // the evenly spaced picks fill what the newest rows leave of the budget
  const picks = Math.max(0, max - mandatory);
  const step = n / Math.max(1, picks);
  for (let k = 0; k < picks; k++) keep[Math.min(n - 1, Math.floor(k * step))] = 1;
  const out: Row[] = [];
  for (let i = 0; i < n; i++) if (keep[i] === 1) out.push(rows[i]);
  return out;
}

/** The client frame, or why it was refused. */
function parseClientFrame(text: string): LiveClientFrame | string {
  const usage = 'expected {"type":"subscribe","datastore":"<name>","deviceId"?:"<id>","maxRowsPerFrame"?:<n>} or {"type":"unsubscribe","datastore":"<name>"}';
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return usage;
  }
  if (typeof v !== 'object' || v === null || typeof v.datastore !== 'string') return usage;
  if (v.type === 'unsubscribe') return { type: 'unsubscribe', datastore: v.datastore };
  if (v.type !== 'subscribe') return usage;
  const frame: Extract<LiveClientFrame, { type: 'subscribe' }> = { type: 'subscribe', datastore: v.datastore };
  if (v.deviceId !== undefined) {
    if (typeof v.deviceId !== 'string' || v.deviceId === '') return 'deviceId must be a non-empty string';
    frame.deviceId = v.deviceId;
  }
  if (v.maxRowsPerFrame !== undefined) {
    const m = v.maxRowsPerFrame;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > MAX_ROWS_PER_FRAME_LIMIT) return `maxRowsPerFrame must be a whole number from 1 to ${MAX_ROWS_PER_FRAME_LIMIT}`;
    frame.maxRowsPerFrame = m;
  }
  return frame;
}

/** Rows → columns: `__dt` first, then every attribute in order of first appearance. */
export function toColumnar(datastore: string, rows: Row[], dropped: number): LiveRowsFrame {
  const index = new Map<string, number>([['__dt', 0]]);
  for (const row of rows) for (const key of Object.keys(row)) if (!index.has(key)) index.set(key, index.size);
  const data: LiveRowsFrame['data'] = Array.from(index.keys(), () => new Array(rows.length).fill(null));
  rows.forEach((row, r) => {
    for (const [key, value] of Object.entries(row)) data[index.get(key)!][r] = toCell(value);
  });
  return { type: 'rows', datastore, columns: [...index.keys()], data, dropped };
}

function toCell(value: unknown): number | string | boolean | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}
