// deviceRegistryEnrich, deviceShadowEnrich and lambda activities through the real server and the
// real AWS SDK clients: a thing with attributes (@aws-sdk/client-iot), its shadow
// (@aws-sdk/client-iot-data-plane), a pipeline that enriches and then reshapes messages in a
// user function from <dataDir>/functions, BatchPutMessage, and the datastore read back as a
// dataset's CSV content.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateThingCommand, IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import {
  BatchPutMessageCommand, CreateChannelCommand, CreateDatasetCommand, CreateDatasetContentCommand, CreateDatastoreCommand,
  CreatePipelineCommand, GetDatasetContentCommand, InvalidRequestException, IoTAnalyticsClient, RunPipelineActivityCommand,
  type PipelineActivity,
} from '@aws-sdk/client-iotanalytics';
import type { RunningServer } from '../../broker/index.js';
import { awsClientConfig, caught } from '../helpers/aws.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';

const ROLE = 'arn:aws:iam::123456789012:role/EnrichRole';
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

// Flattens what the enrich activities attached and converts the temperature.
const FLATTEN = `export async function handler(events) {
  return events.map((e) => ({
    thing: e.device.thingName,
    site: e.registry ? e.registry.attributes.site : null,
    thing_version: e.registry ? e.registry.version : null,
    fw: e.shadow ? e.shadow.state.reported.fw : null,
    temp_f: e.temp * 9 / 5 + 32,
  }));
}`;

const pipeline = (lambdaName: string): PipelineActivity[] => [
  { channel: { name: 'in', channelName: 'fleet', next: 'registry' } },
  { deviceRegistryEnrich: { name: 'registry', attribute: 'registry', thingName: 'device.thingName', roleArn: ROLE, next: 'shadow' } },
  { deviceShadowEnrich: { name: 'shadow', attribute: 'shadow', thingName: 'device.thingName', roleArn: ROLE, next: 'flatten' } },
  { lambda: { name: 'flatten', lambdaName, batchSize: 10, next: 'out' } },
  { datastore: { name: 'out', datastoreName: 'enriched_store' } },
];

describe('enrich and lambda pipeline activities with the AWS SDK clients', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let analytics: IoTAnalyticsClient;
  let iot: IoTClient;
  let iotData: IoTDataPlaneClient;

  beforeAll(async () => {
    mkdirSync(join(data.dir, 'functions'));
    writeFileSync(join(data.dir, 'functions', 'flatten.mjs'), FLATTEN);
    server = await startTestServer(data.dir);
    analytics = new IoTAnalyticsClient(awsClientConfig(server));
    iot = new IoTClient(awsClientConfig(server));
    iotData = new IoTDataPlaneClient(awsClientConfig(server));
  });
  afterAll(async () => {
    analytics?.destroy();
    iot?.destroy();
    iotData?.destroy();
    await server?.stop();
    data.remove();
  });

  it('stores messages enriched with the thing record and shadow and reshaped by the user function', async () => {
    await iot.send(new CreateThingCommand({ thingName: 'sensor-1', attributePayload: { attributes: { site: 'berlin' } } }));
    await iotData.send(new UpdateThingShadowCommand({ thingName: 'sensor-1', payload: json({ state: { reported: { fw: '1.4.2' } } }) }));
    await analytics.send(new CreateChannelCommand({ channelName: 'fleet' }));
    await analytics.send(new CreateDatastoreCommand({ datastoreName: 'enriched_store' }));

    const missing = await caught(analytics.send(new CreatePipelineCommand({ pipelineName: 'ghost', pipelineActivities: pipeline('nothere') })));
    expect(missing).toBeInstanceOf(InvalidRequestException);
    expect((missing as Error).message).toMatch(/nothere\.mjs/);

    await analytics.send(new CreatePipelineCommand({ pipelineName: 'enriched', pipelineActivities: pipeline('flatten') }));
    const put = await analytics.send(new BatchPutMessageCommand({
      channelName: 'fleet',
      messages: [
        { messageId: '1', payload: json({ device: { thingName: 'sensor-1' }, temp: 20 }) },
        { messageId: '2', payload: json({ device: { thingName: 'unknown' }, temp: 30 }) },
      ],
    }));
    expect(put.batchPutMessageErrorEntries).toEqual([]);
    await server.analytics.flush();

    await analytics.send(new CreateDatasetCommand({
      datasetName: 'enriched_rows',
      actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT thing, site, thing_version, fw, temp_f FROM enriched_store ORDER BY thing' } }],
    }));
    const { versionId } = await analytics.send(new CreateDatasetContentCommand({ datasetName: 'enriched_rows' }));
    const content = await eventually(async () => {
      const out = await analytics.send(new GetDatasetContentCommand({ datasetName: 'enriched_rows', versionId }));
      return out.status?.state === 'CREATING' ? undefined : out;
    }, 10_000, 'the dataset content');
    expect(content.status?.state).toBe('SUCCEEDED');
    const csv = await (await fetch(content.entries![0].dataURI!)).text();
    // the unknown thing passes through without registry record or shadow
    expect(csv.trim().split(/\r?\n/)).toEqual(['thing,site,thing_version,fw,temp_f', 'sensor-1,berlin,1,1.4.2,68', 'unknown,,,,86']);

    const counters = server.analytics.counters().pipelines.enriched.activities;
    expect(counters.registry).toMatchObject({ in: 2, out: 2, lookupMisses: 1 });
    expect(counters.shadow).toMatchObject({ in: 2, out: 2, lookupMisses: 1 });
    expect(counters.flatten).toMatchObject({ in: 2, out: 2, invocations: 1, invocationErrors: 0, timeouts: 0 });
  });

  it('runs a lambda activity on its own with RunPipelineActivity', async () => {
    const r = await analytics.send(new RunPipelineActivityCommand({
      pipelineActivity: { lambda: { name: 'flatten', lambdaName: 'flatten', batchSize: 1 } },
      payloads: [json({ device: { thingName: 'x' }, temp: 0 })],
    }));
    expect(r.logResult).toBe('');
    expect(r.payloads!.map((p) => JSON.parse(Buffer.from(p).toString('utf8')))).toEqual([{ thing: 'x', site: null, thing_version: null, fw: null, temp_f: 32 }]);
  });
});
