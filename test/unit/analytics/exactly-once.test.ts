// Pipeline offsets: committed with the rows they cover (real DuckDB), handed out per run by the
// runner, and used on open so that a restart after a crash neither loses nor repeats rows.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAnalytics } from '../../../analytics/index.js';
import type { Analytics, IncomingChannelMessage, PipelineDefinition, PipelineMessage } from '../../../analytics/index.js';
import { Channel } from '../../../analytics/channels/index.js';
import { OFFSETS_TABLE, openDatabase } from '../../../analytics/datastore/index.js';
import type { Database } from '../../../analytics/datastore/index.js';
import { ChannelRunner } from '../../../analytics/pipelines/runner.js';
import type { RowSource } from '../../../analytics/pipelines/runner.js';
import { compilePipeline } from '../../../analytics/pipelines/index.js';
import type { ArchivedMessage } from '../../../analytics/types.js';

let dir: string;
let a: Analytics | null = null;
let db: Database | null = null;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iotcore-offsets-'));
});
afterEach(async () => {
  await a?.close().catch(() => undefined);
  await db?.close().catch(() => undefined);
  a = db = null;
  await rm(dir, { recursive: true, force: true });
});

async function offsets(d: Database): Promise<unknown[][]> {
  return (await d.query(`SELECT pipeline_name, channel_name, seq FROM ${OFFSETS_TABLE} ORDER BY ALL`)).rows;
}

describe('the datastore writer and pipeline offsets', () => {
  it('commits a pipeline offset with the rows it covers; an offset only grows unless it is a reset', async () => {
    db = await openDatabase(join(dir, 'x.duckdb'), { flushDelayMs: 1 });
    await db.ensureDatastore({ datastoreName: 'ds' });
    const w = db.writer('ds');
    await w.append([{ n: 1 }], 1000, { pipelineName: 'p', channelName: 'c', seq: 7 });
    expect(await offsets(db)).toEqual([['p', 'c', 7]]);
    await w.append([{ n: 2 }], 1000, { pipelineName: 'p', channelName: 'c', seq: 5 }); // late append of another datastore's order
    expect(await offsets(db)).toEqual([['p', 'c', 7]]);
    await w.append([], 1000, { pipelineName: 'p', channelName: 'c', seq: 3, reset: true }); // an offset alone
    expect(await offsets(db)).toEqual([['p', 'c', 3]]);
    expect((await db.query('SELECT count(*) FROM ds')).rows).toEqual([[2]]);
    expect(db.listDatastores()).toEqual(['ds']); // the offsets table is no datastore
  });

  it('keeps the offset where it was when the batch carrying it fails to commit', async () => {
    db = await openDatabase(join(dir, 'x.duckdb'), { flushDelayMs: 1 });
    await db.ensureDatastore({ datastoreName: 'ds' });
    const w = db.writer('ds');
    await w.append([{ n: 1 }], 1000, { pipelineName: 'p', channelName: 'c', seq: 1 });
    // an ingestion time DuckDB cannot hold as a TIMESTAMP makes the whole batch fail
    await expect(w.append([{ n: 2 }], 1e300, { pipelineName: 'p', channelName: 'c', seq: 2 })).rejects.toMatchObject({ code: 'InternalFailureException' });
    expect(await offsets(db)).toEqual([['p', 'c', 1]]);
    expect((await db.query('SELECT count(*) FROM ds')).rows).toEqual([[1]]);
    await w.append([{ n: 3 }], 2000, { pipelineName: 'p', channelName: 'c', seq: 3 });
    expect(await offsets(db)).toEqual([['p', 'c', 3]]);
  });
});

