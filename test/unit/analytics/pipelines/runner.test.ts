import { ChannelRunner } from '../../../../analytics/pipelines/runner.js';
import { compilePipeline } from '../../../../analytics/pipelines/index.js';
import type { ArchivedMessage, PipelineMessage } from '../../../../analytics/types.js';

const pipeline = compilePipeline({
  pipelineName: 'p',
  pipelineActivities: [
    { channel: { name: 'c', channelName: 'ch', next: 'f' } },
    { filter: { name: 'f', filter: 'keep = true', next: 'd' } },
    { datastore: { name: 'd', datastoreName: 'store' } },
  ],
});

let seq = 0;
function archived(v: unknown, receivedAt = 1000): ArchivedMessage {
  return { channelName: 'ch', seq: ++seq, receivedAt, payload: Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)) };
}

describe('ChannelRunner', () => {
  it('writes passing rows in archive order, grouped by ingestion time', async () => {
    const writes: { ds: string; rows: PipelineMessage[]; at: number }[] = [];
    const r = new ChannelRunner('ch', () => [pipeline], async (ds, rows, at) => void writes.push({ ds, rows, at }));
    r.enqueue([archived({ keep: true, n: 1 }, 1), archived({ keep: false, n: 2 }, 1), archived({ keep: true, n: 3 }, 2), archived('oops', 2)]);
    await r.drain();
    expect(writes).toEqual([
      { ds: 'store', rows: [{ keep: true, n: 1 }], at: 1 },
      { ds: 'store', rows: [{ keep: true, n: 3 }], at: 2 },
    ]);
    expect(r.counters()).toMatchObject({ enqueued: 4, processed: 4, invalidPayloads: 1, rowsOut: 2, queued: 0 });
  });

  it('takes the object a message arrives with instead of parsing its payload again', async () => {
    const writes: PipelineMessage[][] = [];
    const r = new ChannelRunner('ch', () => [pipeline], async (_ds, rows) => void writes.push(rows));
    const given = { keep: true, n: 7 };
    // the payload says the same; were it parsed, the row would be a different object
    r.enqueue([{ ...archived(given), decoded: given }, archived({ keep: true, n: 8 })]);
    await r.drain();
    expect(writes.flat()).toEqual([{ keep: true, n: 7 }, { keep: true, n: 8 }]);
    expect(writes.flat()[0]).toBe(given);
    expect(given).toEqual({ keep: true, n: 7 }); // and left it as it was
  });

  it('makes producers wait above the soft cap and drops beyond the hard cap', async () => {
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const r = new ChannelRunner('ch', () => [pipeline], () => gate, { maxQueuedMessages: 2, hardCapMessages: 3, chunkSize: 1, maxInflightWrites: 1 });
    r.enqueue([archived({ keep: true })]); // taken by the loop at once
    await new Promise((res) => setImmediate(res));
    r.enqueue([archived({ keep: true }), archived({ keep: true }), archived({ keep: true }), archived({ keep: true })]);
    expect(r.counters().queueDrops).toBeGreaterThanOrEqual(1);
    let admitted = false;
    const waiting = r.reserve(1).then((release) => {
      admitted = true;
      return release;
    });
    await new Promise((res) => setImmediate(res));
    expect(admitted).toBe(false);
    expect(r.counters().backpressureWaits).toBe(1);
    release();
    (await waiting)();
    await r.drain();
    expect(admitted).toBe(true);
    expect(r.counters().queued).toBe(0);
  });

  it('counts rows whose write failed and keeps going', async () => {
    let calls = 0;
    const r = new ChannelRunner('ch', () => [pipeline], async () => {
      if (calls++ === 0) throw new Error('disk full');
    });
    r.enqueue([archived({ keep: true }, 1), archived({ keep: true }, 2)]);
    await r.drain();
    expect(r.counters()).toMatchObject({ writeErrors: 1, rowsOut: 1 });
    expect(r.pipelineCounters('p')).toEqual({ rowsOut: 1, writeErrors: 1, lastWriteError: { message: expect.stringContaining('disk full'), at: expect.any(Number) } });
  });

  it('holds the processed watermark before a write refused for a full disk, and passes one refused for its rows', async () => {
    const noSpace = Object.assign(new Error('write failed'), { code: 'ENOSPC' });
    for (const [refusal, holds] of [[noSpace, true], [new Error('Invalid Input Error: database has been invalidated'), true], [new Error('conversion failed'), false]] as const) {
      let calls = 0;
      const r = new ChannelRunner('ch', () => [pipeline], async () => {
        if (calls++ === 0) throw refusal;
      }, { chunkSize: 1 });
      const first = archived({ keep: true }, 1);
      const second = archived({ keep: true }, 2);
      r.enqueue([first, second]);
      await r.drain();
      await new Promise((resolve) => setImmediate(resolve)); // the settled writes' bookkeeping
      // held where the runner started (0): a restart resumes before the refused message and writes it again
      expect({ refusal: refusal.message, processedSeq: r.counters().processedSeq }).toEqual({ refusal: refusal.message, processedSeq: holds ? 0 : second.seq });
    }
  });

  it('counts reservations against the cap until they are released', async () => {
    const r = new ChannelRunner('ch', () => [pipeline], async () => undefined, { maxQueuedMessages: 10 });
    const first = await r.reserve(8);
    let second = false;
    const p = r.reserve(5).then((rel) => {
      second = true;
      return rel;
    });
    await new Promise((res) => setImmediate(res));
    expect(second).toBe(false);
    first();
    (await p)();
    expect(second).toBe(true);
  });

  it('uses the pipelines current at processing time', async () => {
    const rows: PipelineMessage[] = [];
    let list = [pipeline];
    const r = new ChannelRunner('ch', () => list, async (_ds, rs) => void rows.push(...rs));
    r.enqueue([archived({ keep: true, n: 1 })]);
    await r.drain();
    list = [];
    r.enqueue([archived({ keep: true, n: 2 })]);
    await r.drain();
    expect(rows).toEqual([{ keep: true, n: 1 }]);
  });

  it('reports as backlog the archived messages a pipeline has not been through yet', async () => {
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const r = new ChannelRunner('ch', () => [pipeline], () => gate, { chunkSize: 1 });
    const msgs = [archived({ keep: true }), archived({ keep: true }), archived({ keep: true })];
    const last = msgs[2].seq;
    r.startAt(msgs[0].seq - 1);
    r.enqueue(msgs);
    await new Promise((res) => setImmediate(res));
    expect(r.backlog('p', last)).toBe(3); // nothing committed yet
    release();
    await r.drain();
    expect(r.backlog('p', last)).toBe(0);
    expect(r.backlog('p', last + 2)).toBe(2); // archived, not yet handed to the runner
    r.startPipelineAfter('late', last + 2); // a pipeline created after them never sees them
    expect(r.backlog('late', last + 2)).toBe(0);
  });
});
