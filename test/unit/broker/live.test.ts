import { EventEmitter } from 'node:events';
import { createLiveFeed, decimate, toColumnar } from '../../../broker/live.js';
import type { LiveDatasetFrame, LiveRowsFrame } from '../../../broker/contract.js';
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

async function subscribed(feed: ReturnType<typeof createLiveFeed>, options: Record<string, unknown> = {}) {
  const socket = new FakeSocket();
  feed.accept(socket as unknown as WebSocket);
  socket.emit('message', JSON.stringify({ type: 'subscribe', datastore: 'store', ...options }));
  return socket;
}

const rowFrames = (socket: FakeSocket) => socket.sent.filter((f) => (f as { type: string }).type === 'rows') as LiveRowsFrame[];
const column = (frame: LiveRowsFrame, name: string) => frame.data[frame.columns.indexOf(name)];

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

  it('sends a device subscription only the rows whose deviceId is that device', async () => {
    const feed = createLiveFeed(() => ['store'], { maxPendingRows: 100, highWaterBytes: 1000 });
    const one = await subscribed(feed, { deviceId: 'd1' });
    const all = await subscribed(feed);
    feed.publish('store', [{ __dt: 1, deviceId: 'd1', v: 1 }, { __dt: 2, deviceId: 'd2', v: 2 }, { __dt: 3, deviceId: 'd1', v: 3 }, { __dt: 4, v: 4 }]);
    feed.publish('store', [{ __dt: 5, deviceId: 'd2', v: 5 }]);
    await tick();
    expect(rowFrames(one)).toHaveLength(1);
    expect(column(rowFrames(one)[0], 'v')).toEqual([1, 3]);
    expect(column(rowFrames(all)[0], 'v')).toEqual([1, 2, 3, 4, 5]);
  });

  it('replaces a subscription\'s options when the client subscribes to the same datastore again', async () => {
    const feed = createLiveFeed(() => ['store'], { maxPendingRows: 100, highWaterBytes: 1000 });
    const socket = await subscribed(feed, { deviceId: 'd1' });
    socket.emit('message', JSON.stringify({ type: 'subscribe', datastore: 'store', deviceId: 'd2' }));
    feed.publish('store', [{ __dt: 1, deviceId: 'd1', v: 1 }, { __dt: 2, deviceId: 'd2', v: 2 }]);
    await tick();
    socket.emit('message', JSON.stringify({ type: 'subscribe', datastore: 'store' }));
    feed.publish('store', [{ __dt: 3, deviceId: 'd1', v: 3 }]);
    await tick();
    expect(rowFrames(socket).map((f) => column(f, 'v'))).toEqual([[2], [3]]);
  });

  it('decimates pending rows evenly to about maxRowsPerFrame, keeping each device\'s newest row, and counts what it left out', async () => {
    const feed = createLiveFeed(() => ['store'], { maxPendingRows: 10_000, highWaterBytes: 1000 });
    const socket = await subscribed(feed, { maxRowsPerFrame: 10 });
    const rows = Array.from({ length: 1000 }, (_, i) => ({ __dt: i, deviceId: i === 3 ? 'rare' : 'busy', v: i }));
    feed.publish('store', rows);
    await tick();
    const [frame] = rowFrames(socket);
    const kept = column(frame, 'v') as number[];
    expect(kept.length).toBeGreaterThanOrEqual(9);
    expect(kept.length).toBeLessThanOrEqual(11);
    expect(kept).toEqual([...kept].sort((a, b) => a - b)); // commit order survives
    expect(kept).toContain(3); // the rare device's only (newest) row
    expect(kept).toContain(999); // the busy device's newest row
    // evenly spread: no gap between kept rows is much wider than the average one
    const gaps = kept.slice(1).map((v, i) => v - kept[i]);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2 * (1000 / 10));
    expect(frame.decimated).toBe(1000 - kept.length);
    expect(feed.counters().decimated).toBe(1000 - kept.length);
    expect(feed.counters().rowsSent).toBe(kept.length);
  });

  it('leaves rows alone when they fit maxRowsPerFrame, and keeps one row per device when devices outnumber it', () => {
    const rows = [{ deviceId: 'a', v: 1 }, { deviceId: 'b', v: 2 }, { deviceId: 'c', v: 3 }, { deviceId: 'a', v: 4 }];
    expect(decimate(rows, 4)).toEqual(rows);
    expect(decimate(rows, 2).map((r) => r.v)).toEqual([2, 3, 4]);
  });

  it('refuses subscription options of the wrong type with an error frame', () => {
    const feed = createLiveFeed(() => ['store'], { maxPendingRows: 3, highWaterBytes: 100 });
    const socket = new FakeSocket();
    feed.accept(socket as unknown as WebSocket);
    socket.emit('message', JSON.stringify({ type: 'subscribe', datastore: 'store', maxRowsPerFrame: 0 }));
    socket.emit('message', JSON.stringify({ type: 'subscribe', datastore: 'store', maxRowsPerFrame: 2.5 }));
    socket.emit('message', JSON.stringify({ type: 'subscribe', datastore: 'store', deviceId: 7 }));
    expect(socket.sent.slice(1)).toEqual([
      { type: 'error', code: 'InvalidRequestException', message: expect.stringContaining('maxRowsPerFrame') },
      { type: 'error', code: 'InvalidRequestException', message: expect.stringContaining('maxRowsPerFrame') },
      { type: 'error', code: 'InvalidRequestException', message: expect.stringContaining('deviceId') },
    ]);
  });

  it('gives each client exactly its own pending rows when clients with equal subscriptions share frames', async () => {
    const feed = createLiveFeed(() => ['store'], { maxPendingRows: 2, highWaterBytes: 100 });
    const early = await subscribed(feed, { maxRowsPerFrame: 10 });
    feed.publish('store', [{ __dt: 1 }]);
    const late = await subscribed(feed, { maxRowsPerFrame: 10 }); // joins with the first publish pending for `early`
    const slow = await subscribed(feed, { maxRowsPerFrame: 10 });
    slow.bufferedAmount = 1000;
    feed.publish('store', [{ __dt: 2 }, { __dt: 3 }]);
    await tick();
    expect(rowFrames(early).map((f) => [column(f, '__dt'), f.dropped])).toEqual([[[2, 3], 1]]);
    expect(rowFrames(late).map((f) => [column(f, '__dt'), f.dropped])).toEqual([[[2, 3], 0]]);
    expect(rowFrames(slow)).toEqual([]);
    // the slow client catches up with what it kept, while the others share the next frame
    slow.bufferedAmount = 0;
    feed.publish('store', [{ __dt: 4 }]);
    await new Promise((r) => setTimeout(r, 80));
    expect(rowFrames(slow).map((f) => [column(f, '__dt'), f.dropped])).toEqual([[[3, 4], 1]]);
    expect(rowFrames(early).at(-1)).toEqual(rowFrames(late).at(-1));
    expect(column(rowFrames(early).at(-1)!, '__dt')).toEqual([4]);
  });

  it('sends dataset events to every client without a subscription', async () => {
    const feed = createLiveFeed(() => ['store'], { maxPendingRows: 3, highWaterBytes: 100 });
    const a = new FakeSocket();
    const b = await subscribed(feed);
    feed.accept(a as unknown as WebSocket);
    const event: LiveDatasetFrame = { type: 'dataset', datasetName: 'fleet_summary', versionId: 'v1', state: 'FAILED', completedAt: 5, reason: 'bad SQL' };
    feed.publishDataset(event);
    await tick();
    for (const s of [a, b]) expect(s.sent.filter((f) => (f as { type: string }).type === 'dataset')).toEqual([event]);
    expect(feed.counters()).toMatchObject({ datasetsSent: 2, datasetsDropped: 0 });
  });

  it('keeps a slow client\'s newest dataset events within its bound, counting the oldest it drops', async () => {
    const feed = createLiveFeed(() => ['store'], { maxPendingRows: 3, highWaterBytes: 100, maxPendingDatasets: 2 });
    const socket = new FakeSocket();
    feed.accept(socket as unknown as WebSocket);
    socket.bufferedAmount = 1000;
    for (let i = 0; i < 5; i++) feed.publishDataset({ type: 'dataset', datasetName: 'd', versionId: `v${i}`, state: 'SUCCEEDED', completedAt: i });
    await tick();
    socket.bufferedAmount = 0;
    await new Promise((r) => setTimeout(r, 80));
    const sent = socket.sent.filter((f) => (f as { type: string }).type === 'dataset') as LiveDatasetFrame[];
    expect(sent.map((f) => f.versionId)).toEqual(['v3', 'v4']);
    expect(feed.counters().datasetsDropped).toBe(3);
  });
});
