// The IoT Analytics control plane through the real @aws-sdk/client-iotanalytics against the real
// server: channels, datastores and pipelines (create, describe, list with pages, update, delete),
// their errors with the AWS exception classes, BatchPutMessage into a pipeline and on to the
// datastore, SampleChannelData, RunPipelineActivity, tags, logging options, and a restart on the
// same data directory.
import {
  BatchPutMessageCommand, CreateChannelCommand, CreateDatastoreCommand, CreatePipelineCommand, DeleteChannelCommand,
  DeleteDatastoreCommand, DeletePipelineCommand, DescribeChannelCommand, DescribeDatastoreCommand, DescribeLoggingOptionsCommand,
  DescribePipelineCommand, InvalidRequestException, IoTAnalyticsClient, LimitExceededException, ListChannelsCommand,
  ListDatastoresCommand, ListPipelinesCommand, ListTagsForResourceCommand, PutLoggingOptionsCommand, ResourceAlreadyExistsException,
  ResourceNotFoundException, RunPipelineActivityCommand, SampleChannelDataCommand, TagResourceCommand, UntagResourceCommand,
  UpdateChannelCommand, UpdateDatastoreCommand, UpdatePipelineCommand, paginateListChannels,
  type PipelineActivity,
} from '@aws-sdk/client-iotanalytics';
import type { RunningServer } from '../../broker/index.js';
import { awsClientConfig, caught } from '../helpers/aws.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const CONFIG = { rules: [], channels: [], datastores: [], pipelines: [], datasets: [], server: { accountId: ACCOUNT, region: REGION } };
const arn = (kind: string, name: string) => `arn:aws:iotanalytics:${REGION}:${ACCOUNT}:${kind}/${name}`;
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const text = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('utf8');

const activities = (channelName: string, datastoreName: string): PipelineActivity[] => [
  { channel: { name: 'in', channelName, next: 'hot' } },
  { filter: { name: 'hot', filter: 'temp > 20', next: 'f' } },
  { math: { name: 'f', attribute: 'tempF', math: 'temp * 9 / 5 + 32', next: 'out' } },
  { datastore: { name: 'out', datastoreName } },
];

