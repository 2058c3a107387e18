// The topic rules control plane through the real @aws-sdk/client-iot against the real server,
// with a real MQTT publisher and subscriber, and a restart on the same data directory.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import {
  CreateTopicRuleCommand,
  DeleteTopicRuleCommand,
  DisableTopicRuleCommand,
  EnableTopicRuleCommand,
  GetTopicRuleCommand,
  IoTClient,
  ListTopicRulesCommand,
  ReplaceTopicRuleCommand,
  ResourceAlreadyExistsException,
  SqlParseException,
  type TopicRulePayload,
} from '@aws-sdk/client-iot';
import type { RunningServer } from '../../broker/index.js';
import { awsClientConfig, caught, signedFetch } from '../helpers/aws.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';
import { operatorFetch } from '../helpers/operator.js';

const ROLE = 'arn:aws:iam::000000000000:role/republish';
const ALERT_SQL = "SELECT temperature * 1.8 + 32 AS f, topic(2) AS device FROM 'sensors/+/reading' WHERE temperature > 10";
const alertRule = (sql = ALERT_SQL): TopicRulePayload => ({
  sql,
  awsIotSqlVersion: '2016-03-23',
  description: 'hot readings to alerts',
  actions: [{ republish: { roleArn: ROLE, topic: 'alerts/${topic(2)}', qos: 1 } }],
});
// no configuration resources: only what the API creates exists
const EMPTY_CONFIG = { rules: [], channels: [], datastores: [], pipelines: [], datasets: [] };

function iotClient(server: RunningServer): IoTClient {
  return new IoTClient(awsClientConfig(server));
}

/** Collects what arrives on `alerts/#`. */
async function alertSubscriber(server: RunningServer): Promise<{ client: MqttClient; received: { topic: string; body: unknown }[] }> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'alerts-sub', protocolVersion: 4 });
  const received: { topic: string; body: unknown }[] = [];
  client.on('message', (topic, payload) => received.push({ topic, body: JSON.parse(payload.toString()) }));
  await client.subscribeAsync('alerts/#', { qos: 1 });
  return { client, received };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


