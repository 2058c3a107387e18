// End-to-end through the facade with the real archive and the real DuckDB datastore.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANALYTICS_ERRORS, AnalyticsError, openAnalytics } from '../../../analytics/index.js';
import { Channel } from '../../../analytics/channels/index.js';
import type { Analytics, IncomingChannelMessage, PipelineDefinition, RowsEvent } from '../../../analytics/index.js';

let dir: string;
let a: Analytics | null = null;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iotcore-analytics-'));
});
afterEach(async () => {
  if (a) await a.close().catch(() => undefined);
  a = null;
  await rm(dir, { recursive: true, force: true });
});

const pipeline: PipelineDefinition = {
  pipelineName: 'temps',
  pipelineActivities: [
    { channel: { name: 'in', channelName: 'telemetry', next: 'hot' } },
    { filter: { name: 'hot', filter: 'temp > 20', next: 'celsius' } },
    { math: { name: 'celsius', attribute: 'tempF', math: 'temp * 9 / 5 + 32', next: 'slim' } },
    { removeAttributes: { name: 'slim', attributes: ['noise'], next: 'store' } },
    { datastore: { name: 'store', datastoreName: 'readings' } },
  ],
};

async function setup(): Promise<Analytics> {
  const x = await openAnalytics({ dataDir: dir, channel: { flushDelayMs: 2 }, database: { flushDelayMs: 5 } });
  await x.putChannel({ channelName: 'telemetry', retentionPeriod: { numberOfDays: 30 } });
  await x.putDatastore({ datastoreName: 'readings' });
  await x.putPipeline(pipeline);
  await x.putDataset({ datasetName: 'all_readings', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT device, temp, tempF FROM readings ORDER BY temp' } }] });
  return x;
}

function json(v: unknown, extra: Partial<IncomingChannelMessage> = {}): IncomingChannelMessage {
  return { payload: Buffer.from(JSON.stringify(v)), ...extra };
}

describe('openAnalytics facade', () => {
  it('archives, processes and stores messages so that a dataset sees exactly the passing rows', async () => {
    a = await setup();
    const events: RowsEvent[] = [];
    a.on('rows', (e) => events.push(e));
    await a.ingest('telemetry', [
      json({ device: 'd1', temp: 25, noise: 1 }, { clientId: 'd1' }),
      json({ device: 'd2', temp: 10, noise: 2 }, { clientId: 'd2' }),
      { payload: Buffer.from('not json') },
      json([1, 2, 3]),
    ]);
    await a.ingest('telemetry', [json({ device: 'd3', temp: 30 })]);
    await a.flush();

    const result = await a.runDataset('all_readings');
    expect(result.columns.map((c) => c.name)).toEqual(['device', 'temp', 'tempF']);
    expect(result.rows).toEqual([
      ['d1', 25, 77],
      ['d3', 30, 86],
    ]);
    expect(events.flatMap((e) => e.rows.map((r) => r.device)).sort()).toEqual(['d1', 'd3']);
    expect(events.every((e) => e.datastoreName === 'readings' && typeof e.rows[0].__dt === 'number')).toBe(true);

    const c = a.counters();
    expect(c.channels.telemetry).toMatchObject({ messages: 5, lastSeq: 5 });
    expect(c.channels.telemetry.processing).toMatchObject({ processed: 5, invalidPayloads: 2, rowsOut: 2 });
    expect(c.pipelines.temps.activities.hot).toMatchObject({ in: 3, out: 2, dropped: 1 });
    expect(c.pipelines.temps).toMatchObject({ rowsOut: 2, writeErrors: 0, datastoreName: 'readings' });
    // the invalid payloads are still in the archive
    const archived: string[] = [];
    for await (const m of a.readChannel('telemetry')) archived.push(m.payload.toString());
    expect(archived).toHaveLength(5);
    expect(archived).toContain('not json');
  });

  it('keeps per-channel order through the pipeline', async () => {
    a = await setup();
    // no ORDER BY: DuckDB returns a plain scan in insertion order (preserve_insertion_order)
    await a.putDataset({ datasetName: 'in_order', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT device, temp FROM readings' } }] });
    const sends = [];
    for (let i = 0; i < 300; i++) sends.push(a.ingest('telemetry', [json({ device: `d${i % 3}`, temp: 1000 - i })]));
    await Promise.all(sends);
    await a.flush();
    const r = await a.runDataset('in_order');
    expect(r.rows.map((row) => row[1])).toEqual(Array.from({ length: 300 }, (_, i) => 1000 - i));
  });

  it('keeps data and definitions across close and reopen, and puts stay idempotent', async () => {
    a = await setup();
    await a.ingest('telemetry', [json({ device: 'd1', temp: 25 })]);
    await a.close();

    a = await openAnalytics({ dataDir: dir });
    expect(a.listChannels()).toEqual(['telemetry']);
    expect(a.listDatastores()).toEqual(['readings']);
    expect(a.listPipelines()).toEqual(['temps']);
    expect(a.listDatasets()).toEqual(['all_readings']);
    expect((await a.runDataset('all_readings')).rows).toEqual([['d1', 25, 77]]);

    // applying the same configuration again changes nothing and duplicates nothing
    await a.putChannel({ channelName: 'telemetry', retentionPeriod: { numberOfDays: 30 } });
    await a.putDatastore({ datastoreName: 'readings' });
    await a.putPipeline(pipeline);
    await a.putDataset({ datasetName: 'all_readings', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT device, temp, tempF FROM readings ORDER BY temp' } }] });
    expect(a.listChannels()).toEqual(['telemetry']);
    expect(a.listPipelines()).toEqual(['temps']);

    const [seqAfter] = await (async () => {
      await a!.ingest('telemetry', [json({ device: 'd2', temp: 26 })]);
      return [a!.counters().channels.telemetry.lastSeq];
    })();
    expect(seqAfter).toBe(2);
    await a.flush();
    expect((await a.runDataset('all_readings')).rows).toEqual([
      ['d1', 25, 77],
      ['d2', 26, 78.8],
    ]);
  });

  it('replays messages that were archived but not processed before a stop', async () => {
    a = await setup();
    await a.ingest('telemetry', [json({ device: 'before', temp: 21 })]);
    await a.close();
    a = null;
    // As after a crash between the archive write (acknowledged) and the datastore commit:
    // messages in the archive beyond the processed watermark.
    const raw = await Channel.open(dir, { channelName: 'telemetry' });
    await raw.append([json({ device: 'lost1', temp: 22 }), json({ device: 'lost2', temp: 23 })]);
    await raw.close();
    await writeFile(join(dir, 'channels', 'telemetry', 'processed.json'), JSON.stringify({ processedSeq: 1 }));

    a = await openAnalytics({ dataDir: dir });
    await a.flush();
    expect((await a.runDataset('all_readings')).rows.map((r) => r[0])).toEqual(['before', 'lost1', 'lost2']);
    expect(a.counters().channels.telemetry.processing).toMatchObject({ replayed: 2, processedSeq: 3 });
    await a.close();
    a = await openAnalytics({ dataDir: dir });
    await a.flush();
    // a clean close leaves nothing to replay: no duplicates
    expect((await a.runDataset('all_readings')).rows).toHaveLength(3);
    expect(a.counters().channels.telemetry.processing.replayed).toBe(0);
  });

  it('refuses an invalid pipeline without replacing the working one', async () => {
    a = await setup();
    const broken: PipelineDefinition = {
      pipelineName: 'temps',
      pipelineActivities: [
        { channel: { name: 'in', channelName: 'telemetry', next: 'bad' } },
        { filter: { name: 'bad', filter: 'temp >', next: 'store' } },
        { datastore: { name: 'store', datastoreName: 'readings' } },
      ],
    };
    await expect(a.putPipeline(broken)).rejects.toMatchObject({ code: 'InvalidRequestException', statusCode: 400 });
    expect(a.getPipeline('temps')).toEqual(pipeline);
    await a.ingest('telemetry', [json({ device: 'd1', temp: 25 })]);
    await a.flush();
    expect((await a.runDataset('all_readings')).rows).toEqual([['d1', 25, 77]]);
  });

  it('requires the pipeline channel and datastore to exist', async () => {
    a = await openAnalytics({ dataDir: dir });
    await expect(a.putPipeline(pipeline)).rejects.toMatchObject({ code: 'ResourceNotFoundException', statusCode: 404 });
    await a.putChannel({ channelName: 'telemetry' });
    await expect(a.putPipeline(pipeline)).rejects.toMatchObject({ code: 'ResourceNotFoundException', message: expect.stringMatching(/datastore "readings"/) });
  });

  it('answers ResourceNotFoundException for an unknown channel or dataset', async () => {
    a = await openAnalytics({ dataDir: dir });
    await expect(a.ingest('nope', [json({ a: 1 })])).rejects.toMatchObject({ code: 'ResourceNotFoundException', statusCode: 404 });
    await expect(a.runDataset('nope')).rejects.toMatchObject({ code: 'ResourceNotFoundException', statusCode: 404 });
  });

  it('feeds every pipeline that reads the channel', async () => {
    a = await setup();
    await a.putDatastore({ datastoreName: 'everything' });
    await a.putPipeline({
      pipelineName: 'raw',
      pipelineActivities: [
        { channel: { name: 'in', channelName: 'telemetry', next: 'store' } },
        { datastore: { name: 'store', datastoreName: 'everything' } },
      ],
    });
    await a.putDataset({ datasetName: 'count_all', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT count(*) AS n FROM everything' } }] });
    await a.ingest('telemetry', [json({ device: 'd1', temp: 25 }), json({ device: 'd2', temp: 5 })]);
    await a.flush();
    expect((await a.runDataset('count_all')).rows).toEqual([[2]]);
    expect((await a.runDataset('all_readings')).rows).toHaveLength(1);
  });

  it('runs one activity over raw payloads as RunPipelineActivity does', async () => {
    a = await openAnalytics({ dataDir: dir });
    const r = await a.runPipelineActivity({ math: { name: 'm', attribute: 'tempC', math: '((temp - 32) * 5.0) / 9.0' } }, [
      Buffer.from('{"humidity": 52, "temp": 68 }'),
      Buffer.from('binary?'),
    ]);
    expect(r.payloads.map((p) => p.toString())).toEqual(['{"humidity":52,"temp":68,"tempC":20}']);
    expect(r.logResult).toMatch(/payload 1/);
  });

  it('fails calls after close with ServiceUnavailableException', async () => {
    a = await setup();
    await a.close();
    await expect(a.ingest('telemetry', [json({ temp: 1 })])).rejects.toMatchObject({ code: 'ServiceUnavailableException' });
  });
});

describe('analytics error table', () => {
  it('gives every code an HTTP error status and a one-line description, and the class carries both', () => {
    for (const [code, entry] of Object.entries(ANALYTICS_ERRORS)) {
      expect(entry.statusCode).toBeGreaterThanOrEqual(400);
      expect(entry.statusCode).toBeLessThan(600);
      expect(entry.description.length).toBeGreaterThan(10);
      expect(entry.description).not.toMatch(/\n/);
      const e = new AnalyticsError(code as keyof typeof ANALYTICS_ERRORS, 'x');
      expect([e.code, e.statusCode, e.message]).toEqual([code, entry.statusCode, 'x']);
      expect(e).toBeInstanceOf(Error);
    }
  });
});
