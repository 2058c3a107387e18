import { mkdtemp, readdir, readFile, rm, stat, appendFile, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Channel } from '../../../../analytics/channels/index.js';
import type { ArchivedMessage, IncomingChannelMessage } from '../../../../analytics/types.js';

const DAY = 86_400_000;
let dir: string;
const open: Channel[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iotcore-channel-'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
  await rm(dir, { recursive: true, force: true });
});

async function openChannel(name = 'ch1', opts: Parameters<typeof Channel.open>[2] = {}, retention?: { numberOfDays?: number; unlimited?: boolean }): Promise<Channel> {
  const c = await Channel.open(dir, { channelName: name, retentionPeriod: retention }, opts);
  open.push(c);
  return c;
}

function msg(text: string, extra: Partial<IncomingChannelMessage> = {}): IncomingChannelMessage {
  return { payload: Buffer.from(text), ...extra };
}

async function segmentFiles(channel = 'ch1'): Promise<string[]> {
  const base = join(dir, 'channels', channel);
  const out: string[] = [];
  for (const day of (await readdir(base)).filter((d) => d.startsWith('__dt='))) {
    for (const f of await readdir(join(base, day))) out.push(join(base, day, f));
  }
  return out.sort();
}

async function collect(it: AsyncIterable<ArchivedMessage>): Promise<ArchivedMessage[]> {
  const out: ArchivedMessage[] = [];
  for await (const m of it) out.push(m);
  return out;
}

