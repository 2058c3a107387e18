import type { LiveRowsFrame } from '../../../broker/contract.js';
import { LiveHubClient, liveUrl, mergedSubscription, type LiveState, type SocketLike } from '../../../dashboard/src/live.js';

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
  frames(): unknown[] {
    return this.sent.map((s) => JSON.parse(s));
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const states: LiveState[] = [];
  const timers: { callback: () => void; ms: number }[] = [];
  const listenerErrors: unknown[] = [];
  const hub = new LiveHubClient({
    url: 'ws://host/api/live',
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    onState: (state) => states.push(state),
    backoff: { initialMs: 100, factor: 2, maxMs: 1000, jitter: 0 },
    setTimer: (callback, ms) => timers.push({ callback, ms }),
    clearTimer: () => {},
    onListenerError: (error) => listenerErrors.push(error),
  });
  const fireTimer = () => timers.shift()!.callback();
  const last = () => sockets[sockets.length - 1];
  const hello = (datastores = ['telemetry_store']) => last().receive({ type: 'hello', datastores });
  return { hub, sockets, states, timers, fireTimer, last, hello, listenerErrors };
}

function rowsFrame(devices: string[], datastore = 'telemetry_store'): LiveRowsFrame {
  return { type: 'rows', datastore, columns: ['__dt', 'deviceId', 'temperature'], data: [devices.map((_, i) => i + 1), devices, devices.map(() => 20)], dropped: 0 };
}

