// The live feed: rows committed to a datastore go to every dashboard subscribed to it, as
// columnar frames (see LiveRowsFrame in contract.ts). Each socket has a bounded buffer; while the
// socket's own send buffer is above the high-water mark we hold frames back and coalesce, and
// when our buffer is full we drop the oldest rows and tell the client how many. Alert events go
// to every client (no subscription) through a second bounded buffer with the same policy.
import type { AlertEvent } from '../analytics/index.js';
import type { LiveAlertFrame, LiveClientFrame, LiveRowsFrame, LiveServerFrame } from './contract.js';
import type { WebSocket } from './http/websocket.js';

export interface LiveOptions {
  /** rows kept per client and datastore while the client is slow */
  maxPendingRows: number;
  /** bytes queued in the socket above which we stop sending and coalesce */
  highWaterBytes: number;
  /** alert events kept per client while it is slow (default 1000); the oldest are dropped */
  maxPendingAlerts?: number;
}

export interface LiveCounters {
  clients: number;
  framesSent: number;
  rowsSent: number;
  rowsDropped: number;
  alertsSent: number;
  alertsDropped: number;
}

type Row = Record<string, unknown>;

interface Subscription {
  rows: Row[];
  dropped: number;
}

interface LiveClient {
  socket: WebSocket;
  subs: Map<string, Subscription>;
  alerts: AlertEvent[];
  alertsDropped: number;
  scheduled: boolean;
}

export interface LiveFeed {
  accept(socket: WebSocket): void;
  publish(datastore: string, rows: Row[]): void;
  /** an alert event, to every client */
  publishAlert(event: AlertEvent): void;
  counters(): LiveCounters;
  close(): void;
}

export function createLiveFeed(listDatastores: () => string[], opts: LiveOptions): LiveFeed {
  const clients = new Set<LiveClient>();
  const totals = { framesSent: 0, rowsSent: 0, rowsDropped: 0, alertsSent: 0, alertsDropped: 0 };
  const maxPendingAlerts = opts.maxPendingAlerts ?? 1000;

  function flush(client: LiveClient): void {
    client.scheduled = false;
    if (client.socket.readyState !== client.socket.OPEN) return;
    if (client.socket.bufferedAmount > opts.highWaterBytes) {
      schedule(client, 50); // slow reader: try again later with everything coalesced
      return;
    }
    for (const [datastore, sub] of client.subs) {
      if (sub.rows.length === 0 && sub.dropped === 0) continue;
      const frame = toColumnar(datastore, sub.rows, sub.dropped);
      totals.framesSent++;
      totals.rowsSent += sub.rows.length;
      sub.rows = [];
      sub.dropped = 0;
      client.socket.send(JSON.stringify(frame));
    }
    for (const { event, alert } of client.alerts) {
      const frame: LiveAlertFrame = { type: 'alert', event, alert, dropped: client.alertsDropped };
      client.alertsDropped = 0;
      totals.framesSent++;
      totals.alertsSent++;
      client.socket.send(JSON.stringify(frame));
    }
    client.alerts = [];
  }

  function schedule(client: LiveClient, delayMs: number): void {
    if (client.scheduled) return;
    client.scheduled = true;
    if (delayMs === 0) setImmediate(() => flush(client));
    else setTimeout(() => flush(client), delayMs).unref();
  }

  return {
    accept(socket) {
      const client: LiveClient = { socket, subs: new Map(), alerts: [], alertsDropped: 0, scheduled: false };
      clients.add(client);
      socket.on('close', () => clients.delete(client));
      socket.on('error', () => socket.terminate());
      socket.on('message', (data) => {
        const frame = parseClientFrame(String(data));
        if (!frame) {
          socket.send(JSON.stringify({ type: 'error', code: 'InvalidRequestException', message: 'expected {"type":"subscribe"|"unsubscribe","datastore":"<name>"}' }));
          return;
        }
        if (frame.type === 'subscribe') {
          if (!listDatastores().includes(frame.datastore)) {
            socket.send(JSON.stringify({ type: 'error', code: 'ResourceNotFoundException', message: `datastore ${frame.datastore} does not exist` }));
            return;
          }
          if (!client.subs.has(frame.datastore)) client.subs.set(frame.datastore, { rows: [], dropped: 0 });
        } else {
          client.subs.delete(frame.datastore);
        }
      });
      const hello: LiveServerFrame = { type: 'hello', datastores: listDatastores() };
      socket.send(JSON.stringify(hello));
    },
    publish(datastore, rows) {
      for (const client of clients) {
        const sub = client.subs.get(datastore);
        if (!sub) continue;
        for (const row of rows) sub.rows.push(row);
        const excess = sub.rows.length - opts.maxPendingRows;
        if (excess > 0) {
          sub.rows.splice(0, excess);
          sub.dropped += excess;
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
    counters: () => ({ clients: clients.size, ...totals }),
    close() {
      for (const c of clients) c.socket.close(1001, 'server stopping');
      clients.clear();
    },
  };
}

function parseClientFrame(text: string): LiveClientFrame | undefined {
  try {
    const v = JSON.parse(text) as LiveClientFrame;
    if ((v.type === 'subscribe' || v.type === 'unsubscribe') && typeof v.datastore === 'string') return v;
  } catch {
    // fall through: malformed frames get an error reply
  }
  return undefined;
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
