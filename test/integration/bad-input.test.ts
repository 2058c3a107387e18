// Bad input is counted, archived or refused with a clear message; the server never crashes and
// nothing it already accepted is lost.
import mqtt from 'mqtt';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RESOURCES, type RunningServer } from '../../broker/index.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';
import { readArchiveFiles } from '../helpers/archive.js';
import { metricValue } from '../helpers/metrics.js';
import { operatorJson } from '../helpers/operator.js';

const COUNT_ROWS = { datasetName: 'row_count', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT count(*) AS n FROM telemetry_store' } }] };
const CONFIG = { ...DEFAULT_RESOURCES, datasets: [...DEFAULT_RESOURCES.datasets, COUNT_ROWS] };

describe('bad input on a running server', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let client: mqtt.MqttClient;
  const rowCount = async () => {
    const res = await operatorJson<{ rows: unknown[][] }>(`http://127.0.0.1:${server.httpPort}`, '/api/datasets/row_count/run', { method: 'POST' });
    return Number(res.body.rows[0][0]);
  };

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: CONFIG });
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'good-device', protocolVersion: 4 });
    await client.publishAsync('devices/good/telemetry', JSON.stringify({ deviceId: 'good', ts: 1, seq: 1, temperature: 21, humidity: 40, battery: 80 }), { qos: 1 });
    await server.analytics.flush();
  });

  afterAll(async () => {
    await client?.endAsync();
    await server?.stop();
    data.remove();
  });

  it('archives a non-JSON payload, acknowledges it, counts it as invalid and keeps it out of the datastore', async () => {
    const invalid = { path: 'channels/telemetry/processing', counter: 'invalidPayloads' };
    const invalidBefore = await metricValue(server.httpPort, 'iotcore_analytics', invalid);
    const before = await rowCount();
    await client.publishAsync('devices/good/telemetry', 'not json at all', { qos: 1 });
    await server.analytics.flush();
    const raw = readArchiveFiles(data.dir, 'telemetry').map((r) => Buffer.from(r.payload, 'base64').toString());
    expect(raw).toContain('not json at all');
    expect(await rowCount()).toBe(before);
    expect(await metricValue(server.httpPort, 'iotcore_analytics', invalid)).toBe((invalidBefore ?? 0) + 1);
  });

  it('acknowledges and counts a message on a topic that no rule matches', async () => {
    const before = (await metricValue(server.httpPort, 'iotcore_ingest_total', { counter: 'unmatched' })) ?? 0;
    await client.publishAsync('nobody/listens/here', '{"x":1}', { qos: 1 });
    expect(await metricValue(server.httpPort, 'iotcore_ingest_total', { counter: 'unmatched' })).toBe(before + 1);
  });

  it('refuses a payload over 128 KB by closing that connection without PUBACK, and keeps serving others', async () => {
    const big = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'big-device', protocolVersion: 4, reconnectPeriod: 0 });
    let acked = false;
    const closed = new Promise<void>((resolve) => big.once('close', () => resolve()));
    big.publish('devices/big/telemetry', Buffer.alloc(128 * 1024 + 1, 0x61), { qos: 1 }, (err) => {
      if (!err) acked = true;
    });
    await closed;
    big.end(true);
    expect(acked).toBe(false);
    expect(await metricValue(server.httpPort, 'iotcore_ingest_total', { counter: 'oversized' })).toBe(1);
    const before = await rowCount();
    await client.publishAsync('devices/good/telemetry', JSON.stringify({ deviceId: 'good', ts: 2, seq: 2, temperature: 22, humidity: 41, battery: 79 }), { qos: 1 });
    await eventually(async () => ((await rowCount()) === before + 1 ? true : undefined), 5000, 'the next good message stored');
    expect((await fetch(`http://127.0.0.1:${server.httpPort}/health`)).status).toBe(200);
  });

  it('answers malformed API requests and unknown datasets with coded errors', async () => {
    const unknown = await operatorJson<{ code: string; message: string }>(`http://127.0.0.1:${server.httpPort}`, '/api/datasets/no_such_dataset/run', { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('ResourceNotFoundException');
    expect(unknown.body.message).toContain('no_such_dataset');
    const noRoute = await operatorJson<{ code: string }>(`http://127.0.0.1:${server.httpPort}`, '/api/nothing-here');
    expect(noRoute.status).toBe(404);
    expect(noRoute.body.code).toBe('NotFound');
  });
});

describe('a configuration with an error', () => {
  it('refuses to start, naming the file, the key and the reason, and leaves the data directory usable', async () => {
    const data = tempDataDir();
    const file = join(data.dir, 'bad.json');
    const broken = { ...DEFAULT_RESOURCES, rules: [{ ruleName: 'broken', topicRulePayload: { sql: 'SELEC temperature FRM', actions: [] } }] };
    writeFileSync(file, JSON.stringify(broken));
    await expect(startTestServer(data.dir, { config: file })).rejects.toMatchObject({
      code: 'ConfigInvalid',
      message: expect.stringMatching(/bad\.json: rules\[0\]: SqlParseException/),
    });
    // Nothing was left open: the same data directory starts with the default configuration.
    const server = await startTestServer(data.dir);
    expect((await fetch(`http://127.0.0.1:${server.httpPort}/health`)).status).toBe(200);
    await server.stop();
    data.remove();
  });
});
