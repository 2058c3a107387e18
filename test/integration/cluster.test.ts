// Issue 9, scale-out: broker nodes sharing one Redis (README "Cluster mode (Redis)"). Real
// servers (startServer) on a real redis-server spawned for the suite (test/helpers/redis.ts):
// publishes cross nodes, retained messages and clean=false sessions live in Redis, channel writes
// from every node land once in the analytics node's datastore (also across its restart), and a
// node without Redis says so and acknowledges nothing.
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { GetRetainedMessageCommand, IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import type { RunningServer, StartOptions } from '../../broker/index.js';
import { awsClientConfig } from '../helpers/aws.js';
import { OPERATOR_ENV } from '../helpers/operator.js';
import { describeWithRedis, freePort, startRedis, type RedisServer } from '../helpers/redis.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';

/** per test: nodes start and stop, the analytics node polls its streams every second */
const TIMEOUT_MS = 90_000;
const PER_DEVICE = 50;
const STREAM = 'iotcore:channel:{cl}';

// the same configuration file on every node: a rule into channel `cl`, stored as is in `cl_store`
const CONFIG = {
  rules: [{ ruleName: 'to_cl', topicRulePayload: { sql: "SELECT * FROM 'cl/+/data'", actions: [{ iotAnalytics: { channelName: 'cl' } }] } }],
  channels: [{ channelName: 'cl' }],
  datastores: [{ datastoreName: 'cl_store' }],
  pipelines: [{
    pipelineName: 'cl_pipeline',
    pipelineActivities: [{ channel: { name: 'in', channelName: 'cl', next: 'out' } }, { datastore: { name: 'out', datastoreName: 'cl_store' } }],
  }],
  datasets: [
    { datasetName: 'cl_rows', actions: [{ actionName: 'q', queryAction: { sqlQuery: "SELECT count(*) AS total, count(DISTINCT dev || ':' || CAST(n AS VARCHAR)) AS distinct_messages FROM cl_store" } }] },
    // a datastore that never got a row has no payload columns yet
    { datasetName: 'cl_count', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT count(*) AS total FROM cl_store' } }] },
  ],
};

interface Node {
  server: RunningServer;
  dir: ReturnType<typeof tempDataDir>;
}

function clusterEnv(redisUrl: string, nodeId: string, analytics: 'owner' | 'forward'): Record<string, string> {
  return { IOT_ALLOW_ANONYMOUS: 'true', ...OPERATOR_ENV, IOT_CLUSTER_REDIS_URL: redisUrl, IOT_CLUSTER_NODE_ID: nodeId, IOT_CLUSTER_ANALYTICS: analytics };
}

async function startNode(redisUrl: string, nodeId: string, analytics: 'owner' | 'forward', dir = tempDataDir(`iotcore-${nodeId}-`), extra: StartOptions = {}): Promise<Node> {
  const server = await startTestServer(dir.dir, { config: CONFIG, env: clusterEnv(redisUrl, nodeId, analytics), ...extra });
  return { server, dir };
}

function client(server: RunningServer, clientId: string, clean = true): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId, clean, protocolVersion: 4, reconnectPeriod: 0 });
}

async function publishReadings(server: RunningServer, dev: string, from: number, count: number): Promise<void> {
  const c = await client(server, dev);
  for (let n = from; n < from + count; n++) await c.publishAsync(`cl/${dev}/data`, JSON.stringify({ dev, n }), { qos: 1 });
  await c.endAsync();
}

async function rows(server: RunningServer): Promise<{ total: number; distinct: number }> {
  const [total, distinct] = (await server.analytics.runDataset('cl_rows')).rows[0]!;
  return { total: Number(total), distinct: Number(distinct) };
}

/** the value of <metric>{counter="<name>"} on the node's /metrics */
async function counter(server: RunningServer, metric: string, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
  const m = new RegExp(`^${metric}\\{counter="${name}"\\} (\\d+)`, 'm').exec(text);
  if (!m) throw new Error(`no ${metric} counter ${name} on /metrics`);
  return Number(m[1]);
}

