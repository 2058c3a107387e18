// The dashboard's one live socket (`/api/live`), shared by every view through the LiveHub of
// view.ts. It reconnects with capped exponential backoff and jitter, and after every (re)connect
// resends the subscriptions the views hold, so a view subscribes once and never thinks about the
// socket again. The server keeps one subscription per datastore per socket: when views want the
// same datastore with different devices, the hub asks for the union and filters per view.
// The socket and timers are injected, so this runs (and is tested) outside a browser.

import type { LiveAlertFrame, LiveClientFrame, LiveDatasetFrame, LiveRowsFrame, LiveServerFrame } from '../../broker/contract.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { filterFrameByDevice } from './frames.js';
import type { LiveHub, LiveSubscription, Unsubscribe } from './view.js';

export type LiveState =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'live'; datastores: readonly string[] }
  | { kind: 'reconnecting'; inMs: number; attempt: number }
  | { kind: 'stopped' };

/** The part of the browser's WebSocket this client uses. */
export interface SocketLike {
  send(data: string): void;
  close(): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export interface LiveHubOptions {
  url: string;
  createSocket(url: string): SocketLike;
  onState?(state: LiveState): void;
  backoff?: BackoffPolicy;
  random?: () => number;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** a listener threw (a view's bug must not stop the feed for the others) */
  onListenerError?(error: unknown): void;
}

/** `ws://host/api/live` for an http page, `wss://` for https. */
export function liveUrl(pageProtocol: string, host: string): string {
  return `${pageProtocol === 'https:' ? 'wss' : 'ws'}://${host}/api/live`;
}

type SubscribeFrame = Extract<LiveClientFrame, { type: 'subscribe' }>;

interface RowsListener {
  subscription: LiveSubscription;
  onRows(frame: LiveRowsFrame): void;
}

/**
 * The one subscribe frame that serves every listener of a datastore: filtered to a device only
 * when all of them want that device; decimated only when all of them accept it, to the largest
 * width asked for.
 */
export function mergedSubscription(datastore: string, subscriptions: readonly LiveSubscription[]): SubscribeFrame {
  const frame: SubscribeFrame = { type: 'subscribe', datastore };
  const devices = new Set(subscriptions.map((s) => s.deviceId));
  const [only] = devices;
  if (devices.size === 1 && only !== undefined) frame.deviceId = only;
  const widths = subscriptions.map((s) => s.maxRowsPerFrame);
  if (widths.length > 0 && widths.every((w): w is number => typeof w === 'number' && w > 0)) frame.maxRowsPerFrame = Math.max(...widths);
  return frame;
}

export class LiveHubClient implements LiveHub {
  private socket: SocketLike | null = null;
  /** the socket answered hello: subscriptions may be sent */
  private ready = false;
  private everConnected = false;
  private attempt = 0;
  private retryTimer: unknown = null;
  private stopped = true;
  private current: LiveState = { kind: 'stopped' };
  private offered: string[] = [];
  private readonly rowsListeners = new Set<RowsListener>();
  private readonly alertListeners = new Set<(frame: LiveAlertFrame) => void>();
  private readonly datasetListeners = new Set<(frame: LiveDatasetFrame) => void>();
  private readonly reconnectListeners = new Set<() => void>();
  /** per datastore, the subscribe frame the server holds for this socket (its JSON, to compare) */
  private readonly sent = new Map<string, string>();
  /** rows the server reported dropped for this client (it was too slow), since start */
  droppedRows = 0;
  /** rows the server left out to honour maxRowsPerFrame, since start */
  decimatedRows = 0;
  /** frames that were not JSON or not a known frame type */
  badFrames = 0;
  /** the last error frame (e.g. a datastore that does not exist) */
  lastError: { code: string; message: string } | null = null;

  constructor(private readonly options: LiveHubOptions) {}

  get state(): LiveState {
    return this.current;
  }

  get datastores(): readonly string[] {
    return this.offered;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /** Closes the socket and stops reconnecting (signed out); subscriptions are kept for start(). */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) (this.options.clearTimer ?? clearTimeout)(this.retryTimer as never);
    this.retryTimer = null;
    const socket = this.socket;
    this.socket = null;
    this.ready = false;
    this.sent.clear();
    socket?.close();
    this.setState({ kind: 'stopped' });
  }

  subscribeRows(subscription: LiveSubscription, onRows: (frame: LiveRowsFrame) => void): Unsubscribe {
    const listener: RowsListener = { subscription: { ...subscription }, onRows };
    this.rowsListeners.add(listener);
    this.sync(subscription.datastore);
    return () => {
      if (this.rowsListeners.delete(listener)) this.sync(subscription.datastore);
    };
  }

  onAlert(listener: (frame: LiveAlertFrame) => void): Unsubscribe {
    return addTo(this.alertListeners, listener);
  }

  onDataset(listener: (frame: LiveDatasetFrame) => void): Unsubscribe {
    return addTo(this.datasetListeners, listener);
  }

  onReconnect(listener: () => void): Unsubscribe {
    return addTo(this.reconnectListeners, listener);
  }

  private listenersOf(datastore: string): RowsListener[] {
    return [...this.rowsListeners].filter((l) => l.subscription.datastore === datastore);
  }

  /** Tells the server what the listeners of a datastore now need, if that changed. */
  private sync(datastore: string): void {
    if (!this.ready || !this.socket) return;
    const listeners = this.listenersOf(datastore);
    const frame: LiveClientFrame =
      listeners.length === 0 ? { type: 'unsubscribe', datastore } : mergedSubscription(datastore, listeners.map((l) => l.subscription));
    const text = JSON.stringify(frame);
    const held = this.sent.get(datastore);
    if (frame.type === 'unsubscribe') {
      if (held === undefined) return;
      this.sent.delete(datastore);
    } else {
      if (held === text) return;
      this.sent.set(datastore, text);
    }
    this.socket.send(text);
  }

  private setState(state: LiveState): void {
    this.current = state;
    this.options.onState?.(state);
  }

  private connect(): void {
    this.retryTimer = null;
    this.setState({ kind: 'connecting', attempt: this.attempt });
    let socket: SocketLike;
    try {
      socket = this.options.createSocket(this.options.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.ready = false;
    this.sent.clear();
    socket.onmessage = (event) => {
      if (this.socket === socket) this.handleMessage(event.data);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return; // a socket we already replaced or stopped
      this.socket = null;
      this.ready = false;
      this.sent.clear();
      this.scheduleReconnect();
    };
    // An error is always followed by close, which does the reconnecting.
    socket.onerror = () => {};
  }

  private handleMessage(data: unknown): void {
    let frame: LiveServerFrame;
    try {
      frame = JSON.parse(String(data)) as LiveServerFrame;
    } catch {
      this.badFrames++;
      return;
    }
    switch (frame?.type) {
      case 'hello':
        return this.handleHello(Array.isArray(frame.datastores) ? frame.datastores.filter((d) => typeof d === 'string') : []);
      case 'rows':
        if (!Array.isArray(frame.columns) || !Array.isArray(frame.data)) break;
        return this.handleRows(frame);
      case 'alert':
        return this.emit(this.alertListeners, frame);
      case 'dataset':
        return this.emit(this.datasetListeners, frame);
      case 'error':
        this.lastError = { code: String(frame.code), message: String(frame.message) };
        return;
    }
    this.badFrames++;
  }

  private handleHello(datastores: string[]): void {
    this.attempt = 0; // the server answered: the next outage starts the backoff afresh
    this.offered = datastores;
    this.ready = true;
    this.sent.clear();
    const wanted = new Set([...this.rowsListeners].map((l) => l.subscription.datastore));
    for (const datastore of wanted) this.sync(datastore);
    this.setState({ kind: 'live', datastores });
    const reconnected = this.everConnected;
    this.everConnected = true;
    if (reconnected) this.emit(this.reconnectListeners, undefined);
  }

  private handleRows(frame: LiveRowsFrame): void {
    if (typeof frame.dropped === 'number' && frame.dropped > 0) this.droppedRows += frame.dropped;
    if (typeof frame.decimated === 'number' && frame.decimated > 0) this.decimatedRows += frame.decimated;
    for (const listener of this.listenersOf(frame.datastore)) {
      const wanted = listener.subscription.deviceId;
      // Filtered here too: the server sends a datastore's rows unfiltered while another view wants
      // other devices, and frames already on the way when a subscription changes are the old kind.
      const forListener = wanted === undefined ? frame : filterFrameByDevice(frame, wanted);
      if (forListener) this.call(() => listener.onRows(forListener));
    }
  }

  private emit<T>(listeners: Set<(value: T) => void>, value: T): void {
    for (const listener of [...listeners]) this.call(() => listener(value));
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.options.onListenerError?.(error);
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const inMs = backoffDelay(this.attempt, this.options.backoff ?? DEFAULT_BACKOFF, this.options.random);
    this.attempt++;
    this.setState({ kind: 'reconnecting', inMs, attempt: this.attempt });
    this.retryTimer = (this.options.setTimer ?? setTimeout)(() => this.connect(), inMs);
  }
}

function addTo<T>(set: Set<T>, item: T): Unsubscribe {
  set.add(item);
  return () => {
    set.delete(item);
  };
}
