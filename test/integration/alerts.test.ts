// Alerts through a real server: raised through the facade, seen on the signed API, on an MQTT
// subscriber of iotcore/alerts/#, through a topic rule, and on the live WebSocket; acknowledged
// and cleared through the API; kept across a restart.
import { CreateTopicRuleCommand, IoTClient } from '@aws-sdk/client-iot';
import { WebSocket } from 'ws';
import type { RunningServer } from '../../broker/index.js';
import type { Alert, AlertListBody, LiveServerFrame } from '../../broker/contract.js';
import { awsClientConfig, signedFetch } from '../helpers/aws.js';
import { connect, type Inbox } from '../helpers/mqtt.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';
import { signIn } from '../helpers/operator.js';

const KEY = { source: 'temp-detector', deviceId: 'sensor-1', metric: 'temperature' };

async function api<T>(server: RunningServer, method: string, path: string, body?: unknown): Promise<{ status: number; errorType: string | null; body: T }> {
  const res = await signedFetch(server, method, path, body === undefined ? undefined : JSON.stringify(body), body === undefined ? {} : { headers: { 'content-type': 'application/json' } });
  return { status: res.status, errorType: res.headers.get('x-amzn-errortype'), body: (await res.json()) as T };
}

describe('alerts through the server', () => {
  const data = tempDataDir('iotcore-alerts-');
  let server: RunningServer | undefined;
  let inbox: Inbox | undefined;
  let live: WebSocket | undefined;

  afterAll(async () => {
    live?.close();
    await inbox?.client.endAsync();
    await server?.stop();
    data.remove();
  });

  it('publishes, lists, acknowledges and clears an alert, and refuses bad transitions', async () => {
    server = await startTestServer(data.dir);
    const s = server;
    await new IoTClient(awsClientConfig(s)).send(new CreateTopicRuleCommand({
      ruleName: 'route_alerts',
      topicRulePayload: { sql: "SELECT severity, eventType, deviceId FROM 'iotcore/alerts/#'", actions: [{ republish: { roleArn: 'arn:aws:iam::000000000000:role/r', topic: 'ops/alerts', qos: 1 } }] },
    }));
    inbox = await connect(s, 'alert-watcher', ['iotcore/alerts/#', 'ops/alerts']);
    const frames: LiveServerFrame[] = [];
    live = new WebSocket(`ws://127.0.0.1:${s.httpPort}/api/live`, { headers: { cookie: await signIn(`http://127.0.0.1:${s.httpPort}`) } });
    live.on('message', (d) => frames.push(JSON.parse(String(d)) as LiveServerFrame));
    await eventually(async () => (frames.some((f) => f.type === 'hello') ? true : undefined), 5000, 'the live hello');

    s.analytics.alerts.raise({ ...KEY, severity: 'MAJOR', type: 'anomaly', message: 'temperature far from usual', value: 91.5, score: 0.97, at: Date.now() });
    s.analytics.alerts.raise({ ...KEY, severity: 'MINOR', type: 'anomaly', message: 'still high', value: 90, score: 0.8, at: Date.now() });

    const inboxNow = inbox;
    const published = await eventually(async () => inboxNow.messages.find((m) => m.topic === 'iotcore/alerts/temp-detector/sensor-1')?.body, 5000, 'the alert on MQTT');
    expect(published).toMatchObject({ eventType: 'opened', state: 'ACTIVE', severity: 'MAJOR', ...KEY, value: 91.5 });
    const routed = await eventually(async () => inboxNow.messages.find((m) => m.topic === 'ops/alerts')?.body, 5000, 'the alert republished by a rule');
    expect(routed).toEqual({ severity: 'MAJOR', eventType: 'opened', deviceId: 'sensor-1' });
    const frame = await eventually(async () => frames.find((f) => f.type === 'alert'), 5000, 'the live alert frame');
    expect(frame).toMatchObject({ type: 'alert', event: 'opened', dropped: 0, alert: { id: published.id, state: 'ACTIVE' } });

    const listed = await api<AlertListBody>(s, 'GET', '/api/alerts?state=ACTIVE&deviceId=sensor-1');
    expect(listed.status).toBe(200);
    expect(listed.body.alerts).toHaveLength(1); // the second raise updated it
    const id = listed.body.alerts[0].id;
    expect(listed.body.alerts[0]).toMatchObject({ id: published.id, occurrences: 2, severity: 'MAJOR', value: 90 });

    const acked = await api<Alert>(s, 'POST', `/api/alerts/${id}/acknowledge`, { note: 'on it' });
    expect(acked).toMatchObject({ status: 200, body: { state: 'ACKNOWLEDGED', note: 'on it' } });
    await eventually(async () => (inboxNow.messages.some((m) => m.body?.eventType === 'acknowledged') ? true : undefined), 5000, 'the acknowledged event on MQTT');
    await eventually(async () => (frames.some((f) => f.type === 'alert' && f.event === 'acknowledged') ? true : undefined), 5000, 'the acknowledged frame');

    const cleared = await api<Alert>(s, 'POST', `/api/alerts/${id}/clear`);
    expect(cleared).toMatchObject({ status: 200, body: { state: 'CLEARED', note: 'on it' } });
    expect((await api<Alert>(s, 'GET', `/api/alerts/${id}`)).body.state).toBe('CLEARED');

    const again = await api<{ message: string }>(s, 'POST', `/api/alerts/${id}/clear`, {});
    expect(again).toMatchObject({ status: 409, errorType: 'InvalidStateTransitionException' });
    const ackCleared = await api<{ message: string }>(s, 'POST', `/api/alerts/${id}/acknowledge`, {});
    expect(ackCleared).toMatchObject({ status: 409, errorType: 'InvalidStateTransitionException' });
    expect(await api(s, 'GET', '/api/alerts/no-such-id')).toMatchObject({ status: 404, errorType: 'ResourceNotFoundException' });
    expect(await api(s, 'POST', '/api/alerts/no-such-id/acknowledge', {})).toMatchObject({ status: 404, errorType: 'ResourceNotFoundException' });
    expect(await api(s, 'GET', '/api/alerts?severity=LOUD')).toMatchObject({ status: 400, errorType: 'InvalidRequestException' });
    expect(await api(s, 'GET', '/api/alerts?since=yesterday')).toMatchObject({ status: 400, errorType: 'InvalidRequestException' });

    const unsigned = await fetch(`http://127.0.0.1:${s.httpPort}/api/alerts`);
    expect(unsigned.status).toBe(403);

    const metrics = await (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/iotcore_analytics\{path="alerts",counter="raised"\} 1\b/);
    expect(metrics).toMatch(/iotcore_analytics\{path="alerts",counter="cleared"\} 1\b/);
    expect(metrics).toMatch(/iotcore_alert_publish_total\{counter="published"\} [1-9]/);
    expect(metrics).toMatch(/iotcore_live_total\{counter="alertsSent"\} [1-9]/);
  });

  it('keeps open alerts across a restart', async () => {
    const before = server!;
    before.analytics.alerts.raise({ ...KEY, deviceId: 'sensor-2', severity: 'CRITICAL', type: 'silent', message: 'no data', at: Date.now() });
    live?.close();
    live = undefined;
    await inbox?.client.endAsync();
    inbox = undefined;
    await before.stop();
    server = await startTestServer(data.dir);
    const s = server;
    s.analytics.alerts.raise({ ...KEY, deviceId: 'sensor-2', severity: 'CRITICAL', type: 'silent', message: 'still no data', at: Date.now() });
    const open = await api<AlertListBody>(s, 'GET', '/api/alerts?deviceId=sensor-2');
    expect(open.body.alerts).toHaveLength(1);
    expect(open.body.alerts[0]).toMatchObject({ state: 'ACTIVE', occurrences: 2, message: 'still no data' });
    const all = await api<AlertListBody>(s, 'GET', '/api/alerts?maxResults=1');
    expect(all.body.alerts.map((a) => a.deviceId)).toEqual(['sensor-2']); // newest first
    const rest = await api<AlertListBody>(s, 'GET', `/api/alerts?maxResults=1&nextToken=${encodeURIComponent(all.body.nextToken!)}`);
    expect(rest.body.alerts.map((a) => [a.deviceId, a.state])).toEqual([['sensor-1', 'CLEARED']]);
  });
});
