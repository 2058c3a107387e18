import { EventEmitter } from 'node:events';
import { createLiveFeed, toColumnar } from '../../../broker/live.js';
import type { WebSocket } from '../../../broker/http/websocket.js';

class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: unknown[] = [];
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.readyState = 3;
  }
  terminate() {}
}

const tick = () => new Promise((r) => setImmediate(r));

async function subscribed(feed: ReturnType<typeof createLiveFeed>) {
  const socket = new FakeSocket();
  feed.accept(socket as unknown as WebSocket);
  socket.emit('message', JSON.stringify({ type: 'subscribe', datastore: 'store' }));
  return socket;
}

describe('the live feed', () => {
  it('turns rows into columns with __dt first and nulls for missing attributes', () => {
    const frame = toColumnar('store', [{ __dt: 5, a: 1 }, { b: 'x', __dt: 6 }], 0);
    expect(frame.columns).toEqual(['__dt', 'a', 'b']);
    expect(frame.data).toEqual([[5, 6], [1, null], [null, 'x']]);
  });

  it('greets a new client with the datastores it can subscribe to', () => {
    const feed = createLiveFeed(() => ['store'], { maxPendingRows: 10, highWaterBytes: 1000 });
    const socket = new FakeSocket();
    feed.accept(socket as unknown as WebSocket);
    expect(socket.sent[0]).toEqual({ type: 'hello', datastores: ['store'] });
  });

  it('sends rows only to clients subscribed to that datastore', async () => {
    const feed = createLiveFeed(() => ['store', 'other'], { maxPendingRows: 10, highWaterBytes: 1000 });
    const socket = await subscribed(feed);
    feed.publish('other', [{ __dt: 1 }]);
    feed.publish('store', [{ __dt: 2, v: 1 }]);
    await tick();
    const rows = socket.sent.filter((f) => (f as { type: string }).type === 'rows');
    expect(rows).toEqual([{ type: 'rows', datastore: 'store', columns: ['__dt', 'v'], data: [[2], [1]], dropped: 0 }]);
  });

  it('coalesces commits for a slow client and drops the oldest rows beyond its cap, counting them', async () => {
    const feed = createLiveFeed(() => ['store'], { maxPendingRows: 3, highWaterBytes: 100 });
    const socket = await subscribed(feed);
    socket.bufferedAmount = 1000; // the browser is not reading
    for (let i = 0; i < 5; i++) feed.publish('store', [{ __dt: i }]);
    await tick();
    expect(socket.sent.filter((f) => (f as { type: string }).type === 'rows')).toHaveLength(0);
    socket.bufferedAmount = 0;
    await new Promise((r) => setTimeout(r, 80));
    const rows = socket.sent.filter((f) => (f as { type: string }).type === 'rows') as { data: number[][]; dropped: number }[];
    expect(rows).toHaveLength(1);
    expect(rows[0].data[0]).toEqual([2, 3, 4]);
    expect(rows[0].dropped).toBe(2);
    expect(feed.counters().rowsDropped).toBe(2);
  });

  it('answers a malformed or unknown subscription with a coded error', () => {
    const feed = createLiveFeed(() => ['store'], { maxPendingRows: 3, highWaterBytes: 100 });
    const socket = new FakeSocket();
    feed.accept(socket as unknown as WebSocket);
    socket.emit('message', 'not json');
    socket.emit('message', JSON.stringify({ type: 'subscribe', datastore: 'nope' }));
    expect(socket.sent.slice(1)).toEqual([
      expect.objectContaining({ type: 'error', code: 'InvalidRequestException' }),
      expect.objectContaining({ type: 'error', code: 'ResourceNotFoundException' }),
    ]);
  });
});
