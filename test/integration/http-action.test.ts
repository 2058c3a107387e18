// The http rule action end to end: an MQTT publish becomes a POST to a webhook; a failing webhook
// reaches the rule's errorAction; a webhook that never answers does not hold the device's PUBACK.
import mqtt from 'mqtt';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningServer } from '../../broker/index.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';
import { metricValue } from '../helpers/metrics.js';

interface Hit { url: string; headers: IncomingMessage['headers']; body: string; res: ServerResponse }

describe('the http rule action', () => {
  const data = tempDataDir();
  const hits: Hit[] = [];
  let hook: Server;
  let server: RunningServer;
  let client: mqtt.MqttClient;

  beforeAll(async () => {
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const hit = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), res };
        hits.push(hit);
        if (!hit.url.startsWith('/silent')) res.writeHead(hit.url.startsWith('/broken') ? 500 : 200).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
    const rule = (ruleName: string, sql: string, url: string, extra: object = {}) => ({
      ruleName,
      topicRulePayload: { sql, awsIotSqlVersion: '2016-03-23', actions: [{ http: { url, headers: [{ key: 'x-device', value: '${deviceId}' }] } }], ...extra },
    });
    server = await startTestServer(data.dir, {
      config: {
        rules: [
          rule('to_webhook', "SELECT deviceId, temperature FROM 'hooks/+/ok'", `${base}/hook/\${topic(2)}`),
          rule('to_broken_webhook', "SELECT * FROM 'hooks/+/broken'", `${base}/broken`, {
            errorAction: { republish: { topic: 'rule/errors/${topic(2)}', qos: 1 } },
          }),
          rule('to_silent_webhook', "SELECT * FROM 'hooks/+/silent'", `${base}/silent`),
        ],
      },
    });
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'hook-device', protocolVersion: 4 });
  });

  afterAll(async () => {
    await client?.endAsync();
    for (const hit of hits) if (!hit.res.writableEnded) hit.res.writeHead(200).end();
    await server?.stop();
    hook.closeAllConnections();
    await new Promise<void>((r) => hook.close(() => r()));
    data.remove();
  });

  it('POSTs the rule output to the templated URL with templated headers', async () => {
    await client.publishAsync('hooks/d1/ok', JSON.stringify({ deviceId: 'd1', temperature: 21.5, extra: true }), { qos: 1 });
    const hit = await eventually(async () => hits.find((h) => h.url === '/hook/d1'), 5000, 'the webhook POST');
    expect(JSON.parse(hit.body)).toEqual({ deviceId: 'd1', temperature: 21.5 });
    expect(hit.headers['content-type']).toBe('application/json');
    expect(hit.headers['x-device']).toBe('d1');
  });

  it('sends the documented failure message to the errorAction when the webhook keeps failing', async () => {
    const errors: { topic: string; body: Record<string, unknown> }[] = [];
    const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'error-watcher', protocolVersion: 4 });
    watcher.on('message', (topic, payload) => errors.push({ topic, body: JSON.parse(payload.toString()) }));
    await watcher.subscribeAsync('rule/errors/#', { qos: 1 });
    const original = JSON.stringify({ deviceId: 'd2', temperature: 99 });
    await client.publishAsync('hooks/d2/broken', original, { qos: 1 });
    const report = await eventually(async () => errors[0], 8000, 'the error action message');
    await watcher.endAsync();
    expect(report.topic).toBe('rule/errors/d2');
    expect(report.body).toMatchObject({ ruleName: 'to_broken_webhook', topic: 'hooks/d2/broken', clientId: 'hook-device' });
    expect(Buffer.from(String(report.body.base64OriginalPayload), 'base64').toString()).toBe(original);
    expect(report.body.failures).toEqual([expect.objectContaining({ failedAction: 'HttpAction', errorMessage: expect.stringContaining('HTTP 500') })]);
    expect(hits.filter((h) => h.url === '/broken')).toHaveLength(3); // the first attempt and two retries
  });

  it('acknowledges the device while the webhook has not answered yet', async () => {
    const failedBefore = await metricValue(server.httpPort, 'iotcore_http_action_total', { counter: 'failed' });
    await client.publishAsync('hooks/d3/silent', JSON.stringify({ deviceId: 'd3' }), { qos: 1 });
    // Had the PUBACK waited for the webhook, the delivery would have ended (timed out) by now.
    expect(await metricValue(server.httpPort, 'iotcore_http_action_total', { counter: 'inFlight' })).toBe(1);
    expect(await metricValue(server.httpPort, 'iotcore_http_action_total', { counter: 'failed' })).toBe(failedBefore);
    const hit = await eventually(async () => hits.find((h) => h.url === '/silent'), 5000, 'the silent webhook request');
    expect(hit.res.writableEnded).toBe(false);
  });
});
