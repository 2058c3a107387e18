// The dashboard's data APIs through a real server: real MQTT devices publish telemetry through the
// default configuration's rule, channel, pipeline and datastore; the fleet, a device's history, rule
// and pipeline health and dataset contents are then read over HTTP (SigV4-signed, as any /api call
// may be).
import { AddThingToThingGroupCommand, CreateThingCommand, CreateThingGroupCommand, IoTClient } from '@aws-sdk/client-iot';
import type { RunningServer } from '../../broker/index.js';
import type { ApiErrorBody, DatasetContentBody, FleetBody, FleetDeviceBody, HistoryBody, LiveDatasetFrame, PipelineStatusBody, RuleStatusBody, TelemetryPayload } from '../../broker/contract.js';
import { awsClientConfig, signedFetch } from '../helpers/aws.js';
import { connect, type Inbox } from '../helpers/mqtt.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';

async function api<T>(server: RunningServer, method: string, path: string): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await signedFetch(server, method, path);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (res.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as T) : (text as T) };
}

const MESSAGES = 40;
const SPIKE_SEQ = 17;

describe('the dashboard data APIs', () => {
  const data = tempDataDir('iotcore-dashboard-api-');
  let server: RunningServer;
  let device: Inbox;
  let startedAt: number;

  beforeAll(async () => {
    server = await startTestServer(data.dir);
    const iot = new IoTClient(awsClientConfig(server));
    await iot.send(new CreateThingCommand({ thingName: 'sensor-1', attributePayload: { attributes: { site: 'lab' } } }));
    await iot.send(new CreateThingCommand({ thingName: 'sensor-quiet' }));
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'floor-2' }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'floor-2', thingName: 'sensor-1' }));
    startedAt = Date.now();
    device = await connect(server, 'sensor-1');
    for (let seq = 0; seq < MESSAGES; seq++) {
      const reading: TelemetryPayload = { deviceId: 'sensor-1', ts: Date.now(), seq, temperature: seq === SPIKE_SEQ ? 95 : 21, humidity: 40, battery: 80 };
      await device.client.publishAsync('devices/sensor-1/telemetry', JSON.stringify(reading), { qos: 1 });
      // spread the rows over a few milliseconds each, so buckets have distinct times
      await new Promise((r) => setTimeout(r, 3));
    }
    // one the pipeline's filter drops (an impossible battery reading)
    await device.client.publishAsync('devices/sensor-1/telemetry', JSON.stringify({ deviceId: 'sensor-1', ts: Date.now(), seq: MESSAGES, temperature: 21, humidity: 40, battery: 150 }), { qos: 1 });
    await server.analytics.flush();
  }, 30_000);

  afterAll(async () => {
    await device?.client.endAsync();
    await server?.stop();
    data.remove();
  });

  it('lists registered things and connected clients with connection state, publish counts, rate and open alerts', async () => {
    server.analytics.alerts.raise({ source: 'test', deviceId: 'sensor-1', metric: 'temperature', severity: 'MAJOR', type: 'anomaly', message: 'hot', at: Date.now() });
    const anonymous = await connect(server, 'unregistered-probe');
    try {
      const { status, body } = await api<FleetBody>(server, 'GET', '/api/fleet');
      expect(status).toBe(200);
      expect(body.generatedAt).toBeGreaterThanOrEqual(startedAt);
      const sensor = body.devices.find((d) => d.thingName === 'sensor-1')!;
      expect(sensor).toMatchObject({ registered: true, attributes: { site: 'lab' }, groups: ['floor-2'], connected: true, messages: MESSAGES + 1 });
      // every publish was within the last minute; the rate is an estimate when they straddle a
      // minute boundary (the previous minute's share is weighted by how much of it is still recent)
      expect(sensor.messagesPerMinute).toBeLessThanOrEqual(MESSAGES + 1);
      expect(sensor.messagesPerMinute).toBeGreaterThanOrEqual(Math.floor(0.9 * (MESSAGES + 1)));
      expect(sensor.connectedSince).toBeGreaterThanOrEqual(startedAt);
      expect(sensor.lastSeen).toBeGreaterThanOrEqual(sensor.connectedSince!);
      expect(sensor.openAlerts).toBeGreaterThanOrEqual(1);
      expect(body.devices.find((d) => d.thingName === 'sensor-quiet')).toEqual({ thingName: 'sensor-quiet', registered: true, attributes: {}, groups: [], connected: false, messages: 0, messagesPerMinute: 0, openAlerts: 0 });
      expect(body.devices.find((d) => d.thingName === 'unregistered-probe')).toMatchObject({ registered: false, connected: true, messages: 0 });
    } finally {
      await anonymous.client.endAsync();
    }
    const after = await eventually(async () => {
      const { body } = await api<FleetBody>(server, 'GET', '/api/fleet');
      const probe = body.devices.find((d) => d.thingName === 'unregistered-probe');
      return probe && !probe.connected ? probe : undefined;
    }, 5000, 'the probe to show as disconnected');
    expect(after.connectedSince).toBeUndefined();
  });

  it('answers one device as the fleet list shows it, and 404 for a name neither registered nor seen', async () => {
    const { body: fleet } = await api<FleetBody>(server, 'GET', '/api/fleet');
    const one = await api<FleetDeviceBody>(server, 'GET', '/api/fleet/sensor-1');
    expect(one.status).toBe(200);
    const listed = fleet.devices.find((d) => d.thingName === 'sensor-1')!;
    // the rate is an estimate that moves with the clock between the two requests
    expect({ ...one.body.device, messagesPerMinute: 0 }).toEqual({ ...listed, messagesPerMinute: 0 });
    expect((await api<FleetDeviceBody>(server, 'GET', '/api/fleet/sensor-quiet')).body.device).toEqual(fleet.devices.find((d) => d.thingName === 'sensor-quiet'));
    const unknown = await api<{ message: string }>(server, 'GET', '/api/fleet/no-such-device');
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/no-such-device/);
  });

  it('answers a device\'s raw rows when they fit, and avg/min/max buckets that keep a spike when they do not', async () => {
    const range = `from=${startedAt - 1000}&to=${Date.now() + 1000}`;
    const raw = await api<HistoryBody>(server, 'GET', `/api/devices/sensor-1/history?${range}&attributes=temperature,battery`);
    expect(raw.status).toBe(200);
    expect(raw.body).toMatchObject({ datastore: 'telemetry_store', deviceId: 'sensor-1', bucketMs: 0, rowsInRange: MESSAGES, columns: ['__dt', 'temperature', 'battery'] });
    expect(raw.body.data[1]).toHaveLength(MESSAGES);
    expect(raw.body.data[1].filter((t) => t === 95)).toHaveLength(1);
    const dts = raw.body.data[0] as number[];
    expect(dts).toEqual([...dts].sort((a, b) => a - b));

    const bucketed = await api<HistoryBody>(server, 'GET', `/api/devices/sensor-1/history?${range}&attributes=temperature&points=5&datastore=telemetry_store`);
    expect(bucketed.status).toBe(200);
    expect(bucketed.body.rowsInRange).toBe(MESSAGES);
    expect(bucketed.body.bucketMs).toBeGreaterThan(0);
    expect(bucketed.body.columns).toEqual(['__dt', 'temperature', 'temperature.min', 'temperature.max']);
    const [times, avg, min, max] = bucketed.body.data;
    expect(times.length).toBeLessThanOrEqual(5);
    expect(Math.max(...(max as number[]))).toBe(95);
    expect(Math.min(...(min as number[]))).toBe(21);
    expect(Math.max(...(avg as number[]))).toBeLessThan(95);

    // every numeric column when none are named (temperature_f comes from the pipeline's math)
    const all = await api<HistoryBody>(server, 'GET', `/api/devices/sensor-1/history?${range}`);
    expect(all.body.columns).toEqual(expect.arrayContaining(['__dt', 'temperature', 'humidity', 'battery', 'temperature_f', 'seq', 'ts']));
    expect(all.body.columns).not.toContain('deviceId');
  });

  it('refuses an unknown attribute with 400 naming it, and an unknown datastore with 404', async () => {
    const unknown = await api<ApiErrorBody>(server, 'GET', '/api/devices/sensor-1/history?attributes=temperature,pressure');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({ code: 'InvalidRequestException', message: expect.stringContaining('pressure') });
    const store = await api<ApiErrorBody>(server, 'GET', '/api/devices/sensor-1/history?datastore=nowhere');
    expect(store.status).toBe(404);
    expect(store.body.code).toBe('ResourceNotFoundException');
    const badTime = await api<ApiErrorBody>(server, 'GET', '/api/devices/sensor-1/history?from=yesterday');
    expect(badTime).toMatchObject({ status: 400, body: { code: 'InvalidRequestException' } });
  });

  it('shows rules with their SQL, actions and counters, and pipelines with activity counters and backlog', async () => {
    const rules = await api<RuleStatusBody>(server, 'GET', '/api/rules');
    expect(rules.status).toBe(200);
    const rule = rules.body.rules.find((r) => r.ruleName === 'telemetry_to_analytics')!;
    expect(rule).toMatchObject({ sql: "SELECT * FROM 'devices/+/telemetry'", awsIotSqlVersion: '2016-03-23', enabled: true, actions: ['iotAnalytics'] });
    expect(rule.errorAction).toBeUndefined();
    expect(rule.counters).toMatchObject({ matched: MESSAGES + 1, fired: MESSAGES + 1, failed: 0, actionsOk: MESSAGES + 1, actionsFailed: 0 });

    const pipelines = await api<PipelineStatusBody>(server, 'GET', '/api/pipelines');
    expect(pipelines.status).toBe(200);
    const p = pipelines.body.pipelines.find((x) => x.pipelineName === 'telemetry_pipeline')!;
    expect(p).toMatchObject({ channelName: 'telemetry', datastoreName: 'telemetry_store', rowsOut: MESSAGES, writeErrors: 0, backlog: 0 });
    expect(p.lastError).toBeUndefined();
    expect(p.activities.map((a) => [a.name, a.type])).toEqual([['from_channel', 'channel'], ['plausible_battery', 'filter'], ['fahrenheit', 'math'], ['to_store', 'datastore']]);
    expect(p.activities[1]).toMatchObject({ in: MESSAGES + 1, out: MESSAGES, dropped: 1, errors: 0 });
  });

  it('runs a dataset content on request, serves the latest one and its CSV as a download, and tells live subscribers', async () => {
    const events: LiveDatasetFrame[] = [];
    const unsubscribe = server.analytics.datasets.subscribe((e) => events.push({ type: 'dataset', ...e }));
    const run = await api<DatasetContentBody>(server, 'POST', '/api/datasets/fleet_summary/contents');
    unsubscribe();
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ datasetName: 'fleet_summary', state: 'SUCCEEDED', truncated: false, csvPath: `/api/datasets/fleet_summary/contents/${run.body.versionId}.csv` });
    expect(run.body.columns.map((c) => c.name)).toEqual(['deviceId', 'messages', 'avg_temperature', 'min_battery', 'last_seen']);
    expect(run.body.rows).toEqual([['sensor-1', MESSAGES, expect.any(Number), 80, expect.any(String)]]);
    expect(events).toEqual([{ type: 'dataset', datasetName: 'fleet_summary', versionId: run.body.versionId, state: 'SUCCEEDED', completedAt: run.body.completedAt }]);

    const latest = await api<DatasetContentBody>(server, 'GET', '/api/datasets/fleet_summary/contents/latest');
    expect(latest.status).toBe(200);
    expect(latest.body).toEqual(run.body);

    const csv = await api<string>(server, 'GET', run.body.csvPath);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="fleet_summary-${run.body.versionId}.csv"`);
    expect(csv.body.split('\r\n')[0]).toBe('deviceId,messages,avg_temperature,min_battery,last_seen');
    expect(csv.body).toContain(`sensor-1,${MESSAGES},`);

    expect((await api<ApiErrorBody>(server, 'GET', '/api/datasets/fleet_summary/contents/not-a-version.csv')).status).toBe(404);
    expect((await api<ApiErrorBody>(server, 'POST', '/api/datasets/no_such_dataset/contents')).body.code).toBe('ResourceNotFoundException');
  });

  it('answers 404 for the latest content of a dataset that has none', async () => {
    await server.analytics.putDataset({ datasetName: 'never_run', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT 1 AS one' } }] });
    const none = await api<ApiErrorBody>(server, 'GET', '/api/datasets/never_run/contents/latest');
    expect(none).toMatchObject({ status: 404, body: { code: 'ResourceNotFoundException' } });
  });
});
