// Hostile MQTT on the broker's TCP port: malformed, truncated, oversized and out-of-order packets.
// Each closes only the connection that sent it (or is refused with the CONNACK code MQTT 3.1.1
// prescribes), the process keeps serving, and a well-behaved device that publishes QoS 1
// telemetry the whole time gets every PUBACK and has every acknowledged message stored.
import mqtt from 'mqtt';
import type { RunningServer } from '../../broker/index.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';
import { metricValue } from '../helpers/metrics.js';
import {
  connectPacket, encode, frame, mqttString, publishPacket, rawConnect, rawConnectPacket, rawPublishPacket, rawSession, subscribePacket, u16,
  varInt, xorshift, PINGREQ, type RawConnection,
} from '../helpers/mqtt-raw.js';

const CONFIG = {
  rules: [{ ruleName: 'healthy_rows', topicRulePayload: { sql: "SELECT * FROM 'healthy/+/telemetry'", awsIotSqlVersion: '2016-03-23', actions: [{ iotAnalytics: { channelName: 'healthy' } }] } }],
  channels: [{ channelName: 'healthy' }],
  datastores: [{ datastoreName: 'healthy_store' }],
  pipelines: [{
    pipelineName: 'healthy_pipe',
    pipelineActivities: [
      { channel: { name: 'in', channelName: 'healthy', next: 'out' } },
      { datastore: { name: 'out', datastoreName: 'healthy_store' } },
    ],
  }],
  datasets: [{ datasetName: 'healthy_count', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT count(*) AS n, count(DISTINCT seq) AS seqs FROM healthy_store' } }] }],
};

const MAX_PAYLOAD = 128 * 1024; // server.maxPayloadBytes by default (README "Bad input")
const CONNECT_TIMEOUT_MS = 10_000; // broker/mqtt/server.ts connectTimeout

/** A device publishing QoS 1 telemetry back to back until stopped; counts PUBACKs. */
function healthyPublisher(client: mqtt.MqttClient): { acked: () => number; stop: () => Promise<Error | undefined> } {
  let acked = 0;
  let stopped = false;
  const done = (async (): Promise<Error | undefined> => {
    for (let seq = 1; !stopped; seq++) {
      try {
        await client.publishAsync('healthy/dev1/telemetry', JSON.stringify({ deviceId: 'dev1', seq, temperature: 20 + (seq % 5) }), { qos: 1 });
      } catch (err) {
        return err as Error;
      }
      acked++;
      await new Promise((r) => setTimeout(r, 5));
    }
    return undefined;
  })();
  return { acked: () => acked, stop: () => ((stopped = true), done) };
}

describe('hostile MQTT input on the TCP port', () => {
  const data = tempDataDir('iotcore-hostile-');
  let server: RunningServer;
  let healthy: mqtt.MqttClient;
  let publisher: ReturnType<typeof healthyPublisher>;
  let healthyClosed = false;
  const raws: RawConnection[] = [];
  const open = async () => {
    const c = await rawConnect(server.mqttPort);
    raws.push(c);
    return c;
  };
  const session = async (clientId: string) => {
    const c = await rawSession(server.mqttPort, clientId);
    raws.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: CONFIG, env: { IOT_ALLOW_ANONYMOUS: 'true' } });
    healthy = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'healthy-dev1', protocolVersion: 4, reconnectPeriod: 0 });
    healthy.on('close', () => (healthyClosed = true));
    publisher = healthyPublisher(healthy);
  });

  afterEach(async () => {
    for (const c of raws.splice(0)) c.destroy();
    // the broker still answers a new connection after each case
    const probe = await rawSession(server.mqttPort, 'probe');
    probe.send(PINGREQ);
    expect(await probe.next('pingresp')).toBeDefined();
    probe.destroy();
  });

  afterAll(async () => {
    healthy?.end(true);
    await server?.stop();
    data.remove();
  });

  it('closes a connection that sends random bytes', async () => {
    const random = xorshift(0xc0ffee);
    const conns = await Promise.all(Array.from({ length: 16 }, open));
    for (const c of conns) c.send(random.bytes(64 + random.below(4096)));
    // some random prefixes parse as the start of a long packet: the connect timeout ends those
    const closed = await Promise.all(conns.map((c) => c.closedWithin(CONNECT_TIMEOUT_MS + 10_000)));
    expect(closed).toEqual(conns.map(() => true));
    for (const c of conns) expect(c.received.some((p) => p.cmd === 'connack' && (p as { returnCode?: number }).returnCode === 0)).toBe(false);
  }, CONNECT_TIMEOUT_MS + 20_000);

  it('closes a connection whose CONNECT stops half-way once the connect timeout passes, without a CONNACK', async () => {
    const c = await open();
    c.send(encode(connectPacket('half-way')).subarray(0, 9));
    expect(await c.closedWithin(CONNECT_TIMEOUT_MS + 10_000)).toBe(true);
    expect(c.received).toEqual([]);
  }, CONNECT_TIMEOUT_MS + 20_000);

  it('closes a connection whose remaining length takes five bytes (at most four are allowed [MQTT-2.2.3])', async () => {
    const c = await open();
    c.send(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]));
    expect(await c.closedWithin(5000)).toBe(true);
    const s = await session('five-byte-length');
    s.send(Buffer.concat([Buffer.from([0x30]), varInt(10, 5), Buffer.alloc(10)]));
    expect(await s.closedWithin(5000)).toBe(true);
  });

  it('closes a connection that announces a PUBLISH larger than the payload limit before reading its bytes, and counts it as oversized', async () => {
    const before = (await metricValue(server.httpPort, 'iotcore_ingest_total', { counter: 'oversized' })) ?? 0;
    // a session (keep-alive 0, so no timer) announcing 200 MB but sending 1 KB: only the size check can close it
    const s = await session('announces-200mb');
    s.send(Buffer.concat([Buffer.from([0x32]), varInt(200 * 1024 * 1024), mqttString('healthy/x/telemetry'), u16(1), Buffer.alloc(1024)]));
    expect(await s.closedWithin(5000)).toBe(true);
    expect(s.received.some((p) => p.cmd === 'puback')).toBe(false);
    expect(await metricValue(server.httpPort, 'iotcore_ingest_total', { counter: 'oversized' })).toBe(before + 1);
    // a CONNECT can never need a megabyte either
    const c = await open();
    c.send(Buffer.concat([Buffer.from([0x10]), varInt(1024 * 1024), mqttString('MQTT')]));
    expect(await c.closedWithin(5000)).toBe(true);
  });

  it('refuses a payload over 128 KB (PayloadTooLarge): the connection is closed without PUBACK', async () => {
    const s = await session('payload-too-large');
    s.send(encode(publishPacket('big/telemetry', Buffer.alloc(MAX_PAYLOAD + 1, 0x61), 1, 7)));
    expect(await s.closedWithin(5000)).toBe(true);
    expect(s.received.some((p) => p.cmd === 'puback')).toBe(false);
  });

  it('closes a connection that publishes on a topic that is not well-formed UTF-8 or holds U+0000 [MQTT-1.5.3-1] [MQTT-1.5.3-2]', async () => {
    const topics = [Buffer.from([0x61, 0xff, 0x62]), Buffer.from([0x61, 0xc3]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf0, 0x9f, 0x98]), Buffer.from('a\u0000b')];
    for (const topic of topics) {
      const s = await session('bad-utf8');
      s.send(rawPublishPacket(topic, '{}', 1, 3));
      expect(await s.closedWithin(5000)).toBe(true);
      expect(s.received.some((p) => p.cmd === 'puback')).toBe(false);
    }
    // a topic that really contains U+FFFD (well-formed) is a topic like any other
    const ok = await session('real-replacement-char');
    ok.send(encode(publishPacket('odd/\uFFFD/topic', '{}', 1, 4)));
    expect(await ok.next('puback')).toMatchObject({ messageId: 4 });
  });

  it('closes a connection whose client id or subscription filter is not well-formed UTF-8', async () => {
    const c = await open();
    c.send(rawConnectPacket({ clientId: Buffer.from([0x64, 0xfe, 0x76]) }));
    expect(await c.closedWithin(5000)).toBe(true);
    expect(c.received.some((p) => p.cmd === 'connack' && (p as { returnCode?: number }).returnCode === 0)).toBe(false);
    const s = await session('bad-filter');
    s.send(frame(0x82, u16(1), mqttString(Buffer.from([0x61, 0x2f, 0xc0, 0xaf])), Buffer.from([0])));
    expect(await s.closedWithin(5000)).toBe(true);
    expect(s.received.some((p) => p.cmd === 'suback')).toBe(false);
  });

  it('closes a connection that publishes on a topic with + or # (wildcards are for filters only [MQTT-3.3.2-2])', async () => {
    for (const topic of ['a/+/b', 'a/#', '#']) {
      const t = await session('wildcard-publisher');
      t.send(rawPublishPacket(topic, '{}', 1, 5));
      expect(await t.closedWithin(5000)).toBe(true);
      expect(t.received.some((p) => p.cmd === 'puback')).toBe(false);
    }
  });

  it('closes a connection that sends PUBLISH or SUBSCRIBE before CONNECT [MQTT-3.1.0-1]', async () => {
    const p = await open();
    p.send(encode(publishPacket('healthy/intruder/telemetry', '{"seq":-1}', 1, 9)));
    expect(await p.closedWithin(5000)).toBe(true);
    expect(p.received).toEqual([]);
    const s = await open();
    s.send(encode(subscribePacket(['healthy/#'])));
    expect(await s.closedWithin(5000)).toBe(true);
    expect(s.received).toEqual([]);
  });

  it('closes a connection that sends a second CONNECT [MQTT-3.1.0-2]', async () => {
    const s = await session('connects-twice');
    s.send(encode(connectPacket('connects-twice')));
    expect(await s.closedWithin(5000)).toBe(true);
  });

  it('closes a connection that sends a PUBLISH with QoS 3 [MQTT-3.3.1-4]', async () => {
    const s = await session('qos-three');
    s.send(rawPublishPacket('qos/three', '{}', 3, 1));
    expect(await s.closedWithin(5000)).toBe(true);
    expect(s.received.some((p) => p.cmd === 'puback')).toBe(false);
  });

  it('closes a connection whose fixed header has reserved flag bits wrong [MQTT-2.2.2-2]', async () => {
    const s = await session('bad-flags');
    s.send(frame(0x80, u16(1), mqttString('a/b'), Buffer.from([0]))); // SUBSCRIBE must carry flags 0010
    expect(await s.closedWithin(5000)).toBe(true);
  });

  it('closes a connection whose CONNECT names another protocol, without CONNACK [MQTT-3.1.2-1]', async () => {
    const c = await open();
    c.send(rawConnectPacket({ name: 'MQTX' }));
    expect(await c.closedWithin(5000)).toBe(true);
    expect(c.received).toEqual([]);
  });

  it('answers a CONNECT of an unknown protocol level with CONNACK 0x01, then closes [MQTT-3.1.2-2]', async () => {
    for (const level of [2, 6, 0x7f]) {
      const c = await open();
      c.send(rawConnectPacket({ level }));
      expect(await c.next('connack')).toMatchObject({ returnCode: 1 });
      expect(await c.closedWithin(5000)).toBe(true);
    }
  });

  it('answers a CONNECT with an empty client id and CleanSession 0 with CONNACK 0x02, then closes [MQTT-3.1.3-8]', async () => {
    const c = await open();
    c.send(rawConnectPacket({ clientId: '', flags: 0x00 }));
    expect(await c.next('connack')).toMatchObject({ returnCode: 2 });
    expect(await c.closedWithin(5000)).toBe(true);
    // with CleanSession 1 the broker assigns an id [MQTT-3.1.3-6]
    const ok = await open();
    ok.send(rawConnectPacket({ clientId: '', flags: 0x02 }));
    expect(await ok.next('connack')).toMatchObject({ returnCode: 0 });
  });

  it('acknowledges a topic of 256 bytes and 7 slashes, closes a connection whose PUBLISH topic is longer or deeper, and refuses such a filter with 0x80', async () => {
    // AWS IoT's limits (server.maxTopicBytes, server.maxTopicSlashes); the Basic Ingest prefix does not count
    const atLimit = `a/b/c/d/e/f/g/${'t'.repeat(256 - 14)}`;
    const s = await session('topic-at-limit');
    s.send(encode(publishPacket(atLimit, '{}', 1, 11)));
    expect(await s.next('puback')).toMatchObject({ messageId: 11 });
    const ingest = await session('basic-ingest-at-limit');
    ingest.send(encode(publishPacket(`$aws/rules/healthy_rows/${atLimit}`, '{}', 1, 12)));
    expect(await ingest.next('puback')).toMatchObject({ messageId: 12 });
    s.send(encode(subscribePacket([atLimit, `${atLimit}x`, 'a/b/c/d/e/f/g/h/#'], 13)));
    expect(await s.next('suback')).toMatchObject({ messageId: 13, granted: [0, 128, 128] });
    expect(await s.closedWithin(300)).toBe(false);
    for (const [clientId, topic] of [['topic-257-bytes', `${atLimit}x`], ['topic-8-slashes', 'a/b/c/d/e/f/g/h/i'], ['topic-65535-bytes', `long/${'t'.repeat(65_535 - 5)}`]]) {
      const c = await session(clientId);
      c.send(encode(publishPacket(topic, '{}', 1, 14)));
      expect(await c.closedWithin(5000)).toBe(true);
      expect(c.received.some((p) => p.cmd === 'puback')).toBe(false);
    }
    // the topic's length field says 65,535 bytes but the packet holds 10
    const t = await session('topic-past-end');
    t.send(frame(0x32, u16(65_535), Buffer.from('short/topic')));
    expect(await t.closedWithin(5000)).toBe(true);
  });

  it('closes a connection that sends SUBSCRIBE or UNSUBSCRIBE without a topic filter [MQTT-3.8.3-3] [MQTT-3.10.3-2]', async () => {
    const s = await session('empty-subscribe');
    s.send(frame(0x82, u16(1)));
    expect(await s.closedWithin(5000)).toBe(true);
    expect(s.received.some((p) => p.cmd === 'suback')).toBe(false);
    const u = await session('empty-unsubscribe');
    u.send(frame(0xa2, u16(2)));
    expect(await u.closedWithin(5000)).toBe(true);
    expect(u.received.some((p) => p.cmd === 'unsuback')).toBe(false);
  });

  it('kept the well-behaved device connected throughout, acknowledged its every publish and stored every acknowledged message', async () => {
    const failure = await publisher.stop();
    expect(failure).toBeUndefined();
    expect(healthyClosed).toBe(false);
    const acked = publisher.acked();
    expect(acked).toBeGreaterThan(0);
    await server.analytics.flush();
    const stored = await eventually(async () => {
      const [n, seqs] = (await server.analytics.runDataset('healthy_count')).rows[0]!.map(Number);
      return n === acked ? { n, seqs } : undefined;
    }, 10_000, `${acked} stored rows`);
    expect(stored).toEqual({ n: acked, seqs: acked });
    expect((await fetch(`http://127.0.0.1:${server.httpPort}/health`)).status).toBe(200);
  });
});
