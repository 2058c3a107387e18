// StartPipelineReprocessing / CancelPipelineReprocessing and DescribePipeline's
// reprocessingSummaries through the real @aws-sdk/client-iotanalytics against the real server:
// messages archived over time, the pipeline changed, a range replayed through the new chain.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BatchPutMessageCommand, CancelPipelineReprocessingCommand, CreateChannelCommand, CreateDatastoreCommand, CreatePipelineCommand,
  DescribePipelineCommand, InvalidRequestException, IoTAnalyticsClient, ListPipelinesCommand, ResourceAlreadyExistsException,
  ResourceNotFoundException, StartPipelineReprocessingCommand, UpdatePipelineCommand, type PipelineActivity,
} from '@aws-sdk/client-iotanalytics';
import type { RunningServer } from '../../broker/index.js';
import { awsClientConfig, caught } from '../helpers/aws.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';

const CONFIG = { rules: [], channels: [], datastores: [], pipelines: [], datasets: [] };
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

const activities = (channelName: string, datastoreName: string, copy: boolean): PipelineActivity[] => [
  { channel: { name: 'in', channelName, next: copy ? 'copy' : 'out' } },
  ...(copy ? [{ addAttributes: { name: 'copy', attributes: { n: 'replayed_n' }, next: 'out' } }] : []),
  { datastore: { name: 'out', datastoreName } },
];

/** Resolves once the clock has moved past `t` (ms), so later arrivals are strictly after it. */
async function after(t: number): Promise<number> {
  while (Date.now() <= t) await new Promise((r) => setTimeout(r, 1));
  return Date.now();
}

