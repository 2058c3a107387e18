// Issue 9: clean=false sessions survive a broker restart. A subscriber's QoS 1 subscription and
// the messages queued for it while it is away (before or after the restart) are delivered, in
// order, when it comes back with clean=false; a clean=true client's subscription is not kept.
import mqtt, { type MqttClient } from 'mqtt';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningServer } from '../../broker/index.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';

const ENV = { IOT_ALLOW_ANONYMOUS: 'true' };
let data: ReturnType<typeof tempDataDir>;
let server: RunningServer | undefined;

const start = async () => (server = await startTestServer(data.dir, { env: ENV }));
async function restart(): Promise<RunningServer> {
  await server!.stop();
  server = undefined;
  return start();
}

/** Connects and records every message from the first packet on (queued ones come right after CONNACK). */
async function session(s: RunningServer, clientId: string, clean: boolean) {
  const client: MqttClient = mqtt.connect(`mqtt://127.0.0.1:${s.mqttPort}`, { clientId, clean, protocolVersion: 4, reconnectPeriod: 0 });
  const received: { topic: string; n: number }[] = [];
  client.on('message', (topic, payload) => received.push({ topic, n: JSON.parse(payload.toString()).n }));
  const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => client.once('connect', resolve).once('error', reject));
  return { client, received, sessionPresent: connack.sessionPresent };
}

async function publishAll(s: RunningServer, topic: string, count: number): Promise<void> {
  const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.mqttPort}`, { clientId: `pub-${topic.replace(/\W/g, '')}`, protocolVersion: 4, reconnectPeriod: 0 });
  for (let n = 0; n < count; n++) await pub.publishAsync(topic, JSON.stringify({ n }), { qos: 1 });
  await pub.endAsync();
}

beforeEach(async () => {
  data = tempDataDir('iotcore-sessions-');
  await start();
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
  data.remove();
});

describe('persistent MQTT sessions across a broker restart', () => {
  it('delivers, in order, QoS 1 messages published after the restart to a clean=false subscriber that comes back without subscribing again', async () => {
    const sub = await session(server!, 'keeper-1', false);
    await sub.client.subscribeAsync('sessions/one', { qos: 1 });
    await sub.client.endAsync();

    const s = await restart();
    await publishAll(s, 'sessions/one', 5);
    const back = await session(s, 'keeper-1', false);
    expect(back.sessionPresent).toBe(true);
    await eventually(async () => (back.received.length >= 5 ? true : undefined), 5000, 'five queued messages');
    expect(back.received).toEqual([0, 1, 2, 3, 4].map((n) => ({ topic: 'sessions/one', n })));
    await back.client.endAsync();
  });

  it('delivers after the restart the QoS 1 messages queued for an absent clean=false subscriber before it', async () => {
    const sub = await session(server!, 'keeper-2', false);
    await sub.client.subscribeAsync('sessions/two', { qos: 1 });
    await sub.client.endAsync();
    await publishAll(server!, 'sessions/two', 3);

    const s = await restart();
    const back = await session(s, 'keeper-2', false);
    await eventually(async () => (back.received.length >= 3 ? true : undefined), 5000, 'three queued messages');
    expect(back.received.map((m) => m.n)).toEqual([0, 1, 2]);
    await back.client.endAsync();

    // acknowledged messages are not delivered a second time after another restart
    const s2 = await restart();
    const third = await session(s2, 'keeper-2', false);
    await publishAll(s2, 'sessions/two', 1);
    await eventually(async () => (third.received.length >= 1 ? true : undefined), 5000, 'the new message');
    expect(third.received.map((m) => m.n)).toEqual([0]);
    await third.client.endAsync();
    await restart(); // compacts the journal to the live state: nothing is left queued for keeper-2
    expect(readFileSync(join(data.dir, 'mqtt-sessions.jsonl'), 'utf8')).not.toContain('"op":"queue"');
    expect(statSync(join(data.dir, 'mqtt-sessions.jsonl')).mode & 0o777).toBe(0o600);
  });

  it('does not keep the subscription of a clean=true client across the restart', async () => {
    const sub = await session(server!, 'forgetful', true);
    await sub.client.subscribeAsync('sessions/three', { qos: 1 });
    await sub.client.endAsync();
    expect(readFileSync(join(data.dir, 'mqtt-sessions.jsonl'), 'utf8')).not.toContain('forgetful');

    const s = await restart();
    const back = await session(s, 'forgetful', false);
    expect(back.sessionPresent).toBe(false);
    await back.client.subscribeAsync('sessions/fence', { qos: 1 });
    await publishAll(s, 'sessions/three', 2);
    await publishAll(s, 'sessions/fence', 1); // arrives after anything the first publishes would have caused
    await eventually(async () => (back.received.some((m) => m.topic === 'sessions/fence') ? true : undefined), 5000, 'the fence message');
    expect(back.received.filter((m) => m.topic === 'sessions/three')).toEqual([]);
    await back.client.endAsync();
  });
});