describe('LiveHubClient', () => {
  it('sends the subscriptions views made before the socket was up once the server says hello', () => {
    const { hub, last, hello, states } = harness();
    hub.subscribeRows({ datastore: 'telemetry_store', deviceId: 'sim-1', maxRowsPerFrame: 800 }, () => {});
    hub.start();
    expect(last().url).toBe('ws://host/api/live');
    expect(last().sent).toEqual([]);
    hello(['telemetry_store', 'other']);
    expect(last().frames()).toEqual([{ type: 'subscribe', datastore: 'telemetry_store', deviceId: 'sim-1', maxRowsPerFrame: 800 }]);
    expect(hub.datastores).toEqual(['telemetry_store', 'other']);
    expect(states.at(-1)).toEqual({ kind: 'live', datastores: ['telemetry_store', 'other'] });
  });

  it('subscribes at once while connected, and unsubscribes when the last listener of a datastore leaves', () => {
    const { hub, last, hello } = harness();
    hub.start();
    hello();
    const stopA = hub.subscribeRows({ datastore: 'telemetry_store' }, () => {});
    const stopB = hub.subscribeRows({ datastore: 'telemetry_store' }, () => {});
    stopA();
    stopB();
    stopB(); // twice is harmless
    expect(last().frames()).toEqual([
      { type: 'subscribe', datastore: 'telemetry_store' },
      { type: 'unsubscribe', datastore: 'telemetry_store' },
    ]);
  });

  it('hands rows frames to the listeners of their datastore only', () => {
    const { hub, last, hello } = harness();
    const got: string[] = [];
    hub.subscribeRows({ datastore: 'telemetry_store' }, (f) => got.push(`a:${f.datastore}`));
    hub.subscribeRows({ datastore: 'other' }, (f) => got.push(`b:${f.datastore}`));
    hub.start();
    hello(['telemetry_store', 'other']);
    last().receive(rowsFrame(['x'], 'other'));
    expect(got).toEqual(['b:other']);
  });

  it('asks for the union when views want different devices of one datastore, and filters per view', () => {
    const { hub, last, hello } = harness();
    const one: unknown[][] = [];
    const all: unknown[][] = [];
    hub.subscribeRows({ datastore: 'telemetry_store', deviceId: 'sim-1', maxRowsPerFrame: 500 }, (f) => one.push(f.data[1]));
    hub.subscribeRows({ datastore: 'telemetry_store', maxRowsPerFrame: 2000 }, (f) => all.push(f.data[1]));
    hub.start();
    hello();
    expect(last().frames()).toEqual([{ type: 'subscribe', datastore: 'telemetry_store', maxRowsPerFrame: 2000 }]);
    last().receive(rowsFrame(['sim-1', 'sim-2', 'sim-1']));
    last().receive(rowsFrame(['sim-3']));
    expect(one).toEqual([['sim-1', 'sim-1']]);
    expect(all).toEqual([['sim-1', 'sim-2', 'sim-1'], ['sim-3']]);
  });

  it('resends every subscription after a reconnect and then tells the views to fetch what they missed', () => {
    const { hub, sockets, last, hello, fireTimer } = harness();
    let reconnects = 0;
    hub.onReconnect(() => reconnects++);
    hub.subscribeRows({ datastore: 'telemetry_store', deviceId: 'sim-1' }, () => {});
    hub.start();
    hello();
    expect(reconnects).toBe(0); // the first connection is not a reconnect
    last().drop();
    fireTimer();
    expect(sockets).toHaveLength(2);
    hello();
    expect(sockets[1].frames()).toEqual([{ type: 'subscribe', datastore: 'telemetry_store', deviceId: 'sim-1' }]);
    expect(reconnects).toBe(1);
  });

  it('reconnects with growing, capped delays while the server stays away', () => {
    const { hub, sockets, timers, fireTimer, last, states } = harness();
    hub.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      last().drop();
      delays.push(timers[0].ms);
      fireTimer();
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(sockets).toHaveLength(7);
    expect(states.some((s) => s.kind === 'reconnecting')).toBe(true);
  });

  it('spreads reconnect delays with jitter', () => {
    const delays = [0, 0.5, 0.9].map((r) => {
      const sockets: FakeSocket[] = [];
      const timers: number[] = [];
      const hub = new LiveHubClient({
        url: 'ws://x/api/live',
        createSocket: (url) => (sockets.push(new FakeSocket(url)), sockets[sockets.length - 1]),
        backoff: { initialMs: 1000, factor: 2, maxMs: 10_000, jitter: 0.5 },
        random: () => r,
        setTimer: (_cb, ms) => timers.push(ms),
        clearTimer: () => {},
      });
      hub.start();
      sockets[0].drop();
      return timers[0];
    });
    expect(delays).toEqual([1000, 750, 550]);
  });

  it('starts the backoff afresh once a server answered with hello', () => {
    const { hub, timers, fireTimer, last, hello } = harness();
    hub.start();
    last().drop();
    fireTimer();
    last().drop();
    expect(timers[0].ms).toBe(200);
    fireTimer();
    hello();
    last().drop();
    expect(timers[0].ms).toBe(100);
  });

  it('passes alert and dataset frames to their listeners, and keeps the last error frame', () => {
    const { hub, last, hello } = harness();
    const kinds: string[] = [];
    hub.onAlert((f) => kinds.push(`alert:${f.event}`));
    const stopDataset = hub.onDataset((f) => kinds.push(`dataset:${f.datasetName}`));
    hub.start();
    hello();
    last().receive({ type: 'alert', event: 'opened', alert: { alertId: 'a' }, dropped: 0 });
    last().receive({ type: 'dataset', datasetName: 'fleet_summary', versionId: 'v', state: 'SUCCEEDED', completedAt: 1 });
    stopDataset();
    last().receive({ type: 'dataset', datasetName: 'ignored', versionId: 'v', state: 'SUCCEEDED', completedAt: 1 });
    last().receive({ type: 'error', code: 'ResourceNotFoundException', message: 'datastore x does not exist' });
    expect(kinds).toEqual(['alert:opened', 'dataset:fleet_summary']);
    expect(hub.lastError).toEqual({ code: 'ResourceNotFoundException', message: 'datastore x does not exist' });
  });

  it('counts dropped and decimated rows and unreadable frames without failing', () => {
    const { hub, last, hello } = harness();
    hub.subscribeRows({ datastore: 'telemetry_store' }, () => {});
    hub.start();
    hello();
    last().receive('not json');
    last().receive({ type: 'mystery' });
    last().receive({ ...rowsFrame(['a']), dropped: 7, decimated: 3 });
    expect(hub.badFrames).toBe(2);
    expect(hub.droppedRows).toBe(7);
    expect(hub.decimatedRows).toBe(3);
  });

  it('keeps other listeners fed when one throws', () => {
    const { hub, last, hello, listenerErrors } = harness();
    const got: number[] = [];
    hub.subscribeRows({ datastore: 'telemetry_store' }, () => {
      throw new Error('view bug');
    });
    hub.subscribeRows({ datastore: 'telemetry_store' }, (f) => got.push(f.data[0].length));
    hub.start();
    hello();
    last().receive(rowsFrame(['a', 'b']));
    expect(got).toEqual([2]);
    expect(listenerErrors).toHaveLength(1);
  });

  it('stops reconnecting after stop() and resubscribes on the next start()', () => {
    const { hub, sockets, timers, states, last, hello } = harness();
    hub.subscribeRows({ datastore: 'telemetry_store' }, () => {});
    hub.start();
    hello();
    hub.stop();
    expect(sockets[0].closed).toBe(true);
    sockets[0].drop();
    expect(timers).toHaveLength(0);
    expect(states.at(-1)).toEqual({ kind: 'stopped' });
    hub.start();
    expect(sockets).toHaveLength(2);
    hello();
    expect(last().frames()).toEqual([{ type: 'subscribe', datastore: 'telemetry_store' }]);
  });
});

describe('mergedSubscription', () => {
  it('filters to a device only when every listener wants that one device', () => {
    expect(mergedSubscription('s', [{ datastore: 's', deviceId: 'a' }, { datastore: 's', deviceId: 'a' }])).toEqual({ type: 'subscribe', datastore: 's', deviceId: 'a' });
    expect(mergedSubscription('s', [{ datastore: 's', deviceId: 'a' }, { datastore: 's', deviceId: 'b' }])).toEqual({ type: 'subscribe', datastore: 's' });
    expect(mergedSubscription('s', [{ datastore: 's', deviceId: 'a' }, { datastore: 's' }])).toEqual({ type: 'subscribe', datastore: 's' });
  });

  it('decimates only when every listener accepts it, to the widest', () => {
    expect(mergedSubscription('s', [{ datastore: 's', maxRowsPerFrame: 300 }, { datastore: 's', maxRowsPerFrame: 900 }]).maxRowsPerFrame).toBe(900);
    expect(mergedSubscription('s', [{ datastore: 's', maxRowsPerFrame: 300 }, { datastore: 's' }])).not.toHaveProperty('maxRowsPerFrame');
  });
});

describe('liveUrl', () => {
  it('uses wss for https pages and ws otherwise', () => {
    expect(liveUrl('https:', 'example.com')).toBe('wss://example.com/api/live');
    expect(liveUrl('http:', '127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/api/live');
  });
});