const clusterCounter = (server: RunningServer, name: string) => counter(server, 'iotcore_cluster', name);

/** Publishes QoS 1 and waits for the connection to close: whether a PUBACK came first. */
async function acknowledgedBeforeClose(device: MqttClient, topic: string, payload: string): Promise<boolean> {
  let acknowledged = false;
  const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
  device.publish(topic, payload, { qos: 1 }, (err) => {
    if (!err) acknowledged = true;
  });
  await closed;
  return acknowledged;
}

describeWithRedis('cluster mode: two broker nodes sharing one Redis', () => {
  let redis: RedisServer;
  let a: Node; // the analytics node
  let b: Node;
  const others: Node[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    a = await startNode(redis.url, 'node-a', 'owner');
    b = await startNode(redis.url, 'node-b', 'forward');
  }, TIMEOUT_MS);
  afterAll(async () => {
    for (const n of [b, a, ...others]) {
      await n?.server.stop();
      n?.dir.remove();
    }
    await redis?.kill();
  }, TIMEOUT_MS);

  it('delivers a device publish on node A to a subscriber on node B, at QoS 0 and at QoS 1', async () => {
    const sub = await client(b.server, 'fan-sub');
    const got: { topic: string; payload: string; qos: number }[] = [];
    sub.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), qos: packet.qos }));
    await sub.subscribeAsync('fan/#', { qos: 1 });
    const device = await client(a.server, 'fan-device');
    await device.publishAsync('fan/zero', 'q0', { qos: 0 });
    await device.publishAsync('fan/one', 'q1', { qos: 1 });
    await eventually(async () => (got.length >= 2 ? true : undefined), 10_000, 'both messages on node B');
    expect(got.sort((x, y) => x.topic.localeCompare(y.topic))).toEqual([
      { topic: 'fan/one', payload: 'q1', qos: 1 },
      { topic: 'fan/zero', payload: 'q0', qos: 0 },
    ]);
    await Promise.all([sub.endAsync(), device.endAsync()]);
  }, TIMEOUT_MS);

  it('sends a retained message published on node A to a client subscribing on node B, and serves it from node B\'s data plane with node A\'s time', async () => {
    const device = await client(a.server, 'ret-device');
    await device.publishAsync('ret/lamp', 'on', { qos: 1, retain: true });
    await device.endAsync();

    const planeA = new IoTDataPlaneClient(awsClientConfig(a.server));
    const planeB = new IoTDataPlaneClient(awsClientConfig(b.server));
    try {
      const onB = await eventually(async () => planeB.send(new GetRetainedMessageCommand({ topic: 'ret/lamp' })), 10_000, 'the retained message in node B\'s data plane');
      const onA = await planeA.send(new GetRetainedMessageCommand({ topic: 'ret/lamp' }));
      expect(Buffer.from(onB.payload!).toString()).toBe('on');
      expect(onB.lastModifiedTime).toBe(onA.lastModifiedTime);
    } finally {
      planeA.destroy();
      planeB.destroy();
    }

    const late = await client(b.server, 'ret-late');
    const got: { payload: string; packet: IPublishPacket }[] = [];
    late.on('message', (_t, payload, packet) => got.push({ payload: payload.toString(), packet }));
    await late.subscribeAsync('ret/#', { qos: 1 });
    await eventually(async () => got[0], 10_000, 'the retained message on subscribing');
    expect(got[0]!.payload).toBe('on');
    expect(got[0]!.packet.retain).toBe(true);
    await late.endAsync();
  }, TIMEOUT_MS);

  it('keeps a clean=false session in Redis: a QoS 1 message published on node B while the client is away reaches it when it reconnects to node B', async () => {
    const first = await client(a.server, 'keeper', false);
    await first.subscribeAsync('sess/one', { qos: 1 });
    await first.endAsync();

    const device = await client(b.server, 'sess-device');
    await device.publishAsync('sess/one', JSON.stringify({ n: 1 }), { qos: 1 });
    await device.endAsync();
    // the PUBACK precedes the queueing (aedes acknowledges, then fans out): coming back earlier
    // may get it twice, live and from the queue, which QoS 1 allows but this test would not
    await eventually(async () => ((await counter(b.server, 'iotcore_mqtt_sessions_total', 'queued')) >= 1 ? true : undefined), 10_000, 'the message queued in Redis');

    const back = mqtt.connect(`mqtt://127.0.0.1:${b.server.mqttPort}`, { clientId: 'keeper', clean: false, protocolVersion: 4, reconnectPeriod: 0 });
    const received: string[] = [];
    back.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => back.once('connect', resolve).once('error', reject));
    expect(connack.sessionPresent).toBe(true);
    await eventually(async () => (received.length > 0 ? true : undefined), 10_000, 'the queued message');
    expect(received).toEqual(['sess/one {"n":1}']);
    await back.endAsync();
  }, TIMEOUT_MS);

  it('stores the QoS 1 messages of devices on both nodes exactly once, in the analytics node\'s datastore only', async () => {
    await Promise.all([publishReadings(a.server, 'dev-a', 0, PER_DEVICE), publishReadings(b.server, 'dev-b', 0, PER_DEVICE)]);
    await eventually(async () => ((await rows(a.server)).total >= 2 * PER_DEVICE ? true : undefined), 30_000, `${2 * PER_DEVICE} rows on node A`);
    // stored entries are acknowledged and deleted: the stream is the backlog
    await eventually(async () => (redis.cli('XLEN', STREAM) === '0' ? true : undefined), 10_000, 'an empty stream');
    expect(await rows(a.server)).toEqual({ total: 2 * PER_DEVICE, distinct: 2 * PER_DEVICE });
    expect((await b.server.analytics.runDataset('cl_count')).rows).toEqual([[0]]);
    expect(await clusterCounter(b.server, 'forwarded')).toBe(PER_DEVICE);
  }, TIMEOUT_MS);

  it('does not store a message twice when the analytics node restarts with entries it stored but never acknowledged', async () => {
    await a.server.stop();
    // while node A is down, node B keeps acknowledging: its writes wait in the stream
    await publishReadings(b.server, 'dev-b', PER_DEVICE, PER_DEVICE);
    expect(redis.cli('XLEN', STREAM)).toBe(String(PER_DEVICE));

    // node A comes back as a Redis user that may not XACK: it stores the entries, which stay
    // pending, as if it had crashed between storing and acknowledging (and it keeps re-reading them)
    expect(redis.cli('ACL', 'SETUSER', 'noack', 'on', '>noack-secret', '~*', '&*', '+@all', '-xack', '-xdel')).toBe('OK');
    const noAck = await startNode(`redis://noack:noack-secret@127.0.0.1:${redis.port}`, 'node-a', 'owner', a.dir);
    await eventually(async () => ((await rows(noAck.server)).total >= 3 * PER_DEVICE ? true : undefined), 30_000, `${3 * PER_DEVICE} rows`);
    await eventually(async () => ((await clusterCounter(noAck.server, 'consumeFailed')) >= 2 ? true : undefined), 10_000, 'a second failed acknowledgement (one re-read)');
    expect(redis.cli('XPENDING', STREAM, 'iotcore-analytics').split('\n')[0]).toBe(String(PER_DEVICE));
    await noAck.server.stop();

    a = await startNode(redis.url, 'node-a', 'owner', a.dir);
    await eventually(async () => (redis.cli('XLEN', STREAM) === '0' ? true : undefined), 20_000, 'the pending entries acknowledged');
    expect(await clusterCounter(a.server, 'reread')).toBe(PER_DEVICE);
    expect(await rows(a.server)).toEqual({ total: 3 * PER_DEVICE, distinct: 3 * PER_DEVICE });
  }, TIMEOUT_MS);

  it('refuses a second analytics node with ClusterAnalyticsOwned', async () => {
    const dir = tempDataDir('iotcore-node-c-');
    await expect(startTestServer(dir.dir, { config: CONFIG, env: clusterEnv(redis.url, 'node-c', 'owner') })).rejects.toMatchObject({ code: 'ClusterAnalyticsOwned' });
    dir.remove();
  }, TIMEOUT_MS);
});

