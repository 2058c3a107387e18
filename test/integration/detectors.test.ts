// Detector resources through the real server: an anomaly monitor and a range alarm declared in
// the configuration file, a flatline alarm put through the SigV4-signed /api/detectors API; rows
// sent with BatchPutMessage (the real SDK client) raise alerts in the alert store that clear when
// the rows turn normal; a restart keeps every definition.
import { BatchPutMessageCommand, IoTAnalyticsClient } from '@aws-sdk/client-iotanalytics';
import type { RunningServer } from '../../broker/index.js';
import { awsClientConfig, signedFetch } from '../helpers/aws.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';

const CONFIG = {
  rules: [],
  channels: [{ channelName: 'raw' }],
  datastores: [{ datastoreName: 'readings' }],
  pipelines: [{ pipelineName: 'store', pipelineActivities: [{ channel: { name: 'in', channelName: 'raw', next: 'out' } }, { datastore: { name: 'out', datastoreName: 'readings' } }] }],
  datasets: [],
  detectors: [
    { detectorName: 'temp_anomaly', datastoreName: 'readings', attribute: 'temp', detector: 'mad', params: { warmup: 20 }, clearAfter: 1 },
    { detectorName: 'temp_range', datastoreName: 'readings', type: 'range', attribute: 'temp', min: 0, max: 50, severity: 'CRITICAL' },
  ],
};
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe('detector resources through the server', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let client: IoTAnalyticsClient;
  let seq = 0;
  const put = async (rows: Record<string, unknown>[]) => {
    const messages = rows.map((r) => ({ messageId: `m${seq++}`, payload: json(r) }));
    const out = await client.send(new BatchPutMessageCommand({ channelName: 'raw', messages }));
    expect(out.batchPutMessageErrorEntries).toEqual([]);
    await server.analytics.flush();
    await server.analytics.alerts.flush();
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await signedFetch(server, method, path, body === undefined ? undefined : JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const active = async (source: string) => (await server.analytics.alerts.list({ source, state: 'ACTIVE' })).items;

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: CONFIG });
    client = new IoTAnalyticsClient(awsClientConfig(server));
  });
  afterAll(async () => {
    client?.destroy();
    await server?.stop();
    data.remove();
  });

  it('declares, lists and describes detectors from the configuration and the API', async () => {
    const created = await api('PUT', '/api/detectors/temp_flat', { datastoreName: 'readings', type: 'flatline', attribute: 'temp', points: 5, severity: 'WARNING' });
    expect(created.status).toBe(200);
    expect(created.body.definition).toEqual({ detectorName: 'temp_flat', datastoreName: 'readings', type: 'flatline', attribute: 'temp', points: 5, severity: 'WARNING' });
    const list = await api('GET', '/api/detectors');
    expect(list.body.detectors.map((d: { definition: { detectorName: string } }) => d.definition.detectorName)).toEqual(['temp_anomaly', 'temp_flat', 'temp_range']);
    const one = await api('GET', '/api/detectors/temp_range');
    expect(one.body).toMatchObject({ definition: { type: 'range', max: 50 }, counters: { points: 0, alertsRaised: 0 } });
  });

  it('answers bad definitions with 400, unknown names with 404 and unsigned requests with 403', async () => {
    expect((await api('PUT', '/api/detectors/bad', { datastoreName: 'readings', type: 'range', attribute: 'temp' })).status).toBe(400);
    expect((await api('PUT', '/api/detectors/bad', { datastoreName: 'nope', attribute: 'temp' })).status).toBe(404);
    expect((await api('PUT', '/api/detectors/bad', { detectorName: 'other', datastoreName: 'readings', attribute: 'temp' })).status).toBe(400);
    const missing = await api('GET', '/api/detectors/nope');
    expect(missing).toMatchObject({ status: 404, body: { message: expect.stringMatching(/nope/) } });
    expect((await api('DELETE', '/api/detectors/nope')).status).toBe(404);
    const unsigned = await fetch(`http://127.0.0.1:${server.httpPort}/api/detectors`);
    expect(unsigned.status).toBe(403);
  });

  it('raises alerts for an anomalous, out-of-range and stuck device and clears them when it recovers', async () => {
    await put(Array.from({ length: 40 }, (_, i) => ({ deviceId: 'dev1', temp: 20 + Math.sin(i) * 0.5 })));
    expect(await active('temp_anomaly')).toEqual([]);
    await put([{ deviceId: 'dev1', temp: 95 }]);
    expect((await active('temp_anomaly')).map((x) => [x.deviceId, x.type])).toEqual([['dev1', 'anomaly']]);
    expect((await active('temp_range')).map((x) => [x.deviceId, x.severity, x.value])).toEqual([['dev1', 'CRITICAL', 95]]);
    await put(Array.from({ length: 5 }, () => ({ deviceId: 'dev2', temp: 7 })));
    expect((await active('temp_flat')).map((x) => [x.deviceId, x.type])).toEqual([['dev2', 'flatline']]);

    await put([{ deviceId: 'dev1', temp: 20.2 }, { deviceId: 'dev2', temp: 8 }]);
    await eventually(async () => ((await active('temp_range')).length === 0 && (await active('temp_flat')).length === 0 ? true : undefined), 5000, 'range and flatline alerts cleared');
    const described = await api('GET', '/api/detectors/temp_range');
    expect(described.body.counters).toMatchObject({ alertsRaised: 1, alertsCleared: 1 });
  });

  it('keeps the API-declared and configured detectors across a restart and deletes through the API', async () => {
    await server.stop();
    server = await startTestServer(data.dir, { config: CONFIG });
    client.destroy();
    client = new IoTAnalyticsClient(awsClientConfig(server));
    const list = await api('GET', '/api/detectors');
    expect(list.body.detectors.map((d: { definition: { detectorName: string } }) => d.definition.detectorName)).toEqual(['temp_anomaly', 'temp_flat', 'temp_range']);
    expect((await api('DELETE', '/api/detectors/temp_flat')).status).toBe(200);
    expect((await api('GET', '/api/detectors/temp_flat')).status).toBe(404);
  });
});
