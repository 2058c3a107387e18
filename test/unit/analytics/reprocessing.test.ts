// Pipeline reprocessing: the run state machine (Reprocessing with a gated source, so RUNNING is
// observable without timing), and the facade end to end with the real archive and DuckDB.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnalyticsError, compilePipeline, openAnalytics } from '../../../analytics/index.js';
import type { Analytics, ArchivedMessage, PipelineDefinition, PipelineMessage } from '../../../analytics/index.js';
import { Reprocessing, archivedUpTo, checkReprocessingRequest } from '../../../analytics/pipelines/reprocessing.js';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

function archived(seq: number, v: unknown, receivedAt = T0 + seq): ArchivedMessage {
  return { channelName: 'telemetry', seq, receivedAt, payload: Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)) };
}

const copyPipeline = compilePipeline({
  pipelineName: 'p',
  pipelineActivities: [
    { channel: { name: 'in', channelName: 'telemetry', next: 'copy' } },
    { addAttributes: { name: 'copy', attributes: { n: 'again' }, next: 'store' } },
    { datastore: { name: 'store', datastoreName: 'readings' } },
  ],
});

/** A source that yields `first` messages, then waits for open() before yielding the rest. */
function gatedSource(first: ArchivedMessage[], rest: ArchivedMessage[]) {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let reachedGate!: () => void;
  const atGate = new Promise<void>((r) => (reachedGate = r));
  async function* source(): AsyncGenerator<ArchivedMessage> {
    yield* first;
    reachedGate();
    await gate;
    yield* rest;
  }
  return { source: source(), open, atGate };
}

interface Append { datastore: string; rows: PipelineMessage[]; at: number }
function recordingSink() {
  const appends: Append[] = [];
  return { appends, sink: async (datastore: string, rows: PipelineMessage[], at: number) => void appends.push({ datastore, rows, at }) };
}

async function ended(r: Reprocessing, pipeline: string): Promise<string> {
  for (;;) {
    const s = r.summaries(pipeline)[0]?.status;
    if (s !== 'RUNNING') return s ?? 'none';
    await new Promise((res) => setImmediate(res));
  }
}