describe('the IoT Analytics API with @aws-sdk/client-iotanalytics', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let client: IoTAnalyticsClient;
  /** the SDK retries LimitExceededException as a throttling error; this client asks once */
  let once: IoTAnalyticsClient;

  const start = async () => {
    server = await startTestServer(data.dir, { config: CONFIG });
    client = new IoTAnalyticsClient(awsClientConfig(server));
    once = new IoTAnalyticsClient({ ...awsClientConfig(server), maxAttempts: 1 });
  };
  const stop = async () => {
    client?.destroy();
    once?.destroy();
    await server?.stop();
  };
  beforeAll(start);
  afterAll(async () => {
    await stop();
    data.remove();
  });

  it('creates, describes, updates and lists channels with their ARN, status, retention echo and times in seconds', async () => {
    const before = Date.now() / 1000;
    const created = await client.send(new CreateChannelCommand({ channelName: 'telemetry', retentionPeriod: { numberOfDays: 30 }, tags: [{ key: 'env', value: 'test' }] }));
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(created).toMatchObject({ channelName: 'telemetry', channelArn: arn('channel', 'telemetry'), retentionPeriod: { numberOfDays: 30, unlimited: false } });

    const { channel } = await client.send(new DescribeChannelCommand({ channelName: 'telemetry' }));
    expect(channel).toMatchObject({ name: 'telemetry', arn: arn('channel', 'telemetry'), status: 'ACTIVE', storage: { serviceManagedS3: {} }, retentionPeriod: { numberOfDays: 30, unlimited: false } });
    expect(channel!.creationTime!.getTime() / 1000).toBeGreaterThanOrEqual(before - 1);
    expect(channel!.creationTime!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    expect(channel!.lastMessageArrivalTime).toBeUndefined();

    await client.send(new UpdateChannelCommand({ channelName: 'telemetry', retentionPeriod: { unlimited: true } }));
    const after = await client.send(new DescribeChannelCommand({ channelName: 'telemetry', includeStatistics: true }));
    expect(after.channel!.retentionPeriod).toEqual({ unlimited: true });
    expect(after.channel!.lastUpdateTime!.getTime()).toBeGreaterThanOrEqual(after.channel!.creationTime!.getTime());
    expect(after.statistics!.size!.estimatedSizeInBytes).toBe(0);

    const list = await client.send(new ListChannelsCommand({}));
    expect(list.channelSummaries).toEqual([expect.objectContaining({ channelName: 'telemetry', channelStorage: { serviceManagedS3: {} }, status: 'ACTIVE' })]);
    expect(list.nextToken).toBeUndefined();
  });

  it('pages ListChannels with maxResults and nextToken, and the SDK paginator walks every page', async () => {
    for (const n of ['page_a', 'page_b', 'page_c']) await client.send(new CreateChannelCommand({ channelName: n }));
    const first = await client.send(new ListChannelsCommand({ maxResults: 2 }));
    expect(first.channelSummaries!.map((c) => c.channelName)).toEqual(['page_a', 'page_b']);
    expect(first.nextToken).toEqual(expect.any(String));
    const second = await client.send(new ListChannelsCommand({ maxResults: 2, nextToken: first.nextToken }));
    expect(second.channelSummaries!.map((c) => c.channelName)).toEqual(['page_c', 'telemetry']);
    expect(second.nextToken).toBeUndefined();

    const names: string[] = [];
    for await (const page of paginateListChannels({ client, pageSize: 1 }, {})) names.push(...page.channelSummaries!.map((c) => c.channelName!));
    expect(names).toEqual(['page_a', 'page_b', 'page_c', 'telemetry']);

    const bad = await caught(client.send(new ListChannelsCommand({ maxResults: 251 })));
    expect(bad).toBeInstanceOf(InvalidRequestException);
    const badToken = await caught(client.send(new ListChannelsCommand({ nextToken: 'not-ours' })));
    expect(badToken).toBeInstanceOf(InvalidRequestException);
    for (const n of ['page_a', 'page_b', 'page_c']) await client.send(new DeleteChannelCommand({ channelName: n }));
  });

  it('answers each channel error with its AWS exception class and status', async () => {
    const exists = await caught(client.send(new CreateChannelCommand({ channelName: 'telemetry' })));
    expect(exists).toBeInstanceOf(ResourceAlreadyExistsException);
    expect(exists.$metadata?.httpStatusCode).toBe(409);
    expect(exists).toMatchObject({ resourceId: 'telemetry', resourceArn: arn('channel', 'telemetry') });

    const missing = await caught(client.send(new DescribeChannelCommand({ channelName: 'nope' })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(missing.$metadata?.httpStatusCode).toBe(404);
    expect(await caught(client.send(new UpdateChannelCommand({ channelName: 'nope' })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await caught(client.send(new DeleteChannelCommand({ channelName: 'nope' })))).toBeInstanceOf(ResourceNotFoundException);

    const badName = await caught(client.send(new CreateChannelCommand({ channelName: '__reserved' })));
    expect(badName).toBeInstanceOf(InvalidRequestException);
    const s3 = await caught(client.send(new CreateChannelCommand({ channelName: 'bucketed', channelStorage: { customerManagedS3: { bucket: 'b', roleArn: 'arn:aws:iam::123456789012:role/r' } } })));
    expect(s3).toBeInstanceOf(InvalidRequestException);
    expect(s3.message).toMatch(/customerManagedS3 is not available.*channels\/bucketed/);
    const retention = await caught(client.send(new CreateChannelCommand({ channelName: 'bad_retention', retentionPeriod: { unlimited: true, numberOfDays: 3 } })));
    expect(retention).toBeInstanceOf(InvalidRequestException);
  });

  it('creates datastores with their file format and partitions echoed, and refuses a format change and S3 storage', async () => {
    const created = await client.send(new CreateDatastoreCommand({
      datastoreName: 'readings',
      retentionPeriod: { numberOfDays: 90 },
      fileFormatConfiguration: { parquetConfiguration: { schemaDefinition: { columns: [{ name: 'device', type: 'string' }] } } },
      datastorePartitions: { partitions: [{ attributePartition: { attributeName: 'device' } }, { timestampPartition: { attributeName: 'ts' } }] },
    }));
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(created).toMatchObject({ datastoreName: 'readings', datastoreArn: arn('datastore', 'readings'), retentionPeriod: { numberOfDays: 90, unlimited: false } });
    await client.send(new CreateDatastoreCommand({ datastoreName: 'plain' }));

    const { datastore } = await client.send(new DescribeDatastoreCommand({ datastoreName: 'readings' }));
    expect(datastore).toMatchObject({
      name: 'readings', status: 'ACTIVE', storage: { serviceManagedS3: {} },
      fileFormatConfiguration: { parquetConfiguration: { schemaDefinition: { columns: [{ name: 'device', type: 'string' }] } } },
      datastorePartitions: { partitions: [{ attributePartition: { attributeName: 'device' } }, { timestampPartition: { attributeName: 'ts' } }] },
    });
    const list = await client.send(new ListDatastoresCommand({ maxResults: 1 }));
    expect(list.datastoreSummaries).toEqual([expect.objectContaining({ datastoreName: 'plain', fileFormatType: 'JSON', datastoreStorage: { serviceManagedS3: {} } })]);
    const rest = await client.send(new ListDatastoresCommand({ nextToken: list.nextToken }));
    expect(rest.datastoreSummaries).toEqual([expect.objectContaining({ datastoreName: 'readings', fileFormatType: 'PARQUET' })]);

    await client.send(new UpdateDatastoreCommand({ datastoreName: 'readings', retentionPeriod: { numberOfDays: 7 } }));
    const updated = await client.send(new DescribeDatastoreCommand({ datastoreName: 'readings' }));
    expect(updated.datastore!.retentionPeriod).toEqual({ numberOfDays: 7, unlimited: false });
    expect(updated.datastore!.fileFormatConfiguration!.parquetConfiguration).toBeDefined();

    expect(await caught(client.send(new UpdateDatastoreCommand({ datastoreName: 'readings', fileFormatConfiguration: { jsonConfiguration: {} } })))).toBeInstanceOf(InvalidRequestException);
    expect(await caught(client.send(new CreateDatastoreCommand({ datastoreName: 'READINGS' })))).toMatchObject({ name: 'ResourceAlreadyExistsException', resourceArn: arn('datastore', 'readings') });
    expect(await caught(client.send(new CreateDatastoreCommand({ datastoreName: 'ds3', datastoreStorage: { customerManagedS3: { bucket: 'b', roleArn: 'arn:aws:iam::123456789012:role/r' } } })))).toBeInstanceOf(InvalidRequestException);
    expect(await caught(client.send(new CreateDatastoreCommand({ datastoreName: 'twice', datastorePartitions: { partitions: [{ timestampPartition: { attributeName: 'a' } }, { timestampPartition: { attributeName: 'b' } }] } })))).toBeInstanceOf(InvalidRequestException);
    expect(await caught(client.send(new DescribeDatastoreCommand({ datastoreName: 'nope' })))).toBeInstanceOf(ResourceNotFoundException);
    await client.send(new DeleteDatastoreCommand({ datastoreName: 'plain' }));
    expect(await caught(client.send(new DescribeDatastoreCommand({ datastoreName: 'plain' })))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('creates, describes, lists, updates and deletes pipelines, and answers 410 for more than 25 activities', async () => {
    const created = await client.send(new CreatePipelineCommand({ pipelineName: 'temps', pipelineActivities: activities('telemetry', 'readings') }));
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(created).toMatchObject({ pipelineName: 'temps', pipelineArn: arn('pipeline', 'temps') });
    const { pipeline } = await client.send(new DescribePipelineCommand({ pipelineName: 'temps' }));
    expect(pipeline).toMatchObject({ name: 'temps', arn: arn('pipeline', 'temps'), activities: activities('telemetry', 'readings'), reprocessingSummaries: [] });
    expect(pipeline!.creationTime).toBeInstanceOf(Date);

    await client.send(new CreatePipelineCommand({ pipelineName: 'spare', pipelineActivities: [{ channel: { name: 'c', channelName: 'telemetry', next: 'd' } }, { datastore: { name: 'd', datastoreName: 'readings' } }] }));
    const page = await client.send(new ListPipelinesCommand({ maxResults: 1 }));
    expect(page.pipelineSummaries).toEqual([expect.objectContaining({ pipelineName: 'spare', reprocessingSummaries: [] })]);
    expect(page.nextToken).toBeDefined();

    const many: PipelineActivity[] = [{ channel: { name: 'c', channelName: 'telemetry', next: 'f0' } }];
    for (let i = 0; i < 24; i++) many.push({ filter: { name: `f${i}`, filter: 'temp > 0', next: i === 23 ? 'd' : `f${i + 1}` } });
    many.push({ datastore: { name: 'd', datastoreName: 'readings' } });
    const limit = await caught(once.send(new UpdatePipelineCommand({ pipelineName: 'spare', pipelineActivities: many })));
    expect(limit).toBeInstanceOf(LimitExceededException);
    expect(limit.$metadata?.httpStatusCode).toBe(410);

    expect(await caught(client.send(new CreatePipelineCommand({ pipelineName: 'temps', pipelineActivities: activities('telemetry', 'readings') })))).toMatchObject({ name: 'ResourceAlreadyExistsException', resourceId: 'temps' });
    expect(await caught(client.send(new CreatePipelineCommand({ pipelineName: 'ghost', pipelineActivities: activities('nope', 'readings') })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await caught(client.send(new CreatePipelineCommand({ pipelineName: 'broken', pipelineActivities: [{ channel: { name: 'c', channelName: 'telemetry', next: 'x' } }] })))).toBeInstanceOf(InvalidRequestException);

    // a channel or datastore a pipeline uses cannot be deleted under it
    const inUse = await caught(client.send(new DeleteChannelCommand({ channelName: 'telemetry' })));
    expect(inUse).toBeInstanceOf(InvalidRequestException);
    expect(inUse.message).toMatch(/spare, temps/);
    expect(await caught(client.send(new DeleteDatastoreCommand({ datastoreName: 'readings' })))).toBeInstanceOf(InvalidRequestException);

    await client.send(new DeletePipelineCommand({ pipelineName: 'spare' }));
    expect(await caught(client.send(new DescribePipelineCommand({ pipelineName: 'spare' })))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('takes BatchPutMessage with per-message error entries, archives the accepted ones and stores them through the pipeline', async () => {
    const ok = await client.send(new BatchPutMessageCommand({
      channelName: 'telemetry',
      messages: [
        { messageId: '1', payload: json({ device: 'd1', temp: 25 }) },
        { messageId: '2', payload: json({ device: 'd2', temp: 10 }) },
        { messageId: '1', payload: json({ device: 'dup', temp: 30 }) },
        { messageId: '3', payload: new Uint8Array(128 * 1024 + 1) },
        { messageId: '4', payload: new TextEncoder().encode('{ "device": "d3",  "temp": 30 }') },
      ],
    }));
    expect(ok.batchPutMessageErrorEntries).toEqual([
      { messageId: '1', errorCode: 'InvalidRequestException', errorMessage: expect.stringMatching(/more than once/) },
      { messageId: '3', errorCode: 'InvalidRequestException', errorMessage: expect.stringMatching(/128 KB/) },
    ]);
    await server.analytics.flush();
    const rows = await eventually(async () => {
      const r = server.analytics.counters().datastores.readings;
      return r && r.rowsWritten >= 2 ? r : undefined;
    }, 5000, 'two rows in readings');
    expect(rows.rowsWritten).toBe(2);
    const counters = server.analytics.counters().pipelines.temps.activities;
    expect(counters.hot).toMatchObject({ in: 3, out: 2, dropped: 1 });

    const described = await client.send(new DescribeChannelCommand({ channelName: 'telemetry', includeStatistics: true }));
    expect(described.channel!.lastMessageArrivalTime).toBeInstanceOf(Date);
    expect(described.statistics!.size!.estimatedSizeInBytes).toBeGreaterThan(0);
    const ds = await client.send(new DescribeDatastoreCommand({ datastoreName: 'readings', includeStatistics: true }));
    expect(ds.statistics!.size!.estimatedSizeInBytes).toBeGreaterThan(0);
    expect(ds.datastore!.lastMessageArrivalTime).toBeInstanceOf(Date);

    const tooMany = await caught(client.send(new BatchPutMessageCommand({ channelName: 'telemetry', messages: Array.from({ length: 101 }, (_, i) => ({ messageId: `m${i}`, payload: json({ i }) })) })));
    expect(tooMany).toBeInstanceOf(InvalidRequestException);
    expect(await caught(client.send(new BatchPutMessageCommand({ channelName: 'nope', messages: [{ messageId: '1', payload: json({}) }] })))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('samples the raw payloads of a channel, newest last, at most maxMessages', async () => {
    const all = await client.send(new SampleChannelDataCommand({ channelName: 'telemetry' }));
    expect(all.payloads!.map(text)).toEqual([
      JSON.stringify({ device: 'd1', temp: 25 }),
      JSON.stringify({ device: 'd2', temp: 10 }),
      '{ "device": "d3",  "temp": 30 }',
    ]);
    const one = await client.send(new SampleChannelDataCommand({ channelName: 'telemetry', maxMessages: 1 }));
    expect(one.payloads!.map(text)).toEqual(['{ "device": "d3",  "temp": 30 }']);
    const none = await client.send(new SampleChannelDataCommand({ channelName: 'telemetry', endTime: new Date(Date.now() - 3_600_000) }));
    expect(none.payloads).toEqual([]);
    expect(await caught(client.send(new SampleChannelDataCommand({ channelName: 'telemetry', maxMessages: 11 })))).toBeInstanceOf(InvalidRequestException);
    expect(await caught(client.send(new SampleChannelDataCommand({ channelName: 'nope' })))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('runs one pipeline activity over payloads without storing anything', async () => {
    const r = await client.send(new RunPipelineActivityCommand({
      pipelineActivity: { math: { name: 'c', attribute: 'tempC', math: '(temp - 32) * 5.0 / 9.0' } },
      payloads: [json({ humidity: 52, temp: 68 }), new TextEncoder().encode('not json')],
    }));
    expect(r.payloads!.map(text)).toEqual(['{"humidity":52,"temp":68,"tempC":20}']);
    expect(r.logResult).toMatch(/payload 1/);
    expect(await caught(client.send(new RunPipelineActivityCommand({ pipelineActivity: { datastore: { name: 'd', datastoreName: 'readings' } }, payloads: [json({})] })))).toBeInstanceOf(InvalidRequestException);
  });

  it('tags and untags resources by ARN and refuses ARNs of other services', async () => {
    const channelArn = arn('channel', 'telemetry');
    expect((await client.send(new ListTagsForResourceCommand({ resourceArn: channelArn }))).tags).toEqual([{ key: 'env', value: 'test' }]);
    const tagged = await client.send(new TagResourceCommand({ resourceArn: channelArn, tags: [{ key: 'team', value: 'data' }, { key: 'env', value: 'prod' }] }));
    expect(tagged.$metadata.httpStatusCode).toBe(204);
    await client.send(new TagResourceCommand({ resourceArn: arn('pipeline', 'temps'), tags: [{ key: 'a', value: '1' }] }));
    await client.send(new UntagResourceCommand({ resourceArn: channelArn, tagKeys: ['team', 'missing'] }));
    expect((await client.send(new ListTagsForResourceCommand({ resourceArn: channelArn }))).tags).toEqual([{ key: 'env', value: 'prod' }]);

    expect(await caught(client.send(new ListTagsForResourceCommand({ resourceArn: arn('channel', 'nope') })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await caught(client.send(new ListTagsForResourceCommand({ resourceArn: `arn:aws:iot:${REGION}:${ACCOUNT}:thing/t` })))).toBeInstanceOf(InvalidRequestException);
    const tooMany = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    const limit = await caught(once.send(new TagResourceCommand({ resourceArn: channelArn, tags: tooMany })));
    expect(limit).toBeInstanceOf(LimitExceededException);
  });

  it('stores and echoes the logging options', async () => {
    expect(await caught(client.send(new DescribeLoggingOptionsCommand({})))).toBeInstanceOf(ResourceNotFoundException);
    const options = { roleArn: 'arn:aws:iam::123456789012:role/logging', level: 'ERROR' as const, enabled: true };
    await client.send(new PutLoggingOptionsCommand({ loggingOptions: options }));
    expect((await client.send(new DescribeLoggingOptionsCommand({}))).loggingOptions).toEqual(options);
    expect(await caught(client.send(new PutLoggingOptionsCommand({ loggingOptions: { ...options, level: 'INFO' as 'ERROR' } })))).toBeInstanceOf(InvalidRequestException);
  });

  it('keeps definitions, metadata, tags, data and logging options across a restart', async () => {
    const before = await client.send(new DescribeChannelCommand({ channelName: 'telemetry' }));
    await stop();
    await start();
    const after = await client.send(new DescribeChannelCommand({ channelName: 'telemetry' }));
    expect(after.channel).toEqual(before.channel);
    expect((await client.send(new DescribePipelineCommand({ pipelineName: 'temps' }))).pipeline!.activities).toEqual(activities('telemetry', 'readings'));
    expect((await client.send(new ListTagsForResourceCommand({ resourceArn: arn('pipeline', 'temps') }))).tags).toEqual([{ key: 'a', value: '1' }]);
    expect((await client.send(new DescribeDatastoreCommand({ datastoreName: 'readings' }))).datastore!.retentionPeriod).toEqual({ numberOfDays: 7, unlimited: false });
    expect((await client.send(new DescribeLoggingOptionsCommand({}))).loggingOptions!.enabled).toBe(true);
    expect((await client.send(new SampleChannelDataCommand({ channelName: 'telemetry' }))).payloads).toHaveLength(3);

    // deleting the pipeline frees the channel and the datastore, which then go cleanly
    await client.send(new DeletePipelineCommand({ pipelineName: 'temps' }));
    await client.send(new DeleteChannelCommand({ channelName: 'telemetry' }));
    await client.send(new DeleteDatastoreCommand({ datastoreName: 'readings' }));
    expect((await client.send(new ListChannelsCommand({}))).channelSummaries).toEqual([]);
    expect((await client.send(new ListPipelinesCommand({}))).pipelineSummaries).toEqual([]);
    // a new channel of the same name starts empty
    await client.send(new CreateChannelCommand({ channelName: 'telemetry' }));
    expect((await client.send(new SampleChannelDataCommand({ channelName: 'telemetry' }))).payloads).toEqual([]);
  });
});
