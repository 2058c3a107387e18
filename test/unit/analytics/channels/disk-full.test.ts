// A full disk under a channel archive: a write that fails half-way is cut back so the segment stays
// whole, the append is refused with a DiskFull message, later appends are refused without touching
// the disk, and appends work again once there is room, with nothing refused ever read back.
// The "disk" is a byte budget in front of real files: a write takes what is left and the next one
// fails with ENOSPC, as write(2) does on a filling file system.
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Channel, type SegmentFile } from '../../../../analytics/channels/channel.js';
import { appendMember, AppendFailed, type AppendTarget } from '../../../../analytics/channels/append-member.js';
import { readSegment } from '../../../../analytics/channels/segment.js';
import { encodeRecord } from '../../../../analytics/channels/records.js';
import type { ArchivedMessage } from '../../../../analytics/types.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iotcore-diskfull-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Disk {
  free: number;
  writes: number;
  /** make truncate fail (a file system that refuses even to shrink) */
  truncateFails?: boolean;
  datasyncFails?: boolean;
}

function enospc(): Error {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
}

async function budgeted(path: string, disk: Disk): Promise<SegmentFile> {
  const fh = await open(path, 'a');
  return {
    async write(buf, off, len) {
      disk.writes++;
      const n = Math.min(len, disk.free);
      if (n <= 0) throw enospc();
      const r = await fh.write(buf, off, n);
      disk.free -= r.bytesWritten;
      return r;
    },
    datasync: () => (disk.datasyncFails ? Promise.reject(enospc()) : fh.datasync()),
    truncate: (n) => (disk.truncateFails ? Promise.reject(new Error('EIO')) : fh.truncate(n)),
    close: () => fh.close(),
  };
}

function member(...seqs: number[]): Buffer {
  return gzipSync(seqs.map((seq) => encodeRecord({ channelName: 'c', seq, receivedAt: 1, payload: Buffer.from(`{"n":${seq}}`) })).join(''));
}

async function seqsIn(file: string): Promise<number[]> {
  const out: number[] = [];
  for await (const m of readSegment(file, 'c')) out.push(m.seq);
  return out;
}

async function collect(it: AsyncIterable<ArchivedMessage>): Promise<string[]> {
  const out: string[] = [];
  for await (const m of it) out.push(m.payload.toString());
  return out;
}

