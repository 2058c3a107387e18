// Lifecycle events, retained messages and DescribeEndpoint end to end: real MQTT clients, a rule
// reading lifecycle topics, and the real @aws-sdk clients.
import { GetRetainedMessageCommand, IoTDataPlaneClient, ListRetainedMessagesCommand, PublishCommand, ResourceNotFoundException } from '@aws-sdk/client-iot-data-plane';
import { DescribeEndpointCommand, IoTClient } from '@aws-sdk/client-iot';
import type { RunningServer } from '../../broker/index.js';
import { awsClientConfig, caught } from '../helpers/aws.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';
import { connect, next, type Inbox } from '../helpers/mqtt.js';

const ROLE = 'arn:aws:iam::000000000000:role/republish';
const CONFIG = {
  channels: [], datastores: [], pipelines: [], datasets: [],
  rules: [
    { ruleName: 'presence', topicRulePayload: { sql: "SELECT clientId, versionNumber, topic(5) AS who FROM '$aws/events/presence/connected/+'", actions: [{ republish: { roleArn: ROLE, topic: 'seen/connected/${topic(5)}', qos: 1 } }] } },
  ],
};

describe('MQTT lifecycle events', () => {
  let server: RunningServer;
  let data: ReturnType<typeof tempDataDir>;
  let watcher: Inbox;

  beforeAll(async () => {
    data = tempDataDir();
    server = await startTestServer(data.dir, { config: CONFIG });
    watcher = await connect(server, 'watcher', ['$aws/events/#', 'seen/#']);
  });
  afterAll(async () => {
    await watcher?.client.endAsync();
    await server?.stop();
    data?.remove();
  });

  it('announces a connect, its subscriptions and a clean disconnect with the documented fields', async () => {
    const start = watcher.messages.length;
    const before = Date.now();
    const dev = await connect(server, 'dev-clean');
    const connected = await next(watcher, '$aws/events/presence/connected/dev-clean', start);
    expect(connected).toMatchObject({ clientId: 'dev-clean', eventType: 'connected', ipAddress: '127.0.0.1', versionNumber: 0, principalIdentifier: expect.any(String) });
    expect(connected.sessionIdentifier).toMatch(/^[0-9a-f]{32}$/);
    expect(connected.timestamp).toBeGreaterThanOrEqual(before);

    await dev.client.subscribeAsync(['a/+', 'b/#'], { qos: 1 });
    const subscribed = await next(watcher, '$aws/events/subscriptions/subscribed/dev-clean', start);
    expect(subscribed).toMatchObject({ eventType: 'subscribed', topics: ['a/+', 'b/#'], sessionIdentifier: connected.sessionIdentifier });

    await dev.client.unsubscribeAsync('a/+');
    const unsubscribed = await next(watcher, '$aws/events/subscriptions/unsubscribed/dev-clean', start);
    expect(unsubscribed).toMatchObject({ eventType: 'unsubscribed', topics: ['a/+'] });

    await dev.client.endAsync();
    const disconnected = await next(watcher, '$aws/events/presence/disconnected/dev-clean', start);
    expect(disconnected).toMatchObject({
      clientId: 'dev-clean', eventType: 'disconnected', clientInitiatedDisconnect: true, disconnectReason: 'CLIENT_INITIATED_DISCONNECT',
      sessionIdentifier: connected.sessionIdentifier, versionNumber: 0,
    });
    expect(disconnected).not.toHaveProperty('ipAddress');
    // the implicit unsubscribe of b/# when the connection ended is no unsubscribed event
    expect(watcher.messages.slice(start).filter((m) => m.topic.includes('unsubscribed/dev-clean'))).toHaveLength(1);
  });

  it('reports a destroyed socket as not client initiated, and counts versions per client id', async () => {
    const start = watcher.messages.length;
    const dev = await connect(server, 'dev-lost');
    const first = await next(watcher, '$aws/events/presence/connected/dev-lost', start);
    (dev.client.stream as unknown as { destroy(): void }).destroy();
    dev.client.end(true);
    const lost = await next(watcher, '$aws/events/presence/disconnected/dev-lost', start);
    expect(lost).toMatchObject({ clientInitiatedDisconnect: false, disconnectReason: 'CONNECTION_LOST', versionNumber: first.versionNumber });

    const mark = watcher.messages.length;
    const again = await connect(server, 'dev-lost');
    const second = await next(watcher, '$aws/events/presence/connected/dev-lost', mark);
    expect(second.versionNumber).toBe(first.versionNumber + 1);
    expect(second.sessionIdentifier).not.toBe(first.sessionIdentifier);
    await again.client.endAsync();
  });

  it('reports the older connection of a reused client id as DUPLICATE_CLIENTID', async () => {
    const start = watcher.messages.length;
    const first = await connect(server, 'dev-dup');
    await next(watcher, '$aws/events/presence/connected/dev-dup', start);
    const second = await connect(server, 'dev-dup');
    const gone = await next(watcher, '$aws/events/presence/disconnected/dev-dup', start);
    expect(gone).toMatchObject({ disconnectReason: 'DUPLICATE_CLIENTID', clientInitiatedDisconnect: false, versionNumber: 0 });
    first.client.end(true);
    await second.client.endAsync();
  });

  it('lets a rule select from the connected events', async () => {
    const start = watcher.messages.length;
    const dev = await connect(server, 'dev-rule');
    const seen = await next(watcher, 'seen/connected/dev-rule', start);
    expect(seen).toEqual({ clientId: 'dev-rule', versionNumber: 0, who: 'dev-rule' });
    await dev.client.endAsync();
  });

  it('disconnects a device that publishes on a lifecycle topic, and subscribers never see it', async () => {
    const start = watcher.messages.length;
    const dev = await connect(server, 'dev-forger');
    await next(watcher, '$aws/events/presence/connected/dev-forger', start);
    const closed = new Promise<void>((resolve) => dev.client.once('close', () => resolve()));
    dev.client.publish('$aws/events/presence/connected/someone', '{"forged":true}', { qos: 1 });
    await closed;
    const gone = await next(watcher, '$aws/events/presence/disconnected/dev-forger', start);
    expect(gone.disconnectReason).toBe('FORBIDDEN_ACCESS');
    expect(watcher.messages.some((m) => m.body?.forged)).toBe(false);
    dev.client.end(true);
  });
});