describe('the topic rules API with @aws-sdk/client-iot', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let iot: IoTClient;
  let publisher: MqttClient;
  let sub: Awaited<ReturnType<typeof alertSubscriber>>;

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: EMPTY_CONFIG });
    iot = iotClient(server);
    publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'sensor-pub', protocolVersion: 4 });
    sub = await alertSubscriber(server);
  });

  afterAll(async () => {
    await publisher?.endAsync();
    await sub?.client.endAsync();
    iot?.destroy();
    await server?.stop();
    data.remove();
  });

  const publishReading = (device: string, temperature: number) =>
    publisher.publishAsync(`sensors/${device}/reading`, JSON.stringify({ temperature }), { qos: 1 });

  it('creates a rule whose republish output reaches an MQTT subscriber', async () => {
    await iot.send(new CreateTopicRuleCommand({ ruleName: 'hot_alerts', topicRulePayload: alertRule(), tags: 'team=ops&env=test' }));
    await publishReading('dev1', 20);
    await publishReading('dev2', 5); // WHERE is false: nothing
    const got = await eventually(async () => (sub.received.length > 0 ? sub.received : undefined), 5000, 'the republished alert');
    expect(got[0]).toEqual({ topic: 'alerts/dev1', body: { f: 68, device: 'dev1' } });
    await sleep(200);
    expect(sub.received).toHaveLength(1);
    sub.received.length = 0;
  });

  it('returns the rule from GetTopicRule in the AWS shape, with createdAt as a Date', async () => {
    const before = Date.now();
    const out = await iot.send(new GetTopicRuleCommand({ ruleName: 'hot_alerts' }));
    expect(out.ruleArn).toBe('arn:aws:iot:us-east-1:000000000000:rule/hot_alerts');
    expect(out.rule).toMatchObject({
      ruleName: 'hot_alerts',
      sql: ALERT_SQL,
      description: 'hot readings to alerts',
      ruleDisabled: false,
      awsIotSqlVersion: '2016-03-23',
      actions: [{ republish: { roleArn: ROLE, topic: 'alerts/${topic(2)}', qos: 1 } }],
    });
    expect(out.rule!.createdAt).toBeInstanceOf(Date);
    expect(out.rule!.createdAt!.getTime()).toBeLessThanOrEqual(before);
    expect(out.rule!.createdAt!.getTime()).toBeGreaterThan(before - 60_000);
  });

  it('raises SqlParseException with the position for a statement that does not parse', async () => {
    const err = await caught(iot.send(new CreateTopicRuleCommand({ ruleName: 'broken', topicRulePayload: alertRule("SELECT FROM WHERE 'x'") })));
    expect(err).toBeInstanceOf(SqlParseException);
    expect(err.message).toMatch(/position \d+/);
    expect(err.$metadata?.httpStatusCode).toBe(400);
    const missing = await caught(iot.send(new GetTopicRuleCommand({ ruleName: 'broken' })));
    expect(missing.name).toBe('ResourceNotFoundException');
  });

  it('raises ResourceAlreadyExistsException for a second create of the same name and keeps the first rule', async () => {
    const err = await caught(iot.send(new CreateTopicRuleCommand({ ruleName: 'hot_alerts', topicRulePayload: alertRule("SELECT * FROM 'other'") })));
    expect(err).toBeInstanceOf(ResourceAlreadyExistsException);
    expect(err).toMatchObject({ resourceId: 'hot_alerts', resourceArn: 'arn:aws:iot:us-east-1:000000000000:rule/hot_alerts' });
    expect((await iot.send(new GetTopicRuleCommand({ ruleName: 'hot_alerts' }))).rule!.sql).toBe(ALERT_SQL);
  });

  it('raises ResourceNotFoundException for every operation on an unknown rule', async () => {
    const calls = [
      () => iot.send(new GetTopicRuleCommand({ ruleName: 'nope' })),
      () => iot.send(new ReplaceTopicRuleCommand({ ruleName: 'nope', topicRulePayload: alertRule() })),
      () => iot.send(new DeleteTopicRuleCommand({ ruleName: 'nope' })),
      () => iot.send(new EnableTopicRuleCommand({ ruleName: 'nope' })),
      () => iot.send(new DisableTopicRuleCommand({ ruleName: 'nope' })),
    ];
    for (const call of calls) {
      const err = await caught(call());
      expect({ name: err.name, status: err.$metadata?.httpStatusCode }).toEqual({ name: 'ResourceNotFoundException', status: 404 });
    }
  });

  it('raises InvalidRequestException for a bad rule name, missing actions and a bad maxResults', async () => {
    const badName = await caught(iot.send(new CreateTopicRuleCommand({ ruleName: 'has-hyphen', topicRulePayload: alertRule() })));
    expect(badName.name).toBe('InvalidRequestException');
    const noActions = await caught(iot.send(new CreateTopicRuleCommand({ ruleName: 'no_actions', topicRulePayload: { sql: ALERT_SQL } as TopicRulePayload })));
    expect(noActions.name).toBe('InvalidRequestException');
    const badMax = await caught(iot.send(new ListTopicRulesCommand({ maxResults: 0 })));
    expect(badMax.name).toBe('InvalidRequestException');
    const badToken = await caught(iot.send(new ListTopicRulesCommand({ nextToken: 'not-ours' })));
    expect(badToken.name).toBe('InvalidRequestException');
  });

  it('lists rules by name in pages that follow nextToken, and filters by topic and disabled state', async () => {
    for (const n of ['r_e', 'r_a', 'r_d', 'r_b']) {
      await iot.send(new CreateTopicRuleCommand({ ruleName: n, topicRulePayload: { sql: `SELECT * FROM 'other/${n}'`, actions: [] } }));
    }
    const names: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await iot.send(new ListTopicRulesCommand({ maxResults: 2, nextToken }));
      expect(page.rules!.length).toBeLessThanOrEqual(2);
      names.push(...page.rules!.map((r) => r.ruleName!));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken);
    expect(names).toEqual(['hot_alerts', 'r_a', 'r_b', 'r_d', 'r_e']);
    expect(pages).toBe(3);

    const byTopic = await iot.send(new ListTopicRulesCommand({ topic: 'sensors/+/reading' }));
    expect(byTopic.rules).toEqual([
      { ruleArn: 'arn:aws:iot:us-east-1:000000000000:rule/hot_alerts', ruleName: 'hot_alerts', topicPattern: 'sensors/+/reading', createdAt: expect.any(Date), ruleDisabled: false },
    ]);
    const matchingTopic = await iot.send(new ListTopicRulesCommand({ topic: 'other/r_b' }));
    expect(matchingTopic.rules!.map((r) => r.ruleName)).toEqual(['r_b']);

    await iot.send(new DisableTopicRuleCommand({ ruleName: 'r_d' }));
    const disabled = await iot.send(new ListTopicRulesCommand({ ruleDisabled: true }));
    expect(disabled.rules!.map((r) => r.ruleName)).toEqual(['r_d']);
  });

  it('changes the output with ReplaceTopicRule', async () => {
    sub.received.length = 0;
    await iot.send(new ReplaceTopicRuleCommand({
      ruleName: 'hot_alerts',
      topicRulePayload: alertRule("SELECT temperature AS c, topic(2) AS device FROM 'sensors/+/reading' WHERE temperature > 10"),
    }));
    await publishReading('dev3', 30);
    const got = await eventually(async () => sub.received[0], 5000, 'the replaced rule output');
    expect(got).toEqual({ topic: 'alerts/dev3', body: { c: 30, device: 'dev3' } });
    sub.received.length = 0;
  });

  it('stops the output with DisableTopicRule and restores it with EnableTopicRule', async () => {
    await iot.send(new DisableTopicRuleCommand({ ruleName: 'hot_alerts' }));
    expect((await iot.send(new GetTopicRuleCommand({ ruleName: 'hot_alerts' }))).rule!.ruleDisabled).toBe(true);
    await publishReading('dev4', 40);
    await sleep(300);
    expect(sub.received).toEqual([]);

    await iot.send(new EnableTopicRuleCommand({ ruleName: 'hot_alerts' }));
    await publishReading('dev5', 50);
    const got = await eventually(async () => sub.received[0], 5000, 'output after enabling');
    expect(got).toEqual({ topic: 'alerts/dev5', body: { c: 50, device: 'dev5' } });
    sub.received.length = 0;
  });

  it('keeps rules and their disabled state across a restart on the same data directory', async () => {
    const createdBefore = (await iot.send(new GetTopicRuleCommand({ ruleName: 'hot_alerts' }))).rule!.createdAt!.getTime();
    await publisher.endAsync();
    await sub.client.endAsync();
    iot.destroy();
    await server.stop();

    server = await startTestServer(data.dir, { config: EMPTY_CONFIG });
    iot = iotClient(server);
    publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'sensor-pub', protocolVersion: 4 });
    sub = await alertSubscriber(server);

    const list = await iot.send(new ListTopicRulesCommand({}));
    expect(list.rules!.map((r) => [r.ruleName, r.ruleDisabled])).toEqual([
      ['hot_alerts', false], ['r_a', false], ['r_b', false], ['r_d', true], ['r_e', false],
    ]);
    const rule = (await iot.send(new GetTopicRuleCommand({ ruleName: 'hot_alerts' }))).rule!;
    expect(rule.sql).toMatch(/SELECT temperature AS c/);
    expect(rule.createdAt!.getTime()).toBe(createdBefore);

    await publishReading('dev6', 60);
    const got = await eventually(async () => sub.received[0], 5000, 'output after the restart');
    expect(got).toEqual({ topic: 'alerts/dev6', body: { c: 60, device: 'dev6' } });
  });

  it('deletes a rule with DeleteTopicRule, and the deletion survives a restart', async () => {
    await iot.send(new DeleteTopicRuleCommand({ ruleName: 'r_a' }));
    expect((await caught(iot.send(new GetTopicRuleCommand({ ruleName: 'r_a' })))).name).toBe('ResourceNotFoundException');
    iot.destroy();
    await publisher.endAsync();
    await sub.client.endAsync();
    await server.stop();
    server = await startTestServer(data.dir, { config: EMPTY_CONFIG });
    iot = iotClient(server);
    publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'sensor-pub', protocolVersion: 4 });
    sub = await alertSubscriber(server);
    const list = await iot.send(new ListTopicRulesCommand({}));
    expect(list.rules!.map((r) => r.ruleName)).toEqual(['hot_alerts', 'r_b', 'r_d', 'r_e']);
  });
});