describe('Reprocessing runs', () => {
  it('answers 409 ResourceAlreadyExists while a run of the pipeline is RUNNING, and cancel stops it between chunks', async () => {
    const { appends, sink } = recordingSink();
    const r = new Reprocessing(sink, { chunkMessages: 2 });
    const first = [archived(1, { n: 1 }), archived(2, { n: 2 })];
    const gated = gatedSource(first, [archived(3, { n: 3 }), archived(4, { n: 4 })]);
    const id = r.start(copyPipeline, gated.source);
    await gated.atGate;
    expect(r.summaries('p')).toEqual([{ id, status: 'RUNNING', creationTime: expect.any(Number) }]);
    expect(() => r.start(copyPipeline, archivedUpTo(gated.source, 0))).toThrow(expect.objectContaining({ code: 'ResourceAlreadyExistsException', statusCode: 409 }));

    const cancelled = r.cancel('p', id);
    gated.open();
    await cancelled;
    expect(r.summaries('p')[0].status).toBe('CANCELLED');
    // the chunk handed over before the cancel is written; the rest is abandoned
    expect(appends.flatMap((a) => a.rows.map((row) => row.n))).toEqual([1, 2]);
    expect(r.counters('p')).toMatchObject({ started: 1, cancelled: 1, running: 0, messagesReplayed: 2, rowsWritten: 2 });
  });

  it('runs every message through the compiled chain in order, rows keeping their original ingestion time, then SUCCEEDED', async () => {
    const { appends, sink } = recordingSink();
    const r = new Reprocessing(sink, { chunkMessages: 3 });
    const msgs = [archived(1, { n: 1 }, T0), archived(2, { n: 2 }, T0), archived(3, 'not json'), archived(4, { n: 4 }, T0 + 50)];
    r.start(copyPipeline, (async function* () { yield* msgs; })());
    expect(await ended(r, 'p')).toBe('SUCCEEDED');
    expect(appends).toEqual([
      { datastore: 'readings', rows: [{ n: 1, again: 1 }, { n: 2, again: 2 }], at: T0 },
      { datastore: 'readings', rows: [{ n: 4, again: 4 }], at: T0 + 50 },
    ]);
    expect(r.counters('p')).toMatchObject({ succeeded: 1, messagesReplayed: 4, invalidPayloads: 1, rowsWritten: 3, rowsFailed: 0 });
  });

  it('hands rows of a batch (lambda) pipeline to the writer in archive order even when an earlier chunk takes longer', async () => {
    const { appends, sink } = recordingSink();
    const r = new Reprocessing(sink, { chunkMessages: 2, maxInflightChunks: 4 });
    const batchPipeline = {
      ...copyPipeline,
      batched: true,
      process: () => {
        throw new Error('a batched pipeline only runs through processBatch');
      },
      // the first chunk is the slowest to come back
      processBatch: async (inputs: readonly { message: PipelineMessage | null; at: number; seq: number }[]) => {
        await new Promise((res) => setTimeout(res, inputs[0].seq === 1 ? 20 : 0));
        return inputs.map((x) => ({ row: { ...x.message, batched: true }, at: x.at, seq: x.seq }));
      },
    };
    r.start(batchPipeline, (async function* () { for (let s = 1; s <= 6; s++) yield archived(s, { n: s }); })());
    expect(await ended(r, 'p')).toBe('SUCCEEDED');
    expect(appends.flatMap((x) => x.rows.map((row) => row.n))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('ends FAILED and counts the rows when the writer refuses them', async () => {
    const r = new Reprocessing(async () => {
      throw new AnalyticsError('InternalFailureException', 'disk full');
    });
    r.start(copyPipeline, (async function* () { yield archived(1, { n: 1 }); })());
    expect(await ended(r, 'p')).toBe('FAILED');
    expect(r.counters('p')).toMatchObject({ failed: 1, rowsFailed: 1, rowsWritten: 0 });
  });

  it('keeps only the last keepSummaries runs, most recent first; cancelling an ended run leaves its status, an unknown id is 404', async () => {
    let clock = 1000;
    const r = new Reprocessing(recordingSink().sink, { keepSummaries: 3, now: () => clock++ });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(r.start(copyPipeline, (async function* () { yield archived(1, { n: i }); })()));
      expect(await ended(r, 'p')).toBe('SUCCEEDED');
    }
    const s = r.summaries('p');
    expect(s.map((x) => x.id)).toEqual([ids[4], ids[3], ids[2]]);
    expect(s.map((x) => x.creationTime)).toEqual([1004, 1003, 1002]);
    await r.cancel('p', ids[4]);
    expect(r.summaries('p')[0].status).toBe('SUCCEEDED');
    await expect(r.cancel('p', ids[0])).rejects.toMatchObject({ code: 'ResourceNotFoundException', statusCode: 404 });
    await expect(r.cancel('other', ids[4])).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
  });

  it('archivedUpTo stops at the first message archived after the run started', async () => {
    const src = (async function* () { for (let s = 1; s <= 5; s++) yield archived(s, { n: s }); })();
    const seen: number[] = [];
    for await (const m of archivedUpTo(src, 3)) seen.push(m.seq);
    expect(seen).toEqual([1, 2, 3]);
  });
});

describe('checkReprocessingRequest', () => {
  it('takes a range [startTime, endTime), an open range or no bounds (the whole archive)', () => {
    expect(checkReprocessingRequest({ startTime: 1, endTime: 2 })).toEqual({ kind: 'range', startTime: 1, endTime: 2 });
    expect(checkReprocessingRequest({ startTime: 5 })).toEqual({ kind: 'range', startTime: 5 });
    expect(checkReprocessingRequest(undefined)).toEqual({ kind: 'range' });
    expect(checkReprocessingRequest({ channelMessages: { s3Paths: ['a'] } })).toEqual({ kind: 'files', s3Paths: ['a'] });
  });

  it.each([
    ['an empty range', { startTime: 2, endTime: 2 }],
    ['a reversed range', { startTime: 3, endTime: 2 }],
    ['a time range together with channelMessages', { startTime: 1, channelMessages: { s3Paths: ['x'] } }],
    ['channelMessages without s3Paths', { channelMessages: {} }],
    ['a startTime that is not a timestamp', { startTime: 'yesterday' }],
  ])('refuses %s with InvalidRequestException', (_what, req) => {
    expect(() => checkReprocessingRequest(req as never)).toThrow(expect.objectContaining({ code: 'InvalidRequestException', statusCode: 400 }));
  });
});

describe('StartPipelineReprocessing through the facade (real archive and DuckDB)', () => {
  let dir: string;
  let a: Analytics | null = null;
  const clock = { now: T0 };
  const pipeline = (extra = false): PipelineDefinition => ({
    pipelineName: 'p',
    pipelineActivities: [
      { channel: { name: 'in', channelName: 'telemetry', next: extra ? 'copy' : 'store' } },
      ...(extra ? [{ addAttributes: { name: 'copy', attributes: { n: 'again' }, next: 'store' } }] : []),
      { datastore: { name: 'store', datastoreName: 'readings' } },
    ],
  });
  const open = () => openAnalytics({ dataDir: dir, now: () => clock.now, channel: { flushDelayMs: 1 }, database: { flushDelayMs: 2 } });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iotcore-reprocess-'));
    a = await open();
    await a.putChannel({ channelName: 'telemetry' });
    await a.putDatastore({ datastoreName: 'readings' });
    await a.putPipeline(pipeline());
    // ten messages, one ms apart, archived and processed by the original pipeline
    await a.ingest('telemetry', Array.from({ length: 10 }, (_, i) => ({ payload: Buffer.from(JSON.stringify({ n: i })), receivedAt: T0 + i })));
    await a.flush();
    await a.putPipeline(pipeline(true));
    await a.putDataset({ datasetName: 'again', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT n, epoch_ms(__dt) AS dt FROM readings WHERE again IS NOT NULL ORDER BY n' } }] });
  });
  afterEach(async () => {
    await a?.close().catch(() => undefined);
    a = null;
    await rm(dir, { recursive: true, force: true });
  });

  const status = async (id: string): Promise<string> => {
    for (;;) {
      const s = a!.describePipeline('p').reprocessingSummaries.find((x) => x.id === id)!.status;
      if (s !== 'RUNNING') return s;
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  it('replays exactly the messages with receivedAt in [startTime, endTime) through the changed pipeline, with their original __dt', async () => {
    const id = await a!.startPipelineReprocessing('p', { startTime: T0 + 3, endTime: T0 + 7 });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await status(id)).toBe('SUCCEEDED');
    const r = await a!.runDataset('again');
    expect(r.rows).toEqual([[3, T0 + 3], [4, T0 + 4], [5, T0 + 5], [6, T0 + 6]]);
    expect(a!.counters().pipelines.p.reprocessing).toMatchObject({ messagesReplayed: 4, rowsWritten: 4, succeeded: 1 });
  });

  it('replays the whole archive when no bounds are given, appending the rows again', async () => {
    expect(await status(await a!.startPipelineReprocessing('p'))).toBe('SUCCEEDED');
    expect((await a!.runDataset('again')).rows).toHaveLength(10);
    await a!.putDataset({ datasetName: 'all', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT count(*) FROM readings' } }] });
    expect((await a!.runDataset('all')).rows).toEqual([[20]]);
  });

  it('replays archive objects named by channelMessages.s3Paths, with or without the channels/<name>/ prefix', async () => {
    const [day] = (await readdir(join(dir, 'channels', 'telemetry'))).filter((d) => d.startsWith('__dt='));
    const [file] = await readdir(join(dir, 'channels', 'telemetry', day));
    const id = await a!.startPipelineReprocessing('p', { channelMessages: { s3Paths: [`${day}/${file}`, `channel/telemetry/${day}/${file}`, `channels/telemetry/${day}/${file}`] } });
    expect(await status(id)).toBe('SUCCEEDED');
    // the same object named three ways is replayed once
    expect((await a!.runDataset('again')).rows).toHaveLength(10);
  });

  it.each([
    ['a path leaving the channel directory', ['__dt=2026-06-01 00:00:00/../../other/x.json.gz']],
    ['a path naming another channel', ['channels/other/__dt=2026-06-01 00:00:00/0000000000000001_1.json.gz']],
    ['an object that does not exist', ['__dt=2026-06-01 00:00:00/0000000000009999_1.json.gz']],
    ['a file that is not an archive segment', ['seq.json']],
    ['an empty list', []],
    ['more than 100 paths', Array.from({ length: 101 }, () => 'x')],
  ])('refuses %s with InvalidRequestException and starts nothing', async (_what, s3Paths) => {
    await expect(a!.startPipelineReprocessing('p', { channelMessages: { s3Paths } })).rejects.toMatchObject({ code: 'InvalidRequestException' });
    expect(a!.describePipeline('p').reprocessingSummaries).toEqual([]);
  });

  it('answers 404 for an unknown pipeline or reprocessing id, and DeletePipeline forgets its runs', async () => {
    await expect(a!.startPipelineReprocessing('nope', {})).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
    await expect(a!.cancelPipelineReprocessing('p', 'no-such-id')).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
    const id = await a!.startPipelineReprocessing('p', {});
    await status(id);
    await a!.deletePipeline('p');
    await a!.putPipeline(pipeline(true));
    expect(a!.describePipeline('p').reprocessingSummaries).toEqual([]);
  });

  it('does not move live processing: after a restart nothing is replayed again and new messages are still processed', async () => {
    await status(await a!.startPipelineReprocessing('p', { startTime: T0, endTime: T0 + 5 }));
    await a!.close();
    a = await open();
    await a.ingest('telemetry', [{ payload: Buffer.from(JSON.stringify({ n: 10 })), receivedAt: T0 + 10 }]);
    await a.flush();
    // 5 replayed rows plus the new live one carry `again`; the originals were stored without it
    expect((await a.runDataset('again')).rows.map((r) => r[0])).toEqual([0, 1, 2, 3, 4, 10]);
  });
});