describe('Channel archive', () => {
  it('has the records on disk by the time append resolves', async () => {
    const c = await openChannel('ch1', { flushDelayMs: 50 });
    const archived = await c.append([msg('{"a":1}', { clientId: 'dev1', topic: 't/1', messageId: 'm1' })]);
    // read the file directly, without any flush: the bytes must already be there
    const files = await segmentFiles();
    expect(files).toHaveLength(1);
    const lines = gunzipSync(await readFile(files[0])).toString('utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0]);
    expect(rec).toMatchObject({ seq: archived[0].seq, clientId: 'dev1', topic: 't/1', messageId: 'm1' });
    expect(Buffer.from(rec.payload, 'base64').toString()).toBe('{"a":1}');
    expect(typeof rec.receivedAt).toBe('number');
  });

  it('shares one write between concurrent appends (group commit) and keeps their order', async () => {
    const c = await openChannel('ch1', { flushDelayMs: 5 });
    const results = await Promise.all([c.append([msg('1')]), c.append([msg('2'), msg('3')]), c.append([msg('4')])]);
    expect(results.flat().map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(c.counters().batches).toBe(1);
    expect(c.counters().messages).toBe(4);
  });

  it('writes a multi-member gzip segment that a standard gunzip and the reader both read completely', async () => {
    const c = await openChannel();
    for (let i = 0; i < 5; i++) await c.append([msg(`{"i":${i}}`)]);
    const files = await segmentFiles();
    expect(files).toHaveLength(1);
    expect(c.counters().batches).toBe(5);
    const lines = gunzipSync(await readFile(files[0])).toString('utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).seq)).toEqual([1, 2, 3, 4, 5]);
    const back = await collect(c.read());
    expect(back.map((m) => m.payload.toString())).toEqual([0, 1, 2, 3, 4].map((i) => `{"i":${i}}`));
  });

  it('stores binary payloads byte for byte', async () => {
    const c = await openChannel();
    const bin = Buffer.from([0, 255, 1, 128, 10, 13]);
    await c.append([{ payload: bin }]);
    const [back] = await collect(c.read());
    expect(back.payload.equals(bin)).toBe(true);
  });

  it('continues the sequence after a reopen and starts a new segment', async () => {
    const c1 = await openChannel();
    await c1.append([msg('a'), msg('b'), msg('c')]);
    await c1.close();
    const c2 = await openChannel();
    const [next] = await c2.append([msg('d')]);
    expect(next.seq).toBe(4);
    expect(await segmentFiles()).toHaveLength(2);
    expect((await collect(c2.read())).map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });

  it('recovers the last sequence from the newest segment even without a clean close', async () => {
    const c1 = await openChannel('crashy');
    await c1.append([msg('a'), msg('b')]);
    await c1.append([msg('c')]);
    // simulate a crash: no close() (no seq.json), and a torn tail member after the good ones
    const [file] = await segmentFiles('crashy');
    const torn = gzipSync(Buffer.from('{"seq":99,"receivedAt":1,"payload":"eA=="}\n')).subarray(0, 15);
    await appendFile(file, torn);
    const c2 = await Channel.open(dir, { channelName: 'crashy' });
    open.push(c2);
    const [next] = await c2.append([msg('d')]);
    expect(next.seq).toBe(4);
    expect((await collect(c2.read())).map((m) => m.payload.toString())).toEqual(['a', 'b', 'c', 'd']);
  });

  it('partitions segments by UTC day as __dt=YYYY-MM-DD 00:00:00', async () => {
    let now = Date.parse('2020-02-29T23:59:59.000Z');
    const c = await openChannel('ch1', { now: () => now });
    await c.append([msg('late')]);
    now = Date.parse('2020-03-01T00:00:01.000Z');
    await c.append([msg('early')]);
    const days = (await readdir(join(dir, 'channels', 'ch1'))).filter((d) => d.startsWith('__dt=')).sort();
    expect(days).toEqual(['__dt=2020-02-29 00:00:00', '__dt=2020-03-01 00:00:00']);
    const range = await collect(c.read({ startTime: Date.parse('2020-03-01T00:00:00Z'), endTime: Date.parse('2020-03-02T00:00:00Z') }));
    expect(range.map((m) => m.payload.toString())).toEqual(['early']);
  });

  it('deletes days older than the retention period and keeps the sequence going', async () => {
    let now = Date.parse('2024-01-01T12:00:00Z');
    const c = await openChannel('ret', { now: () => now }, { numberOfDays: 2 });
    await c.append([msg('old')]);
    now += 1 * DAY;
    await c.append([msg('newer')]);
    now += 2 * DAY; // 2024-01-04 12:00: cutoff 2024-01-02 12:00 → 2024-01-01 fully expired
    await c.applyRetention();
    const days = (await readdir(join(dir, 'channels', 'ret'))).filter((d) => d.startsWith('__dt=')).sort();
    expect(days).toEqual(['__dt=2024-01-02 00:00:00']);
    expect(c.counters().retentionDeletedDays).toBe(1);
    now += 10 * DAY;
    await c.applyRetention();
    await c.close();
    const c2 = await Channel.open(dir, { channelName: 'ret', retentionPeriod: { numberOfDays: 2 } }, { now: () => now });
    open.push(c2);
    const [next] = await c2.append([msg('after')]);
    expect(next.seq).toBe(3);
  });

  it('keeps everything when retention is unlimited', async () => {
    let now = Date.parse('2024-01-01T12:00:00Z');
    const c = await openChannel('keep', { now: () => now }, { unlimited: true });
    await c.append([msg('old')]);
    now += 400 * DAY;
    await c.applyRetention();
    expect(await collect(c.read())).toHaveLength(1);
  });

  it('makes appends wait when the pending cap is reached and counts the waits', async () => {
    const c = await openChannel('bp', { maxPendingMessages: 2, flushDelayMs: 20, flushMessages: 1000 });
    const p1 = c.append([msg('1'), msg('2')]);
    const p2 = c.append([msg('3')]);
    expect(c.counters().backpressureWaits).toBe(1);
    expect(c.counters().pendingMessages).toBe(2);
    const [a, b] = await Promise.all([p1, p2]);
    expect([...a, ...b].map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(c.counters().pendingMessages).toBe(0);
  });

  it('rejects with ThrottlingException when too many appends already wait', async () => {
    const c = await openChannel('th', { maxPendingMessages: 1, maxWaiters: 1, flushDelayMs: 20 });
    const p1 = c.append([msg('1')]);
    const p2 = c.append([msg('2')]);
    await expect(c.append([msg('3')])).rejects.toMatchObject({ code: 'ThrottlingException', statusCode: 429 });
    await Promise.all([p1, p2]);
    expect(c.counters().rejections).toBe(1);
  });

  it('rejects the append with InternalFailureException when the write fails, and recovers afterwards', async () => {
    let now = Date.parse('2024-05-01T10:00:00Z');
    const c = await openChannel('broken', { now: () => now });
    await c.append([msg('ok')]);
    // The next write rolls to a new day; a plain file where that day's directory should be makes it fail.
    now += DAY;
    await writeFile(join(dir, 'channels', 'broken', '__dt=2024-05-02 00:00:00'), 'not a directory');
    await expect(c.append([msg('lost')])).rejects.toMatchObject({ code: 'InternalFailureException', statusCode: 500 });
    expect(c.counters().writeErrors).toBe(1);
    await rm(join(dir, 'channels', 'broken', '__dt=2024-05-02 00:00:00'));
    const [m] = await c.append([msg('later')]);
    expect(m.seq).toBe(3);
  });

  it('fails appends after close with ServiceUnavailableException', async () => {
    const c = await openChannel();
    await c.close();
    await expect(c.append([msg('x')])).rejects.toMatchObject({ code: 'ServiceUnavailableException', statusCode: 503 });
  });

  it('rolls to a new segment past the size limit', async () => {
    const c = await openChannel('roll', { maxSegmentBytes: 64 });
    for (let i = 0; i < 3; i++) await c.append([msg('x'.repeat(200) + i)]);
    expect((await segmentFiles('roll')).length).toBe(3);
    expect((await collect(c.read())).map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('notifies archive listeners in sequence order before the append resolves', async () => {
    const c = await openChannel();
    const seen: number[] = [];
    c.onArchived((ms) => seen.push(...ms.map((m) => m.seq)));
    const p = c.append([msg('a'), msg('b')]);
    const q = c.append([msg('c')]);
    const [a] = await Promise.all([p, q]);
    expect(seen.slice(0, 2)).toEqual(a.map((m) => m.seq));
    expect(seen).toEqual([1, 2, 3]);
    expect((await stat(dir)).isDirectory()).toBe(true);
  });

  it('reads the messages after a sequence number, starting at the right segment', async () => {
    const c = await openChannel('after', { maxSegmentBytes: 10, fsync: true });
    for (let i = 1; i <= 5; i++) await c.append([msg(`m${i}`)]);
    expect((await segmentFiles('after')).length).toBe(5);
    expect((await collect(c.readAfter(3))).map((m) => m.payload.toString())).toEqual(['m4', 'm5']);
    expect(await collect(c.readAfter(5))).toEqual([]);
  });

  it('persists the processed watermark and treats a channel without one as fully processed', async () => {
    const c1 = await openChannel('wm');
    await c1.append([msg('a'), msg('b')]);
    expect(c1.processedSeq).toBe(0);
    c1.markProcessed(1);
    await c1.close();
    const c2 = await openChannel('wm');
    expect(c2.processedSeq).toBe(1);
    expect(c2.lastSequence).toBe(2);
    await c2.close();
    await rm(join(dir, 'channels', 'wm', 'processed.json'));
    const c3 = await openChannel('wm');
    expect(c3.processedSeq).toBe(2);
  });

  it('ignores a day directory without segments when recovering', async () => {
    await mkdir(join(dir, 'channels', 'empty', '__dt=2030-01-01 00:00:00'), { recursive: true });
    const c = await openChannel('empty');
    const [m] = await c.append([msg('x')]);
    expect(m.seq).toBe(1);
  });
});
