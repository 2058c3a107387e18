// Issue 5's acceptance flow, through the unmodified AWS SDK clients only: a channel, a pipeline of
// several activities and a datastore (client-iotanalytics), a topic rule that routes MQTT telemetry
// into the channel (client-iot), messages from a real MQTT client and from BatchPutMessage, a
// dataset whose content is fetched as CSV from the returned URI and checked to the byte; then the
// pipeline changes and a time range of the channel archive is reprocessed through it.
import {
  BatchPutMessageCommand,
  CreateChannelCommand,
  CreateDatasetCommand,
  CreateDatasetContentCommand,
  CreateDatastoreCommand,
  CreatePipelineCommand,
  DescribePipelineCommand,
  GetDatasetContentCommand,
  StartPipelineReprocessingCommand,
  UpdatePipelineCommand,
  IoTAnalyticsClient,
  type GetDatasetContentCommandOutput,
} from '@aws-sdk/client-iotanalytics';
import { CreateTopicRuleCommand, IoTClient } from '@aws-sdk/client-iot';
import mqtt from 'mqtt';
import type { RunningServer } from '../../broker/index.js';
import { awsClientConfig } from '../helpers/aws.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';

const NO_RESOURCES = { rules: [], channels: [], datastores: [], pipelines: [], datasets: [] };
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('the IoT Analytics data path driven end to end by the AWS SDK clients', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let analytics: IoTAnalyticsClient;
  let iot: IoTClient;

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: NO_RESOURCES });
    analytics = new IoTAnalyticsClient(awsClientConfig(server));
    iot = new IoTClient(awsClientConfig(server));
  });

  afterAll(async () => {
    analytics?.destroy();
    iot?.destroy();
    await server?.stop();
    data.remove();
  });

  const content = (datasetName: string, versionId: string): Promise<GetDatasetContentCommandOutput> =>
    eventually(async () => {
      const out = await analytics.send(new GetDatasetContentCommand({ datasetName, versionId }));
      return out.status?.state === 'CREATING' ? undefined : out;
    }, 15_000, `content ${versionId} of ${datasetName}`);

  const csvOfNewContent = async (datasetName: string): Promise<string> => {
    const { versionId } = await analytics.send(new CreateDatasetContentCommand({ datasetName }));
    const out = await content(datasetName, versionId!);
    expect(out.status?.state).toBe('SUCCEEDED');
    const res = await fetch(out.entries![0].dataURI!);
    expect(res.status).toBe(200);
    return res.text();
  };

  it('routes MQTT and BatchPutMessage messages through the rule, the channel and the pipeline into a dataset CSV', async () => {
    await analytics.send(new CreateChannelCommand({ channelName: 'plant', retentionPeriod: { numberOfDays: 7 } }));
    await analytics.send(new CreateDatastoreCommand({ datastoreName: 'plant_store' }));
    await analytics.send(new CreatePipelineCommand({
      pipelineName: 'plant_pipeline',
      pipelineActivities: [
        { channel: { name: 'in', channelName: 'plant', next: 'plausible' } },
        { filter: { name: 'plausible', filter: 'temperature < 100', next: 'fahrenheit' } },
        { math: { name: 'fahrenheit', attribute: 'temperature_f', math: 'temperature * 9 / 5 + 32', next: 'tidy' } },
        { removeAttributes: { name: 'tidy', attributes: ['debug'], next: 'out' } },
        { datastore: { name: 'out', datastoreName: 'plant_store' } },
      ],
    }));
    await iot.send(new CreateTopicRuleCommand({
      ruleName: 'plant_to_analytics',
      topicRulePayload: { sql: "SELECT *, topic(2) AS deviceId FROM 'plant/+/telemetry'", awsIotSqlVersion: '2016-03-23', actions: [{ iotAnalytics: { channelName: 'plant' } }] },
    }));

    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'press-1', protocolVersion: 4, reconnectPeriod: 0 });
    await device.publishAsync('plant/press-1/telemetry', JSON.stringify({ temperature: 20, debug: 'x' }), { qos: 1 });
    await device.publishAsync('plant/press-1/telemetry', JSON.stringify({ temperature: 150 }), { qos: 1 }); // filtered out
    await device.endAsync();
    const batch = await analytics.send(new BatchPutMessageCommand({
      channelName: 'plant',
      messages: [
        { messageId: 'm1', payload: json({ deviceId: 'oven-1', temperature: 35 }) },
        { messageId: 'm2', payload: json({ deviceId: 'oven-2', temperature: -5, debug: 'y' }) },
      ],
    }));
    expect(batch.batchPutMessageErrorEntries).toEqual([]);
    await server.analytics.flush();

    await analytics.send(new CreateDatasetCommand({
      datasetName: 'plant_summary',
      actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT deviceId, temperature, temperature_f FROM plant_store ORDER BY deviceId' } }],
    }));
    expect(await csvOfNewContent('plant_summary')).toBe('deviceId,temperature,temperature_f\r\noven-1,35,95\r\noven-2,-5,23\r\npress-1,20,68\r\n');
  }, 60_000);

  it('reprocesses the archived time range through the changed pipeline: the kept messages come back with the new attribute', async () => {
    await analytics.send(new UpdatePipelineCommand({
      pipelineName: 'plant_pipeline',
      pipelineActivities: [
        { channel: { name: 'in', channelName: 'plant', next: 'plausible' } },
        { filter: { name: 'plausible', filter: 'temperature < 100', next: 'site' } },
        { addAttributes: { name: 'site', attributes: { deviceId: 'site_device' }, next: 'out' } },
        { datastore: { name: 'out', datastoreName: 'plant_store' } },
      ],
    }));
    // the whole range of the first test's messages: the hour up to now
    const { reprocessingId } = await analytics.send(new StartPipelineReprocessingCommand({ pipelineName: 'plant_pipeline', startTime: new Date(Date.now() - 3_600_000), endTime: new Date(Date.now() + 1000) }));
    await eventually(async () => {
      const { pipeline } = await analytics.send(new DescribePipelineCommand({ pipelineName: 'plant_pipeline' }));
      const status = pipeline?.reprocessingSummaries?.find((r) => r.id === reprocessingId)?.status;
      return status === 'RUNNING' ? undefined : status;
    }, 15_000, 'the reprocessing to end').then((status) => expect(status).toBe('SUCCEEDED'));
    await server.analytics.flush();

    await analytics.send(new CreateDatasetCommand({
      datasetName: 'plant_sites',
      actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT site_device, temperature FROM plant_store WHERE site_device IS NOT NULL ORDER BY site_device' } }],
    }));
    expect(await csvOfNewContent('plant_sites')).toBe('site_device,temperature\r\noven-1,35\r\noven-2,-5\r\npress-1,20\r\n');
  }, 60_000);
});
