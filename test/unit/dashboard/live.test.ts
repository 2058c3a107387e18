import type { LiveRowsFrame } from '../../../broker/contract.js';
import { LiveClient, liveUrl, type LiveState, type SocketLike } from '../../../dashboard/src/live.js';

class FakeSocket implements SocketLike {
  sent: string[] = [];
  closed = false;
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.closed = true;
  }
  receive(frame: unknown): void {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }
  drop(): void {
    this.onerror?.({});
    this.onclose?.({});
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const states: LiveState[] = [];
  const frames: LiveRowsFrame[] = [];
  const timers: { callback: () => void; ms: number }[] = [];
  const client = new LiveClient({
    url: 'ws://host/api/live',
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    onState: (state) => states.push(state),
    onRows: (frame) => frames.push(frame),
    backoff: { initialMs: 100, factor: 2, maxMs: 1000, jitter: 0 },
    setTimer: (callback, ms) => timers.push({ callback, ms }),
    clearTimer: () => {},
  });
  const fireTimer = () => timers.shift()!.callback();
  return { client, sockets, states, frames, timers, fireTimer };
}

const rows: LiveRowsFrame = { type: 'rows', datastore: 'telemetry_store', columns: ['__dt', 'deviceId'], data: [[1], ['a']], dropped: 0 };

describe('LiveClient', () => {
  it('subscribes to the first datastore of hello and passes rows frames on', () => {
    const { client, sockets, states, frames } = harness();
    client.start();
    expect(sockets[0].url).toBe('ws://host/api/live');
    expect(states.at(-1)).toEqual({ kind: 'connecting', attempt: 0 });
    sockets[0].receive({ type: 'hello', datastores: ['telemetry_store', 'other'] });
    expect(sockets[0].sent.map((s) => JSON.parse(s))).toEqual([{ type: 'subscribe', datastore: 'telemetry_store' }]);
    expect(states.at(-1)).toEqual({ kind: 'live', datastore: 'telemetry_store' });
    sockets[0].receive(rows);
    expect(frames).toEqual([rows]);
  });

  it('says so when the server offers no datastore', () => {
    const { client, sockets, states } = harness();
    client.start();
    sockets[0].receive({ type: 'hello', datastores: [] });
    expect(states.at(-1)).toEqual({ kind: 'no-datastore' });
    expect(sockets[0].sent).toEqual([]);
  });

  it('reconnects with growing, capped delays while the server stays away', () => {
    const { client, sockets, timers, fireTimer } = harness();
    client.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      sockets.at(-1)!.drop();
      delays.push(timers[0].ms);
      fireTimer();
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(sockets).toHaveLength(7);
  });

  it('starts the backoff afresh once a server answered with hello', () => {
    const { client, sockets, timers, fireTimer, states } = harness();
    client.start();
    sockets[0].drop();
    fireTimer();
    sockets[1].drop();
    expect(timers[0].ms).toBe(200);
    fireTimer();
    sockets[2].receive({ type: 'hello', datastores: ['s'] });
    sockets[2].drop();
    expect(timers[0].ms).toBe(100);
    expect(states.at(-1)).toEqual({ kind: 'reconnecting', inMs: 100, attempt: 1 });
  });

  it('counts rows the server dropped and frames it cannot read, without failing', () => {
    const { client, sockets, frames } = harness();
    client.start();
    sockets[0].receive('not json');
    sockets[0].receive({ type: 'mystery' });
    sockets[0].receive({ ...rows, dropped: 7 });
    expect(client.badFrames).toBe(2);
    expect(client.droppedRows).toBe(7);
    expect(frames).toHaveLength(1);
  });

  it('stops reconnecting after stop()', () => {
    const { client, sockets, timers, states } = harness();
    client.start();
    client.stop();
    expect(sockets[0].closed).toBe(true);
    sockets[0].drop();
    expect(timers).toHaveLength(0);
    expect(states.at(-1)).toEqual({ kind: 'stopped' });
  });
});

describe('liveUrl', () => {
  it('uses wss for https pages and ws otherwise', () => {
    expect(liveUrl('https:', 'example.com')).toBe('wss://example.com/api/live');
    expect(liveUrl('http:', '127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/api/live');
  });
});
