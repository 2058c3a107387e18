// The contract between the dashboard's shell (main.ts: sign-in, navigation, the one live socket)
// and its views (fleet, device, alerts, rules, datasets). A view is built once, kept in the DOM,
// and shown or hidden as the location hash changes; it talks to the server only through `ctx`.

import type { LiveAlertFrame, LiveDatasetFrame, LiveRowsFrame } from '../../broker/contract.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface Api {
  /**
   * A JSON request to the server with the session cookie. Rejects with an ApiError (api.ts) on a
   * non-2xx answer; a 401 also tells the shell, which shows the sign-in form.
   */
  request<T>(method: HttpMethod, path: string, body?: unknown): Promise<T>;
}

export type Unsubscribe = () => void;

export interface LiveSubscription {
  datastore: string;
  /** only this device's rows (server-side filter) */
  deviceId?: string;
  /** decimate on the server to about this many rows per frame (the chart's width in pixels) */
  maxRowsPerFrame?: number;
}

/** The shell's live socket, shared by every view; it resubscribes after each reconnect. */
export interface LiveHub {
  /** rows frames of the subscription's datastore (and device, when given) */
  subscribeRows(subscription: LiveSubscription, onRows: (frame: LiveRowsFrame) => void): Unsubscribe;
  onAlert(listener: (frame: LiveAlertFrame) => void): Unsubscribe;
  onDataset(listener: (frame: LiveDatasetFrame) => void): Unsubscribe;
  /** called on every reconnect after the first connection: views refetch what they may have missed */
  onReconnect(listener: () => void): Unsubscribe;
  /** datastores the server offered in its last hello */
  readonly datastores: readonly string[];
}

export interface ViewContext {
  api: Api;
  live: LiveHub;
  /** go to a location hash, e.g. `#/device/sensor-1` */
  navigate(hash: string): void;
}

export interface View {
  /** the view's root element; the shell puts it in <main> once */
  readonly element: HTMLElement;
  /** shown with the hash's parameters (`#/device/sensor-1` → ['sensor-1']) */
  show(params: string[]): void;
  /** hidden: stop timers and live subscriptions that only the visible view needs */
  hide(): void;
}

export type ViewFactory = (ctx: ViewContext) => View;

/**
 * Fired on `window` after a chart drew rows that arrived live, for the publish-to-chart benchmark
 * and the browser tests: `ts` holds the drawn rows' `ts` attribute (the device's epoch ms when it
 * produced the reading, TelemetryPayload.ts) and `drawnAt` the epoch ms after the draw.
 */
export interface ChartDrawnDetail {
  deviceId: string;
  drawnAt: number;
  ts: number[];
}
export const CHART_DRAWN_EVENT = 'iotcore:chart-drawn';

/**
 * Fired on `window` by the device view each time it drew a history range (a preset, a zoom, a
 * pan), for the render benchmark and the browser tests: the rows the range held, the points
 * drawn after the server's decimation, and the milliseconds from the request to the drawn chart.
 */
export interface HistoryDrawnDetail {
  deviceId: string;
  rowsInRange: number;
  points: number;
  ms: number;
}
export const HISTORY_DRAWN_EVENT = 'iotcore:history-drawn';