describe('pipeline reprocessing with @aws-sdk/client-iotanalytics', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let client: IoTAnalyticsClient;

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: CONFIG });
    client = new IoTAnalyticsClient(awsClientConfig(server));
  });
  afterAll(async () => {
    client?.destroy();
    await server?.stop();
    data.remove();
  });

  const put = (channelName: string, from: number, count: number) =>
    client.send(new BatchPutMessageCommand({ channelName, messages: Array.from({ length: count }, (_, i) => ({ messageId: `m${from + i}`, payload: json({ n: from + i }) })) }));
  const query = async (sql: string) => {
    await server.analytics.putDataset({ datasetName: 'check', actions: [{ actionName: 'q', queryAction: { sqlQuery: sql } }] });
    return (await server.analytics.runDataset('check')).rows;
  };
  const statusOf = async (pipelineName: string, id: string) =>
    (await client.send(new DescribePipelineCommand({ pipelineName }))).pipeline!.reprocessingSummaries!.find((r) => r.id === id)?.status;

  it('replays exactly the messages that arrived in [startTime, endTime) through the changed pipeline, then reports SUCCEEDED', async () => {
    await client.send(new CreateChannelCommand({ channelName: 'readings' }));
    await client.send(new CreateDatastoreCommand({ datastoreName: 'readings_store' }));
    await client.send(new CreatePipelineCommand({ pipelineName: 'readings_p', pipelineActivities: activities('readings', 'readings_store', false) }));

    // three arrivals, each strictly after the previous range bound
    await put('readings', 0, 3);
    const startTime = await after(Date.now());
    await put('readings', 3, 4);
    const endTime = await after(Date.now());
    await put('readings', 7, 3);
    await server.analytics.flush();
    expect(await query('SELECT count(*) FROM readings_store')).toEqual([[10]]);

    await client.send(new UpdatePipelineCommand({ pipelineName: 'readings_p', pipelineActivities: activities('readings', 'readings_store', true) }));
    const started = await client.send(new StartPipelineReprocessingCommand({ pipelineName: 'readings_p', startTime: new Date(startTime), endTime: new Date(endTime) }));
    expect(started.$metadata.httpStatusCode).toBe(200);
    const id = started.reprocessingId!;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    await eventually(async () => ((await statusOf('readings_p', id)) === 'SUCCEEDED' ? true : undefined), 10_000, 'reprocessing to succeed');
    expect(await query('SELECT n, replayed_n FROM readings_store WHERE replayed_n IS NOT NULL ORDER BY n')).toEqual([[3, 3], [4, 4], [5, 5], [6, 6]]);
    // AWS semantics: the replayed rows come in addition to the ones stored live
    expect(await query('SELECT count(*) FROM readings_store')).toEqual([[14]]);

    const { pipeline } = await client.send(new DescribePipelineCommand({ pipelineName: 'readings_p' }));
    expect(pipeline!.reprocessingSummaries).toEqual([{ id, status: 'SUCCEEDED', creationTime: expect.any(Date) }]);
    const list = await client.send(new ListPipelinesCommand({}));
    expect(list.pipelineSummaries!.find((p) => p.pipelineName === 'readings_p')!.reprocessingSummaries).toEqual([expect.objectContaining({ id, status: 'SUCCEEDED' })]);
  });

  it('replays the archive objects named by channelMessages.s3Paths in their AWS key form', async () => {
    const dir = join(data.dir, 'channels', 'readings');
    const day = readdirSync(dir).find((d) => d.startsWith('__dt='))!;
    const [first] = readdirSync(join(dir, day)).sort();
    const { reprocessingId } = await client.send(new StartPipelineReprocessingCommand({ pipelineName: 'readings_p', channelMessages: { s3Paths: [`channel/readings/${day}/${first}`] } }));
    await eventually(async () => ((await statusOf('readings_p', reprocessingId!)) === 'SUCCEEDED' ? true : undefined), 10_000, 'reprocessing to succeed');
    const summaries = (await client.send(new DescribePipelineCommand({ pipelineName: 'readings_p' }))).pipeline!.reprocessingSummaries!;
    expect(summaries.map((s) => s.id)[0]).toBe(reprocessingId); // most recent first
    expect(summaries).toHaveLength(2);
  });

  it('refuses bad ranges and bad archive paths with InvalidRequestException, and unknown names with ResourceNotFoundException', async () => {
    const now = Date.now();
    const bad = [
      { startTime: new Date(now), endTime: new Date(now) },
      { startTime: new Date(now), endTime: new Date(now - 60_000) },
      { startTime: new Date(now - 60_000), channelMessages: { s3Paths: ['channel/readings/x.json.gz'] } },
      { channelMessages: { s3Paths: ['channel/readings/__dt=2020-01-01 00:00:00/../../../../etc/passwd'] } },
      { channelMessages: { s3Paths: ['channel/readings/__dt=2020-01-01 00:00:00/0000000000000001_1.json.gz'] } },
    ];
    for (const req of bad) {
      const err = await caught(client.send(new StartPipelineReprocessingCommand({ pipelineName: 'readings_p', ...req })));
      expect(err).toBeInstanceOf(InvalidRequestException);
      expect(err.$metadata?.httpStatusCode).toBe(400);
    }
    expect(await caught(client.send(new StartPipelineReprocessingCommand({ pipelineName: 'no_such_pipeline' })))).toBeInstanceOf(ResourceNotFoundException);
    const unknownId = await caught(client.send(new CancelPipelineReprocessingCommand({ pipelineName: 'readings_p', reprocessingId: '00000000-0000-0000-0000-000000000000' })));
    expect(unknownId).toBeInstanceOf(ResourceNotFoundException);
    expect(unknownId.$metadata?.httpStatusCode).toBe(404);
  });

  it('answers 409 while a reprocessing of the pipeline is running, and CancelPipelineReprocessing stops it as CANCELLED', async () => {
    await client.send(new CreateChannelCommand({ channelName: 'bulk' }));
    await client.send(new CreateDatastoreCommand({ datastoreName: 'bulk_store' }));
    await client.send(new CreatePipelineCommand({ pipelineName: 'bulk_p', pipelineActivities: activities('bulk', 'bulk_store', true) }));
    // a large archive, so that the replay is still running when the next calls arrive
    const total = 100_000;
    for (let i = 0; i < total; i += 10_000) {
      await server.analytics.ingest('bulk', Array.from({ length: 10_000 }, (_, k) => ({ payload: Buffer.from(JSON.stringify({ n: i + k, pad: 'x'.repeat(64) })) })));
    }
    await server.analytics.flush();

    const { reprocessingId } = await client.send(new StartPipelineReprocessingCommand({ pipelineName: 'bulk_p' }));
    const again = await caught(client.send(new StartPipelineReprocessingCommand({ pipelineName: 'bulk_p' })));
    expect(again).toBeInstanceOf(ResourceAlreadyExistsException);
    expect(again.$metadata?.httpStatusCode).toBe(409);

    const cancelled = await client.send(new CancelPipelineReprocessingCommand({ pipelineName: 'bulk_p', reprocessingId }));
    expect(cancelled.$metadata.httpStatusCode).toBe(200);
    expect(await statusOf('bulk_p', reprocessingId!)).toBe('CANCELLED');
    await server.analytics.flush();
    const [[replayed]] = (await query('SELECT count(*) FROM bulk_store WHERE pad IS NOT NULL')) as [[number]];
    expect(replayed).toBeLessThan(2 * total); // the remainder was abandoned

    // cancelling an ended run changes nothing; a new run may start
    await client.send(new CancelPipelineReprocessingCommand({ pipelineName: 'bulk_p', reprocessingId }));
    expect(await statusOf('bulk_p', reprocessingId!)).toBe('CANCELLED');
    const next = await client.send(new StartPipelineReprocessingCommand({ pipelineName: 'bulk_p', startTime: new Date(0), endTime: new Date(1) }));
    await eventually(async () => ((await statusOf('bulk_p', next.reprocessingId!)) === 'SUCCEEDED' ? true : undefined), 10_000, 'empty reprocessing to succeed');
  });

  it('counts replayed messages and rows per pipeline on /metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
    expect(text).toMatch(/iotcore_analytics\{path="pipelines\/readings_p\/reprocessing",counter="messagesReplayed"\} (\d+)/);
    const rows = /iotcore_analytics\{path="pipelines\/readings_p\/reprocessing",counter="rowsWritten"\} (\d+)/.exec(text);
    expect(Number(rows?.[1])).toBeGreaterThanOrEqual(4);
    // the freshness histogram counts the 10 rows the pipeline wrote as they arrived, not the
    // replays, whose messages are old by design
    expect(text).toContain('iotcore_datastore_row_lag_seconds_count{datastore="readings_store"} 10\n');
  });
});
