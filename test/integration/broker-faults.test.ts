// Faults of MQTT subscribers the broker must survive without the healthy ones noticing: one
// subscriber that stops reading its socket, and hundreds of clients with queued QoS 1 messages
// whose connections all vanish at once (aedes 1.x is known to stall, or overflow its stack, on
// both; ARCHITECTURE.md). Real sockets against the real server.
import { connect as tcpConnect, type Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket, { type Packet } from 'mqtt-packet';
import type { RunningServer } from '../../broker/index.js';
import { startTestServer, tempDataDir } from '../helpers/server.js';

const TOPIC = 'faults/busy';

/** A raw MQTT connection that subscribes at QoS 1 and then never reads another byte. */
async function stuckSubscriber(port: number, clientId: string): Promise<Socket> {
  const socket = tcpConnect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => undefined); // the broker may reset it
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const suback = new Promise<void>((resolve) => parser.on('packet', (p: Packet) => p.cmd === 'suback' && resolve()));
  const onData = (chunk: Buffer) => parser.parse(chunk);
  socket.on('data', onData);
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean: true, keepalive: 0 }));
  socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: TOPIC, qos: 1 }] }));
  await suback;
  socket.off('data', onData);
  socket.pause(); // from here on, the kernel buffers fill and the broker's writes back up
  return socket;
}

async function subscriber(port: number, clientId: string, received: number[]): Promise<MqttClient> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId, protocolVersion: 4, reconnectPeriod: 0 });
  client.on('message', (_topic, payload) => received.push(payload.readUInt32BE(0)));
  await client.subscribeAsync(TOPIC, { qos: 1 });
  return client;
}

/** Resolves when `done()` holds, fails after `ms` naming `what`. */
async function within(ms: number, what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('broker faults', () => {
  let server: RunningServer;
  let data: ReturnType<typeof tempDataDir>;

  beforeAll(async () => {
    data = tempDataDir();
    server = await startTestServer(data.dir);
  });

  afterAll(async () => {
    await server.stop();
    data.remove();
  });

  it('keeps delivering to healthy subscribers while one subscriber never reads its socket', async () => {
    // the broker's lifecycle event says when (and why) it lets the stuck subscriber go
    const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'lifecycle-watch', protocolVersion: 4, reconnectPeriod: 0 });
    const gone: { disconnectReason?: string }[] = [];
    watcher.on('message', (_t, payload) => gone.push(JSON.parse(payload.toString()) as { disconnectReason?: string }));
    await watcher.subscribeAsync('$aws/events/presence/disconnected/stuck-sub', { qos: 1 });
    const stuck = await stuckSubscriber(server.mqttPort, 'stuck-sub');
    const healthy = await Promise.all([0, 1, 2, 3].map(async (i) => {
      const received: number[] = [];
      return { received, client: await subscriber(server.mqttPort, `healthy-${i}`, received) };
    }));
    const publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'busy-pub', protocolVersion: 4, reconnectPeriod: 0 });
    // 400 × 64 KB = 25 MB: far more than the stuck socket's kernel buffers and the broker's own
    const count = 400;
    const body = Buffer.alloc(64 * 1024, 1);
    for (let seq = 0; seq < count; seq++) {
      body.writeUInt32BE(seq, 0);
      await publisher.publishAsync(TOPIC, body, { qos: 1 });
      // Each message reaches every healthy subscriber well before aedes' drainTimeout (10 s) could
      // have dropped the stuck one: waiting for that would be the stall this test forbids.
      await within(5000, `message ${seq} at every healthy subscriber`, () => healthy.every((h) => h.received.length > seq));
    }
    for (const h of healthy) expect(h.received).toEqual(Array.from({ length: count }, (_, i) => i));
    // the stuck one was let go rather than buffered without bound
    await within(15_000, 'the stuck subscriber disconnected', () => gone.length > 0);
    expect(gone[0]!.disconnectReason).toBe('THROTTLED');
    stuck.destroy();
    await publisher.endAsync();
    await watcher.endAsync();
    await Promise.all(healthy.map((h) => h.client.endAsync()));
  }, 120_000);

  it('survives 500 subscribers with unacknowledged QoS 1 backlogs vanishing at once while publishing goes on', async () => {
    const port = server.mqttPort;
    // Raw connections that subscribe at QoS 1, read what they get and never PUBACK it: aedes keeps
    // every message in flight for them. Half of them keep their session (clean=false), so the
    // backlog also outlives the connection.
    const clients = 500;
    const sockets: Socket[] = [];
    const ready: Promise<void>[] = [];
    for (let i = 0; i < clients; i++) {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      ready.push(new Promise<void>((resolve) => parser.on('packet', (p: Packet) => p.cmd === 'suback' && resolve())));
      socket.on('data', (chunk: Buffer) => parser.parse(chunk));
      socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: `mass-${i}`, clean: i % 2 === 0, keepalive: 0 }));
      socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'faults/mass/#', qos: 1 }] }));
      sockets.push(socket);
    }
    await Promise.all(ready);
    const publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'mass-pub', protocolVersion: 4, reconnectPeriod: 0 });
    const body = Buffer.alloc(512, 2);
    for (let seq = 0; seq < 100; seq++) await publisher.publishAsync(`faults/mass/${seq % 3}`, body, { qos: 1 });
    // everyone vanishes at once (no DISCONNECT, sockets reset) while publishes keep coming
    const publishing = Promise.all(Array.from({ length: 200 }, (_, seq) => publisher.publishAsync(`faults/mass/${seq % 3}`, body, { qos: 1 })));
    for (const socket of sockets) socket.resetAndDestroy();
    await publishing;

    // the broker still serves: a new subscriber gets what is published now, and HTTP answers
    const received: number[] = [];
    const after = await subscriber(port, 'after-mass', received);
    await after.subscribeAsync('faults/mass/after', { qos: 1 });
    const marker = Buffer.alloc(4);
    marker.writeUInt32BE(7, 0);
    await publisher.publishAsync('faults/mass/after', marker, { qos: 1 });
    await within(5000, 'delivery after the mass disconnect', () => received.includes(7));
    expect((await fetch(`http://127.0.0.1:${server.httpPort}/health`)).status).toBe(200);
    await after.endAsync();
    await publisher.endAsync();
  }, 120_000);
});
