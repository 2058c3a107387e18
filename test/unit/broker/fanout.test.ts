// The broker's fan-out with a real aedes on a real socket: how many messages it delivers at once,
// what it queues behind them, and that the gauge /metrics reads (iotcore_mqtt_fanout) says so.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { createLogger } from '../../../broker/log.js';
import { createIngest } from '../../../broker/mqtt/ingest.js';
import { startMqtt, type MqttServer } from '../../../broker/mqtt/server.js';
import { FANOUT_CONCURRENCY } from '../../../broker/mqtt/fanout-queue.js';
import { eventually } from '../../helpers/server.js';

describe('the broker fan-out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotcore-fanout-'));
  let broker: MqttServer;
  let subscriber: mqtt.MqttClient;

  beforeAll(async () => {
    const log = createLogger('silent');
    const ingest = createIngest({ handle: () => undefined }, 128 * 1024, log); // no rules
    broker = await startMqtt({ host: '127.0.0.1', dataDir: dir, fsync: false, maxPayloadBytes: 128 * 1024, port: 0, ingest, log });
    subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'fanout-sub', reconnectPeriod: 0 });
    await subscriber.subscribeAsync('fan/#', { qos: 1 });
  });

  afterAll(async () => {
    await subscriber?.endAsync(true);
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`delivers ${FANOUT_CONCURRENCY} messages at once, queues the rest in order, and reports both until it has drained`, async () => {
    const total = 3 * FANOUT_CONCURRENCY;
    const received: number[] = [];
    subscriber.on('message', (_topic, payload) => received.push(Number(payload.toString())));
    expect(broker.fanout()).toEqual({ delivering: 0, queued: 0 });

    // one burst in one tick (QoS 0 reaches the emitter synchronously); each delivery then holds
    // its slot for at least two event-loop turns (aedes defers the write, then its callback)
    const published = Array.from({ length: total }, (_, n) => broker.publish('fan/burst', Buffer.from(String(n)), 0));
    expect(broker.fanout()).toEqual({ delivering: FANOUT_CONCURRENCY, queued: total - FANOUT_CONCURRENCY });

    await Promise.all(published);
    await eventually(async () => (received.length === total ? true : undefined), 10_000, 'every message at the subscriber');
    expect(received).toEqual(Array.from({ length: total }, (_, n) => n));
    expect(broker.fanout()).toEqual({ delivering: 0, queued: 0 });
  });
});