describe('retained messages on the data plane', () => {
  let server: RunningServer;
  let data: ReturnType<typeof tempDataDir>;
  let dataPlane: IoTDataPlaneClient;

  beforeAll(async () => {
    data = tempDataDir();
    server = await startTestServer(data.dir);
    dataPlane = new IoTDataPlaneClient(awsClientConfig(server));
  });
  afterAll(async () => {
    dataPlane?.destroy();
    await server?.stop();
    data?.remove();
  });

  it('returns and lists what devices retained, and forgets a topic retained with an empty payload', async () => {
    const dev = await connect(server, 'retainer');
    const before = Date.now();
    await dev.client.publishAsync('home/kitchen/temp', '{"t":21}', { qos: 1, retain: true });
    await dev.client.publishAsync('home/hall/temp', 'x', { qos: 0, retain: true });
    await dev.client.publishAsync('home/ignored', 'not retained', { qos: 1 });

    const got = await eventually(async () => (await dataPlane.send(new GetRetainedMessageCommand({ topic: 'home/kitchen/temp' }))), 3000, 'the retained message');
    expect(got.topic).toBe('home/kitchen/temp');
    expect(Buffer.from(got.payload!).toString()).toBe('{"t":21}');
    expect(got.qos).toBe(1);
    expect(got.lastModifiedTime).toBeGreaterThanOrEqual(before);

    const listed = await dataPlane.send(new ListRetainedMessagesCommand({}));
    expect(listed.retainedTopics?.map((r) => [r.topic, r.payloadSize, r.qos])).toEqual([
      ['home/hall/temp', 1, 0],
      ['home/kitchen/temp', 8, 1],
    ]);

    const page1 = await dataPlane.send(new ListRetainedMessagesCommand({ maxResults: 1 }));
    expect(page1.retainedTopics?.map((r) => r.topic)).toEqual(['home/hall/temp']);
    const page2 = await dataPlane.send(new ListRetainedMessagesCommand({ maxResults: 1, nextToken: page1.nextToken! }));
    expect(page2.retainedTopics?.map((r) => r.topic)).toEqual(['home/kitchen/temp']);
    expect(page2.nextToken).toBeUndefined();

    await dev.client.publishAsync('home/hall/temp', '', { qos: 1, retain: true });
    const err = await caught(dataPlane.send(new GetRetainedMessageCommand({ topic: 'home/hall/temp' })));
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err.$metadata?.httpStatusCode).toBe(404);
    await dev.client.endAsync();
  });

  it('refuses a data-plane Publish on a lifecycle topic', async () => {
    const err = await caught(dataPlane.send(new PublishCommand({ topic: '$aws/events/presence/connected/x', payload: Buffer.from('{}') })));
    expect(err.name).toBe('ReservedTopic');
    expect(err.$metadata?.httpStatusCode).toBe(403);
  });

  it('answers ResourceNotFoundException for a topic that was never retained', async () => {
    const err = await caught(dataPlane.send(new GetRetainedMessageCommand({ topic: 'no/such/topic' })));
    expect(err.name).toBe('ResourceNotFoundException');
  });
});

describe('DescribeEndpoint', () => {
  let server: RunningServer;
  let data: ReturnType<typeof tempDataDir>;

  beforeAll(async () => {
    data = tempDataDir();
    server = await startTestServer(data.dir);
  });
  afterAll(async () => {
    await server?.stop();
    data?.remove();
  });

  it('returns the host and HTTP port clients should use, for each endpoint type', async () => {
    const iot = new IoTClient(awsClientConfig(server));
    for (const endpointType of ['iot:Data-ATS', 'iot:Data', 'iot:CredentialProvider', 'iot:Jobs']) {
      const out = await iot.send(new DescribeEndpointCommand({ endpointType }));
      expect(out.endpointAddress).toBe(`127.0.0.1:${server.httpPort}`);
    }
    const err = await caught(iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Nope' })));
    expect(err.name).toBe('InvalidRequestException');
    iot.destroy();
  });
});
