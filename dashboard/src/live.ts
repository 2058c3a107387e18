// Client of the live feed WebSocket (`/api/live`): waits for `hello`, subscribes to the first
// datastore offered, hands `rows` frames on, and reconnects with capped exponential backoff.
// The socket constructor and timers are injected, so this runs (and is tested) outside a browser.

import type { LiveClientFrame, LiveRowsFrame, LiveServerFrame } from '../../broker/contract.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';

export type LiveState =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'live'; datastore: string }
  | { kind: 'no-datastore' }
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

export interface LiveClientOptions {
  url: string;
  createSocket(url: string): SocketLike;
  onState(state: LiveState): void;
  onRows(frame: LiveRowsFrame): void;
  backoff?: BackoffPolicy;
  random?: () => number;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** `ws://host/api/live` for an http page, `wss://` for https. */
export function liveUrl(pageProtocol: string, host: string): string {
  return `${pageProtocol === 'https:' ? 'wss' : 'ws'}://${host}/api/live`;
}

export class LiveClient {
  private socket: SocketLike | null = null;
  private attempt = 0;
  private retryTimer: unknown = null;
  private stopped = true;
  private current: LiveState = { kind: 'stopped' };
  /** rows the server reported dropped for this client (it was too slow), since start */
  droppedRows = 0;
  /** frames that were not JSON or not a known frame type */
  badFrames = 0;

  constructor(private readonly options: LiveClientOptions) {}

  get state(): LiveState {
    return this.current;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) (this.options.clearTimer ?? clearTimeout)(this.retryTimer as never);
    this.retryTimer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.setState({ kind: 'stopped' });
  }

  private setState(state: LiveState): void {
    this.current = state;
    this.options.onState(state);
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
    socket.onmessage = (event) => {
      if (this.socket === socket) this.handleMessage(socket, event.data);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return; // a socket we already replaced or stopped
      this.socket = null;
      this.scheduleReconnect();
    };
    // An error is always followed by close, which does the reconnecting.
    socket.onerror = () => {};
  }

  private handleMessage(socket: SocketLike, data: unknown): void {
    let frame: LiveServerFrame;
    try {
      frame = JSON.parse(String(data)) as LiveServerFrame;
    } catch {
      this.badFrames++;
      return;
    }
    if (frame?.type === 'hello') {
      this.attempt = 0; // the server answered: the next outage starts the backoff afresh
      const datastore = Array.isArray(frame.datastores) ? frame.datastores[0] : undefined;
      if (typeof datastore !== 'string') {
        this.setState({ kind: 'no-datastore' });
        return;
      }
      const subscribe: LiveClientFrame = { type: 'subscribe', datastore };
      socket.send(JSON.stringify(subscribe));
      this.setState({ kind: 'live', datastore });
    } else if (frame?.type === 'rows' && Array.isArray(frame.columns) && Array.isArray(frame.data)) {
      if (typeof frame.dropped === 'number' && frame.dropped > 0) this.droppedRows += frame.dropped;
      this.options.onRows(frame);
    } else {
      this.badFrames++;
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