describe('the AWS routes over plain HTTP', () => {
  const data = tempDataDir();
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: EMPTY_CONFIG, env: { IOT_REGION: 'eu-west-1', IOT_ACCOUNT_ID: '123456789012' } });
  });
  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('answers errors with the x-amzn-ErrorType header and a message body, and ARNs name the configured region and account', async () => {
    const create = () => signedFetch(server, 'POST', '/rules/dup', JSON.stringify({ sql: "SELECT * FROM 'a'", actions: [] }), { headers: { 'content-type': 'application/json' } });
    expect((await create()).status).toBe(200);
    const res = await create();
    expect(res.status).toBe(409);
    expect(res.headers.get('x-amzn-errortype')).toBe('ResourceAlreadyExistsException');
    expect(await res.json()).toEqual({ message: expect.stringContaining('dup'), resourceId: 'dup', resourceArn: 'arn:aws:iot:eu-west-1:123456789012:rule/dup' });
  });

  it('accepts enable and disable without a body, with or without a content type', async () => {
    const plain = await signedFetch(server, 'POST', '/rules/dup/disable');
    expect(plain.status).toBe(200);
    const json = await signedFetch(server, 'POST', '/rules/dup/enable', undefined, { headers: { 'content-type': 'application/json' } });
    expect(json.status).toBe(200);
  });

  it('accepts a rule of about 256 KB and refuses a larger body with PayloadTooLarge', async () => {
    const description = 'x'.repeat(250 * 1024);
    const ok = await signedFetch(server, 'POST', '/rules/big', JSON.stringify({ sql: "SELECT * FROM 'a'", actions: [], description }));
    expect(ok.status).toBe(200);
    const tooBig = await signedFetch(server, 'POST', '/rules/bigger', JSON.stringify({ sql: "SELECT * FROM 'a'", actions: [], description: 'x'.repeat(300 * 1024) }));
    expect(tooBig.status).toBe(413);
    expect(tooBig.headers.get('x-amzn-errortype')).toBe('PayloadTooLarge');
  });

  it('refuses a body that is not JSON, or of the wrong JSON types, with InvalidRequestException', async () => {
    for (const body of ['{not json', '[1,2]', JSON.stringify({ sql: 5, actions: [] }), JSON.stringify({ sql: "SELECT * FROM 'a'", actions: 'none' })]) {
      const res = await signedFetch(server, 'POST', '/rules/typed', body, { headers: { 'content-type': 'application/json' } });
      expect({ body, status: res.status, type: res.headers.get('x-amzn-errortype') }).toEqual({ body, status: 400, type: 'InvalidRequestException' });
    }
  });
});

