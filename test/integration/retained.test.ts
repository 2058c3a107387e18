// Retained messages end to end: the data-plane Publish with retain (the real
// @aws-sdk/client-iot-data-plane), delivery to later MQTT subscribers with the retain flag,
// deletion by an empty payload, and retained messages surviving a restart on the same data
// directory. (Device retained publishes with Get/ListRetainedMessages paging: lifecycle.test.ts.)
import { GetRetainedMessageCommand, GetThingShadowCommand, IoTDataPlaneClient, ListRetainedMessagesCommand, PublishCommand, ResourceNotFoundException } from '@aws-sdk/client-iot-data-plane';
import mqtt, { type IPublishPacket } from 'mqtt';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningServer } from '../../broker/index.js';
import { awsClientConfig, caught } from '../helpers/aws.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';
import { connect, next } from '../helpers/mqtt.js';

const ROLE = 'arn:aws:iam::000000000000:role/republish';
const CONFIG = {
  channels: [], datastores: [], pipelines: [], datasets: [],
  rules: [{ ruleName: 'status', topicRulePayload: { sql: "SELECT *, topic() AS t FROM 'status/#'", actions: [{ republish: { roleArn: ROLE, topic: 'seen/status', qos: 1 } }] } }],
};

/** The first message a fresh subscription to `topic` receives, with its packet (retain flag);
 * undefined when none came before a publish round trip made after the SUBACK. */
async function firstOnSubscribe(server: RunningServer, topic: string): Promise<{ payload: string; packet: IPublishPacket } | undefined> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: `late-${Math.random().toString(16).slice(2)}`, protocolVersion: 4, reconnectPeriod: 0 });
  try {
    const got: { payload: string; packet: IPublishPacket }[] = [];
    client.on('message', (_topic, payload, packet) => got.push({ payload: payload.toString(), packet }));
    await client.subscribeAsync(topic, { qos: 1 });
    // a retained message is sent as soon as the subscription is made, before the SUBACK's next round trip ends
    await client.publishAsync('probe/ping', '', { qos: 1 });
    return got[0] ?? (await eventually(async () => got[0], 500, `a retained message on ${topic}`).catch(() => undefined));
  } finally {
    await client.endAsync();
  }
}

