// The lambda activity: user functions in worker threads, batches, failures and their counters.
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  compilePipeline,
  compileSingleBatchActivity,
  createLambdaHost,
  LambdaFailure,
  type BatchInput,
  type CompileOptions,
  type LambdaHost,
} from '../../../../analytics/pipelines/index.js';
import { openAnalytics, type Analytics } from '../../../../analytics/index.js';
import type { PipelineActivity } from '../../../../analytics/types.js';

const FUNCTIONS: Record<string, string> = {
  // tags every event with the size of the batch it came in
  tag: `export function handler(events) { return events.map((e) => ({ ...e, batch: events.length })); }`,
  // async, default export: keeps events with keep=true and adds one summary message per batch
  reshape: `export default async function (events) {
    return [...events.filter((e) => e.keep), { summary: events.length }, 'not an object', [1]];
  }`,
  fails: `export function handler(events) { if (events.some((e) => e.bad)) throw new Error('bad event'); return events; }`,
  spins: `export function handler(events) { if (events.some((e) => e.spin)) for (;;); return events; }`,
  notArray: `export const handler = async () => ({ not: 'an array' });`,
  slow: `export const handler = (events) => new Promise((r) => setTimeout(() => r(events), 200));`,
  // spec §2.2 / lambda example 2: a payload that is not JSON arrives as base64 text
  gunzip: `import { gunzipSync } from 'node:zlib';
    export function handler(events) {
      return events.map((e) => typeof e === 'string' ? JSON.parse(gunzipSync(Buffer.from(e, 'base64')).toString('utf8')) : e);
    }`,
};

let dir: string;
let host: LambdaHost;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iotcore-lambda-'));
  for (const [name, src] of Object.entries(FUNCTIONS)) await writeFile(join(dir, `${name}.mjs`), src);
  host = createLambdaHost({ functionsDir: dir, timeoutMs: 1000 });
});
afterAll(async () => {
  await host.close();
  await rm(dir, { recursive: true, force: true });
});

const pipeline = (lambdaName: string, batchSize: number, before: PipelineActivity[] = [], opts: CompileOptions = {}) =>
  compilePipeline(
    {
      pipelineName: 'p',
      pipelineActivities: [
        { channel: { name: 'c', channelName: 'chan', next: before.length > 0 ? 'pre' : 'l' } },
        ...before,
        { lambda: { name: 'l', lambdaName, batchSize, next: 'd' } },
        { datastore: { name: 'd', datastoreName: 'store' } },
      ],
    },
    { lambda: host, ...opts },
  );

const inputs = (...messages: object[]): BatchInput[] =>
  messages.map((m, i) => ({ message: m as Record<string, unknown>, payload: Buffer.from(JSON.stringify(m)), at: 1000 + i, seq: i + 1 }));

