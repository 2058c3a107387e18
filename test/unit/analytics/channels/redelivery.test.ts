import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Channel } from '../../../../analytics/channels/index.js';
import { RedeliveryIndex } from '../../../../analytics/channels/redelivery.js';
import type { ArchivedMessage, IncomingChannelMessage } from '../../../../analytics/types.js';

let dir: string;
const open: Channel[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iotcore-redelivery-'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
  await rm(dir, { recursive: true, force: true });
});

async function openChannel(opts: Parameters<typeof Channel.open>[2] = {}): Promise<Channel> {
  const c = await Channel.open(dir, { channelName: 'ch' }, opts);
  open.push(c);
  return c;
}

function msg(text: string, deliveryKey?: string, redelivered = false): IncomingChannelMessage {
  return { payload: Buffer.from(text), deliveryKey, redelivered };
}

async function payloads(c: Channel): Promise<string[]> {
  const out: string[] = [];
  for await (const m of c.read() as AsyncIterable<ArchivedMessage>) out.push(m.payload.toString());
  return out;
}

describe('RedeliveryIndex', () => {
  it('answers the archive time of a key once the write that claimed it has settled, and the write while it is in flight', () => {
    const index = new RedeliveryIndex();
    const write = Promise.resolve();
    index.writing('k', write, 10);
    expect(index.find('k', 11)).toBe(write);
    index.archived('k', write, 12);
    expect(index.find('k', 13)).toBe(12);
    expect(index.find('other', 13)).toBeUndefined();
  });

  it('forgets the oldest key beyond maxKeys and counts it', () => {
    const index = new RedeliveryIndex({ maxKeys: 2 });
    for (const k of ['a', 'b', 'c']) index.writing(k, Promise.resolve(), 0);
    expect(index.find('a', 0)).toBeUndefined();
    expect(index.find('c', 0)).toBeDefined();
    expect(index.size).toBe(2);
    expect(index.evicted).toBe(1);
  });

  it('does not match a key older than maxAgeMs and evicts it, counted, on the next write', () => {
    const index = new RedeliveryIndex({ maxAgeMs: 100 });
    const w = Promise.resolve();
    index.writing('old', w, 0);
    index.archived('old', w, 0);
    expect(index.find('old', 100)).toBe(0);
    expect(index.find('old', 101)).toBeUndefined();
    index.writing('new', Promise.resolve(), 101);
    expect(index.size).toBe(1);
    expect(index.evicted).toBe(1);
  });

  it('forgets a key whose write failed, but not one a later write has claimed again', () => {
    const index = new RedeliveryIndex();
    const first = Promise.resolve();
    const second = Promise.resolve();
    index.writing('k', first, 0);
    index.failed('k', first);
    expect(index.find('k', 0)).toBeUndefined();
    index.writing('k', first, 0);
    index.writing('k', second, 1);
    index.failed('k', first);
    index.archived('k', first, 2);
    expect(index.find('k', 3)).toBe(second);
  });

  it('keeps a key claimed again at its newest place, so passing its old place forgets nothing', () => {
    const index = new RedeliveryIndex({ maxKeys: 3 });
    const w = Promise.resolve();
    for (const k of ['a', 'b', 'a', 'c']) index.writing(k, w, 0);
    expect(['a', 'b', 'c'].map((k) => index.find(k, 0))).toEqual([w, w, w]);
    expect(index.evicted).toBe(0);
    index.writing('d', w, 0);
    expect(index.find('b', 0)).toBeUndefined();
    expect(index.find('a', 0)).toBe(w);
    expect(index.size).toBe(3);
    expect(index.evicted).toBe(1);
  });

  it('remembers every key up to maxKeys, each with its own archive time, however many it has held before', () => {
    const index = new RedeliveryIndex({ maxKeys: 5000 });
    for (let i = 0; i < 12_000; i++) {
      const w = Promise.resolve();
      index.writing(`k${i}`, w, i);
      index.archived(`k${i}`, w, i);
    }
    expect(index.size).toBe(5000);
    expect(index.evicted).toBe(7000);
    expect(index.find('k6999', 12_000)).toBeUndefined();
    for (const i of [7000, 9001, 11_999]) expect(index.find(`k${i}`, 12_000)).toBe(i);
  });

  it('loads keys from the archive within the bounds without counting evictions', () => {
    const index = new RedeliveryIndex({ maxKeys: 2, maxAgeMs: 100 });
    index.load('too-old', 0, 200);
    for (const [k, at] of [['a', 150], ['b', 160], ['c', 170]] as const) index.load(k, at, 200);
    expect(index.find('too-old', 200)).toBeUndefined();
    expect(index.find('a', 200)).toBeUndefined();
    expect(index.find('c', 200)).toBe(170);
    expect(index.evicted).toBe(0);
  });
});