describe('appendMember on a filling disk', () => {
  it('cuts a member the disk took only part of back off, so the segment reads as before and takes the next member', async () => {
    const file = join(dir, 'seg.json.gz');
    const disk: Disk = { free: 1 << 20, writes: 0 };
    const fh = await budgeted(file, disk);
    const first = member(1, 2);
    await appendMember(fh, first, 0, false);
    disk.free = 10; // the next member fits only in part
    const err = await appendMember(fh, member(3, 4), first.length, false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppendFailed);
    expect((err as AppendFailed).clean).toBe(true);
    expect(((err as AppendFailed).cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect((await stat(file)).size).toBe(first.length);
    expect(await seqsIn(file)).toEqual([1, 2]);

    disk.free = 1 << 20;
    await appendMember(fh, member(5), first.length, false);
    await fh.close();
    expect(await seqsIn(file)).toEqual([1, 2, 5]);
  });

  it('cuts a whole member off again when its datasync fails', async () => {
    const file = join(dir, 'seg.json.gz');
    const disk: Disk = { free: 1 << 20, writes: 0 };
    const fh = await budgeted(file, disk);
    const first = member(1);
    await appendMember(fh, first, 0, true);
    disk.datasyncFails = true;
    const err = (await appendMember(fh, member(2), first.length, true).catch((e: unknown) => e)) as AppendFailed;
    expect(err.clean).toBe(true);
    await fh.close();
    expect(await seqsIn(file)).toEqual([1]);
  });

  it('says the file is not whole when the cut fails after part of the member was written', async () => {
    const file = join(dir, 'seg.json.gz');
    const disk: Disk = { free: 5, writes: 0, truncateFails: true };
    const fh = await budgeted(file, disk);
    const err = (await appendMember(fh, member(1), 0, false).catch((e: unknown) => e)) as AppendFailed;
    expect(err.clean).toBe(false);
    disk.free = 0;
    const nothingWritten = (await appendMember(fh, member(2), 5, false).catch((e: unknown) => e)) as AppendFailed;
    expect(nothingWritten.clean).toBe(true); // the first write took nothing: the file is as it was
    await fh.close();
  });
});

describe('Channel on a full disk', () => {
  async function openChannel(disk: Disk): Promise<Channel> {
    return Channel.open(dir, { channelName: 'c' }, {
      flushDelayMs: 1,
      openFile: (path) => budgeted(path, disk),
      diskSpace: { probeMs: 5, minFreeBytes: 1000, freeBytes: async () => disk.free },
    });
  }

  it('refuses with DiskFull, refuses later appends without a write, and archives again once there is room', async () => {
    const disk: Disk = { free: 1 << 20, writes: 0 };
    const ch = await openChannel(disk);
    await ch.append([{ payload: Buffer.from('{"n":1}') }]);

    disk.free = 8;
    const refused = (await ch.append([{ payload: Buffer.from('{"n":2}') }]).catch((e: unknown) => e)) as Error & { code: string; statusCode: number; details?: Record<string, string> };
    expect({ code: refused.code, statusCode: refused.statusCode, reason: refused.details?.reason }).toEqual({ code: 'ServiceUnavailableException', statusCode: 503, reason: 'DiskFull' });
    expect(refused.message).toMatch(new RegExp(`^DiskFull: no space left on the disk holding ${join(dir, 'channels', 'c')} \\(0 bytes free\\)`));
    expect(ch.counters()).toMatchObject({ diskFull: 1, writesRolledBack: 1, diskFullRefusals: 1, writeErrors: 1 });

    const writes = disk.writes;
    await expect(ch.append([{ payload: Buffer.from('{"n":3}') }])).rejects.toThrow(/^DiskFull: /);
    expect(disk.writes).toBe(writes); // refused on the flag, the disk was not tried
    expect(ch.counters().diskFullRefusals).toBe(2);

    disk.free = 1 << 20;
    for (let i = 0; ch.counters().diskFull === 1 && i < 400; i++) await new Promise((r) => setTimeout(r, 5));
    expect(ch.counters().diskFull).toBe(0);
    await ch.append([{ payload: Buffer.from('{"n":4}') }]);
    expect(await collect(ch.readAfter(0))).toEqual(['{"n":1}', '{"n":4}']);
    await ch.close();

    // reopened: the archive is whole and numbering goes on after everything handed out
    const again = await Channel.open(dir, { channelName: 'c' });
    expect(await collect(again.readAfter(0))).toEqual(['{"n":1}', '{"n":4}']);
    const [next] = await again.append([{ payload: Buffer.from('{"n":5}') }]);
    expect(next.seq).toBeGreaterThan(ch.lastSequence);
    await again.close();
  });

  it('still acknowledges a resend of an archived message while the disk is full (nothing to write)', async () => {
    const disk: Disk = { free: 1 << 20, writes: 0 };
    const ch = await openChannel(disk);
    const original = { payload: Buffer.from('{"n":1}'), deliveryKey: '7:0:abc' };
    await ch.append([original]);
    disk.free = 0;
    await expect(ch.append([{ payload: Buffer.from('{"n":2}') }])).rejects.toThrow(/^DiskFull: /);
    await expect(ch.append([{ ...original, redelivered: true }])).resolves.toEqual([]);
    expect(ch.counters().duplicatesDropped).toBe(1);
    disk.free = 1 << 20;
    await ch.close();
  });

  it('archives the resend of a message whose write failed: a refused write leaves no delivery key behind', async () => {
    const disk: Disk = { free: 8, writes: 0 };
    const ch = await openChannel(disk);
    const message = { payload: Buffer.from('{"n":1}'), deliveryKey: '9:0:xyz' };
    await expect(ch.append([message])).rejects.toThrow(/^DiskFull: /);
    disk.free = 1 << 20;
    for (let i = 0; ch.counters().diskFull === 1 && i < 400; i++) await new Promise((r) => setTimeout(r, 5));
    const [archived] = await ch.append([{ ...message, redelivered: true }]);
    expect(archived?.deliveryKey).toBe('9:0:xyz');
    expect(ch.counters().duplicatesDropped).toBe(0);
    // and the key is remembered now: a second resend is acknowledged without a second copy
    await expect(ch.append([{ ...message, redelivered: true }])).resolves.toEqual([]);
    expect(await collect(ch.readAfter(0))).toEqual(['{"n":1}']);
    await ch.close();
  });

  it('never appends behind a torn member it could not cut off, so every acknowledged message stays readable', async () => {
    const disk: Disk = { free: 1 << 20, writes: 0 };
    const ch = await openChannel(disk);
    await ch.append([{ payload: Buffer.from('{"n":1}') }]);
    disk.free = 8;
    disk.truncateFails = true;
    await expect(ch.append([{ payload: Buffer.from('{"n":2}') }])).rejects.toThrow(/^DiskFull: /);
    disk.free = 1 << 20;
    disk.truncateFails = false;
    for (let i = 0; ch.counters().diskFull === 1 && i < 400; i++) await new Promise((r) => setTimeout(r, 5));
    await ch.append([{ payload: Buffer.from('{"n":3}') }]);
    await ch.close();
    const again = await Channel.open(dir, { channelName: 'c' });
    expect(await collect(again.readAfter(0))).toEqual(['{"n":1}', '{"n":3}']);
    await again.close();
  });
});