describe('the runner and pipeline offsets', () => {
  const p = compilePipeline({
    pipelineName: 'p',
    pipelineActivities: [
      { channel: { name: 'c', channelName: 'ch', next: 'f' } },
      { filter: { name: 'f', filter: 'keep = true', next: 'd' } },
      { datastore: { name: 'd', datastoreName: 'store' } },
    ],
  });
  const msg = (seq: number, keep: boolean, receivedAt: number): ArchivedMessage => ({ channelName: 'ch', seq, receivedAt, payload: Buffer.from(JSON.stringify({ keep, seq })) });

  it('gives each run of rows the seq through which the pipeline is done, and skips what precedes its start', async () => {
    const writes: { seqs: unknown[]; source: RowSource }[] = [];
    const r = new ChannelRunner('ch', () => [p], async (_ds, rows: PipelineMessage[], _at, source) => void writes.push({ seqs: rows.map((x) => x.seq), source }), { chunkSize: 100 });
    r.startPipelineAfter('p', 2);
    // 1-2 predate the pipeline; 3 kept at t=1; 4 dropped; 5 kept at t=2 (new run); 6 dropped
    r.enqueue([msg(1, true, 1), msg(2, true, 1), msg(3, true, 1), msg(4, false, 1), msg(5, true, 2), msg(6, false, 2)]);
    await r.drain();
    expect(writes).toEqual([
      { seqs: [3], source: { channelName: 'ch', pipelineName: 'p', seq: 4 } },
      { seqs: [5], source: { channelName: 'ch', pipelineName: 'p', seq: 6 } },
    ]);
    // a chunk whose rows are all filtered out appends nothing
    r.enqueue([msg(7, false, 3), msg(8, false, 3)]);
    await r.drain();
    expect(writes).toHaveLength(2);
    expect(r.counters().processedSeq).toBe(8);
  });
});

const json = (v: unknown): IncomingChannelMessage => ({ payload: Buffer.from(JSON.stringify(v)) });

function pipelineTo(name: string, datastore: string): PipelineDefinition {
  return {
    pipelineName: name,
    pipelineActivities: [
      { channel: { name: 'in', channelName: 'telemetry', next: 'out' } },
      { datastore: { name: 'out', datastoreName: datastore } },
    ],
  };
}

async function open(): Promise<Analytics> {
  return openAnalytics({ dataDir: dir, channel: { flushDelayMs: 2 }, database: { flushDelayMs: 5 } });
}

/** What a crash leaves when the watermark file was last saved before the newest commits. */
async function crashWatermarkTo(seq: number): Promise<void> {
  await writeFile(join(dir, 'channels', 'telemetry', 'processed.json'), JSON.stringify({ processedSeq: seq }));
}

async function stored(x: Analytics, datastore: string): Promise<number[]> {
  const name = `all_${datastore}`;
  if (!x.getDataset(name)) await x.putDataset({ datasetName: name, actions: [{ actionName: 'q', queryAction: { sqlQuery: `SELECT n FROM ${datastore} ORDER BY n` } }] });
  return (await x.runDataset(name)).rows.map((r) => Number(r[0]));
}