describe('lambda activity in a pipeline', () => {
  it('hands the function batches of at most batchSize messages and stores what it returns', async () => {
    const p = pipeline('tag', 2);
    expect(p.batched).toBe(true);
    const rows = await p.processBatch(inputs({ n: 1 }, { n: 2 }, { n: 3 }));
    expect(rows.map((r) => r.row)).toEqual([
      { n: 1, batch: 2 },
      { n: 2, batch: 2 },
      { n: 3, batch: 1 },
    ]);
    // same number of results as events: each row keeps its message's ingestion time and seq
    expect(rows.map((r) => [r.at, r.seq])).toEqual([
      [1000, 1],
      [1001, 2],
      [1002, 3],
    ]);
    expect(p.counters().l).toMatchObject({ type: 'lambda', in: 3, out: 3, invocations: 2, invocationErrors: 0, timeouts: 0 });
    expect(() => p.process({ n: 1 })).toThrow(/processBatch/);
  });

  it('lets the function add and drop messages, and drops returned elements that are not JSON objects', async () => {
    const p = pipeline('reshape', 10);
    const rows = await p.processBatch(inputs({ keep: true, a: 1 }, { keep: false }, { keep: true, a: 2 }));
    expect(rows.map((r) => r.row)).toEqual([{ keep: true, a: 1 }, { keep: true, a: 2 }, { summary: 3 }]);
    // a different number of results: all take the batch's first ingestion time and last seq
    expect(rows.map((r) => [r.at, r.seq])).toEqual([
      [1000, 3],
      [1000, 3],
      [1000, 3],
    ]);
    expect(p.counters().l).toMatchObject({ in: 3, out: 3, dropped: 2, errors: 0 });
  });

  it('drops the batch of an invocation that throws, counts it and keeps serving the next batches', async () => {
    const p = pipeline('fails', 1);
    const rows = await p.processBatch(inputs({ n: 1 }, { n: 2, bad: true }, { n: 3 }));
    expect(rows.map((r) => r.row)).toEqual([{ n: 1 }, { n: 3 }]);
    expect(p.counters().l).toMatchObject({ in: 3, out: 2, errors: 1, invocations: 3, invocationErrors: 1, timeouts: 0 });
    expect(p.lastError()).toEqual({ activity: 'l', message: expect.any(String), at: expect.any(Number) });
  });

  it('stops an invocation at the time limit, counts a timeout and starts a fresh worker for the next', async () => {
    const p = pipeline('spins', 1);
    const before = host.counters();
    const rows = await p.processBatch(inputs({ spin: true }, { n: 2 }));
    expect(rows.map((r) => r.row)).toEqual([{ n: 2 }]);
    expect(p.counters().l).toMatchObject({ invocations: 2, timeouts: 1, invocationErrors: 0, errors: 1 });
    expect(host.counters().workersTerminated).toBe(before.workersTerminated + 1);
  });

  it('counts a result that is not an array as a failed invocation', async () => {
    const p = pipeline('notArray', 5);
    expect(await p.processBatch(inputs({ n: 1 }, { n: 2 }))).toEqual([]);
    expect(p.counters().l).toMatchObject({ in: 2, out: 0, errors: 2, invocationErrors: 1 });
  });

  it('gives a lambda right after the channel payloads that are not JSON as base64 text', async () => {
    const p = pipeline('gunzip', 10);
    const zipped = gzipSync(Buffer.from(JSON.stringify({ temp: 21 })));
    const rows = await p.processBatch([
      { message: null, payload: zipped, at: 1, seq: 1 },
      { message: { temp: 22 }, payload: Buffer.from('{"temp":22}'), at: 2, seq: 2 },
    ]);
    expect(rows.map((r) => r.row)).toEqual([{ temp: 21 }, { temp: 22 }]);
  });

  it('skips payloads that are not JSON when another activity comes before the lambda', async () => {
    const p = pipeline('gunzip', 10, [{ filter: { name: 'pre', filter: 'temp > 0', next: 'l' } }]);
    const rows = await p.processBatch([
      { message: null, payload: gzipSync(Buffer.from('{"temp":21}')), at: 1, seq: 1 },
      { message: { temp: 22 }, payload: Buffer.from('{"temp":22}'), at: 2, seq: 2 },
    ]);
    expect(rows.map((r) => r.row)).toEqual([{ temp: 22 }]);
    expect(p.counters().c).toMatchObject({ in: 1 });
  });

  it('refuses a function whose module does not exist when the pipeline is defined, naming the file it expects', () => {
    expect(() => pipeline('nowhere', 1)).toThrow(expect.objectContaining({ code: 'InvalidRequestException', message: expect.stringContaining(join(dir, 'nowhere.mjs')) }));
  });

  it('counts invocations of a module that disappeared after the pipeline was defined as failures', async () => {
    const p = pipeline('nowhere', 1, [], { checkFunctions: false });
    expect(await p.processBatch(inputs({ n: 1 }))).toEqual([]);
    expect(p.counters().l).toMatchObject({ invocationErrors: 1, errors: 1 });
  });

  it.each([
    ['a batchSize of 0', { name: 'l', lambdaName: 'tag', batchSize: 0 }, /batchSize must be an integer 1..1000/],
    ['a batchSize over 1000', { name: 'l', lambdaName: 'tag', batchSize: 1001 }, /batchSize/],
    ['a lambdaName with a slash', { name: 'l', lambdaName: '../tag', batchSize: 1 }, /lambdaName may hold only/],
    ['a lambdaName over 64 characters', { name: 'l', lambdaName: 'x'.repeat(65), batchSize: 1 }, /lambdaName must be a string of 1..64/],
  ])('refuses %s', (_what, lambda, message) => {
    expect(() => compileSingleBatchActivity({ lambda }, { lambda: host })).toThrow(message);
  });
});