describeWithRedis('cluster mode when Redis cannot be reached', () => {
  it('refuses to start with ClusterUnavailable, naming the Redis URL without its password', async () => {
    const port = await freePort();
    const dir = tempDataDir('iotcore-no-redis-');
    try {
      const start = startTestServer(dir.dir, { config: CONFIG, env: clusterEnv(`redis://someone:hunter2@127.0.0.1:${port}`, 'lonely', 'owner') });
      const err = await start.then(() => undefined, (e: Error & { code?: string }) => e);
      expect(err?.code).toBe('ClusterUnavailable');
      expect(err?.message).toContain(`redis://someone:***@127.0.0.1:${port}`);
      expect(err?.message).not.toContain('hunter2');
    } finally {
      dir.remove();
    }
  }, TIMEOUT_MS);

  it('logs the loss of Redis at run time and then refuses device publishes without PUBACK', async () => {
    const redis = await startRedis();
    const lines: { level: string; code?: string; msg?: string }[] = [];
    const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, ...(obj as { code?: string }), ...(msg === undefined ? {} : { msg }) });
    const logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
    const node = await startNode(redis.url, 'node-x', 'owner', undefined, { logger });
    try {
      const device = await client(node.server, 'outage-device');
      await device.publishAsync('cl/outage/data', JSON.stringify({ dev: 'outage', n: 0 }), { qos: 1 });

      await redis.kill();
      const lost = await eventually(async () => lines.find((l) => l.level === 'error' && l.code === 'ClusterUnavailable'), 10_000, 'the outage in the log');
      expect(lost.msg).toMatch(/lost the connection to Redis/);

      expect(await acknowledgedBeforeClose(device, 'cl/outage/data', JSON.stringify({ dev: 'outage', n: 1 }))).toBe(false);
      expect(await clusterCounter(node.server, 'refusedUnavailable')).toBeGreaterThanOrEqual(1);
      device.end(true);
    } finally {
      await node.server.stop();
      node.dir.remove();
      await redis.kill();
    }
  }, TIMEOUT_MS);
});

describeWithRedis('cluster mode when the analytics node falls behind', () => {
  it('refuses, without PUBACK and counted, a publish whose channel stream already holds maxBacklog unstored writes', async () => {
    const redis = await startRedis();
    // a forwarding node alone: nobody stores the stream, so it only grows
    const node = await startNode(redis.url, 'node-f', 'forward', undefined, { env: { ...clusterEnv(redis.url, 'node-f', 'forward'), IOT_CLUSTER_MAX_BACKLOG: '3' } });
    try {
      const device = await client(node.server, 'backlog-device');
      for (let n = 0; n < 3; n++) await device.publishAsync('cl/backlog/data', JSON.stringify({ dev: 'backlog', n }), { qos: 1 });
      expect(redis.cli('XLEN', STREAM)).toBe('3');

      expect(await acknowledgedBeforeClose(device, 'cl/backlog/data', JSON.stringify({ dev: 'backlog', n: 3 }))).toBe(false);
      expect(redis.cli('XLEN', STREAM)).toBe('3');
      expect(await clusterCounter(node.server, 'refusedBacklog')).toBe(1);
      device.end(true);
    } finally {
      await node.server.stop();
      node.dir.remove();
      await redis.kill();
    }
  }, TIMEOUT_MS);
});