describe('retained messages through the data-plane Publish', () => {
  let server: RunningServer;
  let data: ReturnType<typeof tempDataDir>;
  let dataPlane: IoTDataPlaneClient;

  beforeAll(async () => {
    data = tempDataDir();
    server = await startTestServer(data.dir, { config: CONFIG });
    dataPlane = new IoTDataPlaneClient(awsClientConfig(server));
  });
  afterAll(async () => {
    dataPlane?.destroy();
    await server?.stop();
    data?.remove();
  });

  it('stores a retained Publish that GetRetainedMessage and ListRetainedMessages show with its QoS and time', async () => {
    const before = Date.now();
    await dataPlane.send(new PublishCommand({ topic: 'status/lamp-1', qos: 1, retain: true, payload: Buffer.from('{"on":true}') }));
    const got = await dataPlane.send(new GetRetainedMessageCommand({ topic: 'status/lamp-1' }));
    expect(got.topic).toBe('status/lamp-1');
    expect(Buffer.from(got.payload!).toString()).toBe('{"on":true}');
    expect(got.qos).toBe(1);
    expect(got.lastModifiedTime).toBeGreaterThanOrEqual(before);
    const listed = await dataPlane.send(new ListRetainedMessagesCommand({}));
    expect(listed.retainedTopics).toContainEqual({ topic: 'status/lamp-1', payloadSize: 11, qos: 1, lastModifiedTime: got.lastModifiedTime });
  });

  it('runs a retained Publish through the rules like any publish', async () => {
    const watcher = await connect(server, 'rule-watcher', ['seen/status']);
    await dataPlane.send(new PublishCommand({ topic: 'status/lamp-2', qos: 0, retain: true, payload: Buffer.from('{"on":false}') }));
    expect(await next(watcher, 'seen/status')).toEqual({ on: false, t: 'status/lamp-2' });
    await watcher.client.endAsync();
  });

  it('delivers the retained message to a later MQTT subscriber with the retain flag', async () => {
    await dataPlane.send(new PublishCommand({ topic: 'status/lamp-3', qos: 1, retain: true, payload: Buffer.from('{"level":7}') }));
    const first = await firstOnSubscribe(server, 'status/lamp-3');
    expect(first?.payload).toBe('{"level":7}');
    expect(first?.packet.retain).toBe(true);
  });

  it('does not retain a Publish without retain', async () => {
    await dataPlane.send(new PublishCommand({ topic: 'status/plain', qos: 1, payload: Buffer.from('{}') }));
    const err = await caught(dataPlane.send(new GetRetainedMessageCommand({ topic: 'status/plain' })));
    expect(err).toBeInstanceOf(ResourceNotFoundException);
  });

  it('deletes the retained message on an empty retained Publish', async () => {
    await dataPlane.send(new PublishCommand({ topic: 'status/lamp-4', qos: 1, retain: true, payload: Buffer.from('x') }));
    await dataPlane.send(new PublishCommand({ topic: 'status/lamp-4', qos: 1, retain: true, payload: new Uint8Array(0) }));
    const err = await caught(dataPlane.send(new GetRetainedMessageCommand({ topic: 'status/lamp-4' })));
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err.$metadata?.httpStatusCode).toBe(404);
    expect(await firstOnSubscribe(server, 'status/lamp-4')).toBeUndefined();
  });

  it('refuses a retained Publish on a reserved topic without applying it', async () => {
    const err = await caught(dataPlane.send(new PublishCommand({ topic: '$aws/things/lamp/shadow/update', retain: true, payload: Buffer.from('{"state":{"reported":{"on":1}}}') })));
    expect(err.name).toBe('ReservedTopic');
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(await caught(dataPlane.send(new GetThingShadowCommand({ thingName: 'lamp' })))).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('retained messages across a restart', () => {
  it('keeps a device\'s and a data-plane retained message with their times and deletes on the same data directory', async () => {
    const data = tempDataDir();
    try {
      let server = await startTestServer(data.dir);
      let dataPlane = new IoTDataPlaneClient(awsClientConfig(server));
      const dev = await connect(server, 'restart-device');
      await dev.client.publishAsync('home/device', 'from the device', { qos: 1, retain: true });
      await dev.client.publishAsync('home/removed', 'soon gone', { qos: 0, retain: true });
      await dev.client.publishAsync('home/removed', '', { qos: 1, retain: true });
      await dev.client.endAsync();
      await dataPlane.send(new PublishCommand({ topic: 'home/api', qos: 0, retain: true, payload: Buffer.from('from the API') }));
      const device = await eventually(async () => dataPlane.send(new GetRetainedMessageCommand({ topic: 'home/device' })), 3000, 'the device\'s retained message');
      const api = await dataPlane.send(new GetRetainedMessageCommand({ topic: 'home/api' }));
      // one journal line per retained publish, a device's written once though journaled before its PUBACK
      expect(readFileSync(join(data.dir, 'retained.jsonl'), 'utf8').split('\n').filter((l) => l !== '')).toHaveLength(4);
      dataPlane.destroy();
      await server.stop();

      server = await startTestServer(data.dir);
      dataPlane = new IoTDataPlaneClient(awsClientConfig(server));
      try {
        const listed = await dataPlane.send(new ListRetainedMessagesCommand({}));
        expect(listed.retainedTopics).toEqual([
          { topic: 'home/api', payloadSize: 12, qos: 0, lastModifiedTime: api.lastModifiedTime },
          { topic: 'home/device', payloadSize: 15, qos: 1, lastModifiedTime: device.lastModifiedTime },
        ]);
        const again = await dataPlane.send(new GetRetainedMessageCommand({ topic: 'home/device' }));
        expect(Buffer.from(again.payload!).toString()).toBe('from the device');
        const first = await firstOnSubscribe(server, 'home/api');
        expect(first?.payload).toBe('from the API');
        expect(first?.packet.retain).toBe(true);
        expect(await firstOnSubscribe(server, 'home/removed')).toBeUndefined();
      } finally {
        dataPlane.destroy();
        await server.stop();
      }
    } finally {
      data.remove();
    }
  });
});

describe('a damaged retained message journal', () => {
  it('refuses start-up with RetainedFileInvalid naming the file and the line', async () => {
    const data = tempDataDir();
    try {
      const path = join(data.dir, 'retained.jsonl');
      writeFileSync(path, 'garbage\n{"topic":"a","payload":"YQ==","qos":0,"lastModifiedTime":1}\n');
      await expect(startTestServer(data.dir)).rejects.toMatchObject({ code: 'RetainedFileInvalid', message: expect.stringContaining(`${path}: line 1`) });
    } finally {
      data.remove();
    }
  });
});