describe('POST /api/rules/test', () => {
  const data = tempDataDir();
  let server: RunningServer;
  const test = async (body: unknown) => {
    const res = await operatorFetch(`http://127.0.0.1:${server.httpPort}`, '/api/rules/test', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: EMPTY_CONFIG });
  });
  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('reports the output of a statement that fires', async () => {
    const res = await test({ sql: ALERT_SQL, topic: 'sensors/d9/reading', payload: { temperature: 100 }, awsIotSqlVersion: '2016-03-23' });
    expect(res).toEqual({ status: 200, body: { matched: true, fired: true, output: { f: 212, device: 'd9' } } });
  });

  it('says whether the topic matched when the statement does not fire', async () => {
    expect((await test({ sql: ALERT_SQL, topic: 'sensors/d9/reading', payload: { temperature: 1 } })).body).toEqual({ matched: true, fired: false });
    expect((await test({ sql: ALERT_SQL, topic: 'elsewhere', payload: { temperature: 100 } })).body).toEqual({ matched: false, fired: false });
  });

  it('takes a binary payload as base64 and answers output that is not JSON in base64', async () => {
    const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x01]);
    const res = await test({ sql: "SELECT * FROM 'bin/#'", topic: 'bin/x', payloadBase64: bytes.toString('base64') });
    expect(res).toEqual({ status: 200, body: { matched: true, fired: true, outputBase64: bytes.toString('base64') } });
  });

  it('answers 400 with SqlParseException for invalid SQL and InvalidRequestException for a malformed request', async () => {
    const sql = await test({ sql: "SELECT FROM WHERE 'x'", topic: 'a', payload: {} });
    expect(sql.status).toBe(400);
    expect(sql.body).toEqual({ code: 'SqlParseException', message: expect.stringMatching(/position \d+/) });
    const both = await test({ sql: "SELECT * FROM 'a'", topic: 'a', payload: {}, payloadBase64: 'AA==' });
    expect(both).toEqual({ status: 400, body: { code: 'InvalidRequestException', message: expect.any(String) } });
    const noTopic = await test({ sql: "SELECT * FROM 'a'", payload: {} });
    expect(noTopic.body.code).toBe('InvalidRequestException');
  });
});