/** The pipeline offsets as dataset SQL reads them: `pipeline:seq`, sorted. */
async function offsetRows(x: Analytics): Promise<string[]> {
  if (!x.getDataset('offsets_now')) await x.putDataset({ datasetName: 'offsets_now', actions: [{ actionName: 'q', queryAction: { sqlQuery: `SELECT pipeline_name, seq FROM ${OFFSETS_TABLE} ORDER BY ALL` } }] });
  return (await x.runDataset('offsets_now')).rows.map((r) => `${String(r[0])}:${Number(r[1])}`);
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('replay on open', () => {
  it('does not store committed rows again when the processed watermark fell behind them', async () => {
    a = await open();
    await a.putChannel({ channelName: 'telemetry' });
    await a.putDatastore({ datastoreName: 'all_rows' });
    await a.putPipeline(pipelineTo('p1', 'all_rows'));
    await a.ingest('telemetry', range(1, 50).map((n) => json({ n })));
    await a.close();
    await crashWatermarkTo(0);

    a = await open();
    await a.flush();
    expect(await stored(a, 'all_rows')).toEqual(range(1, 50));
    expect(a.counters().channels.telemetry.processing.replayed).toBe(0);
  });

  it('resumes each pipeline after its own committed offset', async () => {
    a = await open();
    await a.putChannel({ channelName: 'telemetry' });
    await a.putDatastore({ datastoreName: 'first' });
    await a.putDatastore({ datastoreName: 'second' });
    await a.putPipeline(pipelineTo('p1', 'first'));
    await a.putPipeline(pipelineTo('p2', 'second'));
    await a.ingest('telemetry', range(1, 50).map((n) => json({ n })));
    await a.close();
    a = null;
    // As if p2's commits after message 20 had not happened before the crash: its rows and its
    // offset go back together (the real crash keeps them together by the shared transaction).
    db = await openDatabase(join(dir, 'iotcore.duckdb'));
    await db.deleteRowsBefore('second', Date.now() + 86_400_000);
    await db.writer('second').append(range(1, 20).map((n) => ({ n })), Date.now(), { pipelineName: 'p2', channelName: 'telemetry', seq: 20, reset: true });
    await db.close();
    db = null;
    await crashWatermarkTo(0);

    a = await open();
    await a.flush();
    expect(await stored(a, 'first')).toEqual(range(1, 50));
    expect(await stored(a, 'second')).toEqual(range(1, 50));
    expect(a.counters().channels.telemetry.processing.replayed).toBe(30);
  });

  it('starts a new pipeline at the end of its channel, also when it is replayed after a crash', async () => {
    a = await open();
    await a.putChannel({ channelName: 'telemetry' });
    await a.putDatastore({ datastoreName: 'early' });
    await a.putDatastore({ datastoreName: 'late' });
    await a.putPipeline(pipelineTo('p1', 'early'));
    await a.ingest('telemetry', range(1, 10).map((n) => json({ n })));
    await a.putPipeline(pipelineTo('p2', 'late'));
    await a.ingest('telemetry', range(11, 15).map((n) => json({ n })));
    await a.flush();
    expect(await stored(a, 'late')).toEqual(range(11, 15));
    await a.close();
    await crashWatermarkTo(0);

    a = await open();
    await a.flush();
    expect(await stored(a, 'early')).toEqual(range(1, 15));
    expect(await stored(a, 'late')).toEqual(range(11, 15));
  });

  it('replays what was archived after the watermark and never processed, and no more, even for a pipeline that writes nothing', async () => {
    a = await open();
    await a.putChannel({ channelName: 'telemetry' });
    await a.putDatastore({ datastoreName: 'all_rows' });
    await a.putPipeline(pipelineTo('p1', 'all_rows'));
    const none = pipelineTo('p_none', 'all_rows');
    none.pipelineActivities.splice(1, 0, { filter: { name: 'never', filter: 'n < 0', next: 'out' } });
    (none.pipelineActivities[0] as { channel: { next: string } }).channel.next = 'never';
    await a.putPipeline(none); // commits nothing but its start: the watermark keeps it from re-reading
    await a.ingest('telemetry', range(1, 5).map((n) => json({ n })));
    await a.close();
    a = null;
    // archived and acknowledged, never processed (the crash came first)
    const raw = await Channel.open(dir, { channelName: 'telemetry' });
    await raw.append(range(6, 8).map((n) => json({ n })));
    await raw.close();
    await crashWatermarkTo(5);

    a = await open();
    await a.flush();
    expect(await stored(a, 'all_rows')).toEqual(range(1, 8));
    expect(a.counters().channels.telemetry.processing.replayed).toBe(3);
  });
});

describe('offsets of deleted pipelines', () => {
  it('are deleted at the next open, and a pipeline re-created under the same name starts at the channel\'s end', async () => {
    a = await open();
    await a.putChannel({ channelName: 'telemetry' });
    await a.putDatastore({ datastoreName: 'first' });
    await a.putDatastore({ datastoreName: 'second' });
    await a.createPipeline(pipelineTo('p1', 'first'));
    await a.createPipeline(pipelineTo('kept', 'second'));
    await a.ingest('telemetry', range(1, 10).map((n) => json({ n })));
    await a.flush();
    expect(await offsetRows(a)).toEqual(['kept:10', 'p1:10']);
    await a.deletePipeline('p1');
    await a.close();

    a = await open();
    expect(await offsetRows(a)).toEqual(['kept:10']);
    await a.ingest('telemetry', range(11, 15).map((n) => json({ n })));
    await a.flush();
    await a.createPipeline(pipelineTo('p1', 'first'));
    expect(await offsetRows(a)).toEqual(['kept:15', 'p1:15']);
    await a.ingest('telemetry', range(16, 20).map((n) => json({ n })));
    await a.flush();
    // nothing archived while it did not exist (11-15) reaches the re-created pipeline
    expect(await stored(a, 'first')).toEqual([...range(1, 10), ...range(16, 20)]);
    expect(await offsetRows(a)).toEqual(['kept:20', 'p1:20']);
  });
});