describe('a channel receiving resent deliveries', () => {
  it('acknowledges a redelivered message whose key is archived without archiving it again', async () => {
    const c = await openChannel();
    expect(await c.append([msg('x', 'k1')])).toHaveLength(1);
    expect(await c.append([msg('x', 'k1', true)])).toEqual([]);
    expect(await payloads(c)).toEqual(['x']);
    expect(c.counters()).toMatchObject({ messages: 1, duplicatesDropped: 1, redeliveryKeys: 1 });
  });

  it('archives the messages of a batch that are not duplicates, in order', async () => {
    const c = await openChannel();
    await c.append([msg('a', 'k1')]);
    const archived = await c.append([msg('b', 'k0', true), msg('a', 'k1', true), msg('c')]);
    expect(archived.map((m) => m.payload.toString())).toEqual(['b', 'c']);
    expect(await payloads(c)).toEqual(['a', 'b', 'c']);
  });

  it('archives a message with a known key that is not flagged as a redelivery (a reused packet id)', async () => {
    const c = await openChannel();
    await c.append([msg('x', 'k1')]);
    await c.append([msg('x', 'k1')]);
    expect(await payloads(c)).toEqual(['x', 'x']);
    expect(c.counters().duplicatesDropped).toBe(0);
  });

  it('archives a redelivered message whose key it has never seen', async () => {
    const c = await openChannel();
    await c.append([msg('x', 'k1', true)]);
    expect(await payloads(c)).toEqual(['x']);
  });

  it('makes a redelivery that races its original wait for the original write and archives the message once', async () => {
    const c = await openChannel({ flushDelayMs: 20 });
    const original = c.append([msg('x', 'k1')]);
    let resendDone = false;
    const resend = c.append([msg('x', 'k1', true)]).then((r) => {
      resendDone = true;
      return r;
    });
    expect(resendDone).toBe(false);
    expect(await original).toHaveLength(1);
    expect(await resend).toEqual([]);
    expect(await payloads(c)).toEqual(['x']);
    expect(c.counters().duplicatesDropped).toBe(1);
  });

  it('keeps the key of a message that had to wait for room, so its resends are not archived again', async () => {
    const c = await openChannel({ maxPendingMessages: 1, flushDelayMs: 20 });
    const first = c.append([msg('a', 'k0')]);
    const waiting = c.append([msg('b', 'k1')]); // the channel is full: it waits for room
    expect(c.counters().backpressureWaits).toBe(1);
    const racing = c.append([msg('b', 'k1', true)]); // a resend while the original still waits
    await first;
    expect(await waiting).toHaveLength(1);
    expect(await racing).toEqual([]);
    await expect(c.append([msg('b', 'k1', true)])).resolves.toEqual([]); // and one after it is archived
    expect(await payloads(c)).toEqual(['a', 'b']);
    expect(c.counters().duplicatesDropped).toBe(2);
  });

  it('ages the key of a message that waited for room from when it was archived, like any other', async () => {
    let clock = 1_000_000;
    const c = await openChannel({ maxPendingMessages: 1, flushDelayMs: 20, now: () => clock, redelivery: { maxAgeMs: 1000 } });
    const first = c.append([msg('a', 'k0')]);
    const waiting = c.append([msg('b', 'k1')]);
    await first;
    await waiting;
    clock += 2000; // past the window: a resend now is a new message to the channel
    expect(await c.append([msg('b', 'k1', true)])).toHaveLength(1);
    expect(await payloads(c)).toEqual(['a', 'b', 'b']);
  });

  it('rebuilds the window from the archive after a crash, so a resend after the restart is not archived again', async () => {
    const c1 = await openChannel();
    await c1.append([msg('a', 'k1'), msg('b', 'k2'), msg('plain')]);
    // no close(): as after kill -9
    const c2 = await openChannel();
    expect(c2.counters().redeliveryKeys).toBe(2);
    await c2.append([msg('b', 'k2', true), msg('c', 'k3', true)]);
    expect(await payloads(c2)).toEqual(['a', 'b', 'plain', 'c']);
    expect(c2.counters().duplicatesDropped).toBe(1);
  });

  it('does not rebuild keys older than the age bound', async () => {
    let now = Date.now();
    const c1 = await openChannel({ now: () => now, redelivery: { maxAgeMs: 1000 } });
    await c1.append([msg('a', 'k1')]);
    await c1.close();
    now += 1001;
    const c2 = await openChannel({ now: () => now, redelivery: { maxAgeMs: 1000 } });
    expect(c2.counters().redeliveryKeys).toBe(0);
    await c2.append([msg('a', 'k1', true)]);
    expect(await payloads(c2)).toEqual(['a', 'a']);
  });

  it('rebuilds at most maxKeys keys, the newest', async () => {
    const c1 = await openChannel({ redelivery: { maxKeys: 2 } });
    await c1.append([msg('a', 'k1'), msg('b', 'k2')]);
    await c1.append([msg('c', 'k3')]);
    await c1.close();
    const c2 = await openChannel({ redelivery: { maxKeys: 2 } });
    expect(c2.counters().redeliveryKeys).toBe(2);
    await c2.append([msg('a', 'k1', true), msg('c', 'k3', true)]);
    expect(await payloads(c2)).toEqual(['a', 'b', 'c', 'a']);
  });

  it('keeps the delivery key in the archived record', async () => {
    const c = await openChannel();
    await c.append([msg('a', 'k1'), msg('b')]);
    const read: ArchivedMessage[] = [];
    for await (const m of c.read()) read.push(m);
    expect(read.map((m) => m.deliveryKey)).toEqual(['k1', undefined]);
  });
});