describe('rules of the configuration file next to rules of the API', () => {
  const data = tempDataDir();
  let server: RunningServer | undefined;
  const CONFIG = { ...EMPTY_CONFIG, rules: [{ ruleName: 'declared', topicRulePayload: { sql: "SELECT * FROM 'declared/topic'", actions: [] } }] };

  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('re-applies a declared rule at every start, so deleting or changing it through the API lasts until the restart', async () => {
    server = await startTestServer(data.dir, { config: CONFIG });
    let iot = iotClient(server);
    await iot.send(new ReplaceTopicRuleCommand({ ruleName: 'declared', topicRulePayload: { sql: "SELECT * FROM 'changed'", actions: [] } }));
    await iot.send(new CreateTopicRuleCommand({ ruleName: 'api_only', topicRulePayload: { sql: "SELECT * FROM 'api'", actions: [] } }));
    iot.destroy();
    await server.stop();

    server = await startTestServer(data.dir, { config: CONFIG });
    iot = iotClient(server);
    expect((await iot.send(new GetTopicRuleCommand({ ruleName: 'declared' }))).rule!.sql).toBe("SELECT * FROM 'declared/topic'");
    await iot.send(new DeleteTopicRuleCommand({ ruleName: 'declared' }));
    iot.destroy();
    await server.stop();

    server = await startTestServer(data.dir, { config: CONFIG });
    iot = iotClient(server);
    const names = (await iot.send(new ListTopicRulesCommand({}))).rules!.map((r) => r.ruleName);
    expect(names).toEqual(['api_only', 'declared']);
    iot.destroy();
  });

  it('refuses to start when a persisted rule is invalid, naming the file and the rule', async () => {
    await server?.stop();
    server = undefined;
    writeFileSync(join(data.dir, 'rules.json'), JSON.stringify({ version: 1, rules: [{ ruleName: 'bad_one', topicRulePayload: { sql: 'SELECT FROM', actions: [] }, createdAt: 1 }] }));
    await expect(startTestServer(data.dir, { config: EMPTY_CONFIG })).rejects.toMatchObject({ code: 'RulesFileInvalid', message: expect.stringMatching(/rules\.json: rule 'bad_one'/) });
  });
});