describe('lambda host', () => {
  it('refuses an invocation beyond the bounded queue of a function', async () => {
    const small = createLambdaHost({ functionsDir: dir, maxQueuedInvocations: 1 });
    try {
      const first = small.invoke('slow', [1]); // running
      const second = small.invoke('slow', [2]); // waiting
      await expect(small.invoke('slow', [3])).rejects.toMatchObject({ kind: 'queueFull' });
      expect(await first).toEqual([1]);
      expect(await second).toEqual([2]);
    } finally {
      await small.close();
    }
  });

  it('uses the edited module on the next invocation', async () => {
    const file = join(dir, 'edited.mjs');
    await writeFile(file, 'export const handler = () => ["v1"];');
    expect(await host.invoke('edited', [])).toEqual(['v1']);
    await writeFile(file, 'export const handler = () => ["v2"];');
    const later = new Date(Date.now() + 10_000);
    await utimes(file, later, later); // a different mtime even on coarse file-system clocks
    expect(await host.invoke('edited', [])).toEqual(['v2']);
  });

  it('fails pending invocations when closed', async () => {
    const h = createLambdaHost({ functionsDir: dir });
    const pending = h.invoke('slow', [1]).catch((e: unknown) => e);
    await h.close();
    expect(await pending).toBeInstanceOf(LambdaFailure);
    await expect(h.invoke('tag', [])).rejects.toMatchObject({ kind: 'closed' });
  });
});

describe('lambda activity behind the analytics facade', () => {
  let dataDir: string;
  let a: Analytics | undefined;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'iotcore-lambda-analytics-'));
  });
  afterEach(async () => {
    await a?.close();
    a = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs RunPipelineActivity of a lambda over the payloads and reports a failure in logResult', async () => {
    a = await openAnalytics({ dataDir, lambda: { functionsDir: dir } });
    const ok = await a.runPipelineActivity({ lambda: { name: 'l', lambdaName: 'tag', batchSize: 10 } }, [Buffer.from('{"n":1}'), Buffer.from('{"n":2}')]);
    expect(ok.payloads.map((p) => p.toString())).toEqual(['{"n":1,"batch":2}', '{"n":2,"batch":2}']);
    expect(ok.logResult).toBe('');
    const failed = await a.runPipelineActivity({ lambda: { name: 'l', lambdaName: 'fails', batchSize: 10 } }, [Buffer.from('{"bad":true}')]);
    expect(failed).toEqual({ payloads: [], logResult: expect.stringContaining('bad event') });
  });

  it('stores the rows a lambda pipeline returns in the datastore, functions read from <dataDir>/functions', async () => {
    await mkdir(join(dataDir, 'functions'));
    await writeFile(join(dataDir, 'functions', 'tag.mjs'), FUNCTIONS.tag);
    a = await openAnalytics({ dataDir, channel: { flushDelayMs: 1 }, database: { flushDelayMs: 1 } });
    await a.putChannel({ channelName: 'chan' });
    await a.putDatastore({ datastoreName: 'store' });
    await expect(
      a.putPipeline({
        pipelineName: 'ghost',
        pipelineActivities: [
          { channel: { name: 'c', channelName: 'chan', next: 'l' } },
          { lambda: { name: 'l', lambdaName: 'missing', batchSize: 5, next: 'd' } },
          { datastore: { name: 'd', datastoreName: 'store' } },
        ],
      }),
    ).rejects.toMatchObject({ code: 'InvalidRequestException' });
    await a.putPipeline({
      pipelineName: 'p',
      pipelineActivities: [
        { channel: { name: 'c', channelName: 'chan', next: 'l' } },
        { lambda: { name: 'l', lambdaName: 'tag', batchSize: 5, next: 'd' } },
        { datastore: { name: 'd', datastoreName: 'store' } },
      ],
    });
    await a.ingest('chan', [{ payload: Buffer.from('{"n":1}') }, { payload: Buffer.from('{"n":2}') }]);
    await a.flush();
    await a.putDataset({ datasetName: 'all', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT n, batch FROM store ORDER BY n' } }] });
    const result = await a.runDataset('all');
    expect(result.rows).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(a.counters().pipelines.p.activities.l).toMatchObject({ invocations: 1, in: 2, out: 2 });
  });
});
