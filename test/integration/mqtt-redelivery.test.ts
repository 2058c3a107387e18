// A device whose PUBACK got lost resends its QoS 1 PUBLISH with the same packet identifier and
// DUP=1 [MQTT-3.3.1-1] [MQTT-4.4.0-1]: the broker must acknowledge it again and store it once.
// Raw MQTT over TCP (mqtt-packet, the codec under mqtt.js and aedes) so that the test decides
// exactly which packet identifier and DUP flag go on the wire.
import { connect as tcpConnect, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqttPacket, { type Packet } from 'mqtt-packet';
import type { RunningServer } from '../../broker/index.js';
import { startTestServer, tempDataDir } from '../helpers/server.js';

// Two rules feed one channel, so one publish makes two channel messages (two delivery keys).
const CONFIG = {
  rules: [
    { ruleName: 'via_a', topicRulePayload: { sql: "SELECT *, 'a' AS via FROM 'redeliver/+'", awsIotSqlVersion: '2016-03-23', actions: [{ iotAnalytics: { channelName: 'redeliver' } }] } },
    { ruleName: 'via_b', topicRulePayload: { sql: "SELECT *, 'b' AS via FROM 'redeliver/+'", awsIotSqlVersion: '2016-03-23', actions: [{ iotAnalytics: { channelName: 'redeliver' } }] } },
  ],
  channels: [{ channelName: 'redeliver' }],
  datastores: [{ datastoreName: 'redeliver_store' }],
  pipelines: [{
    pipelineName: 'redeliver_pipe',
    pipelineActivities: [
      { channel: { name: 'in', channelName: 'redeliver', next: 'out' } },
      { datastore: { name: 'out', datastoreName: 'redeliver_store' } },
    ],
  }],
};

/** A bare MQTT 3.1.1 connection: send packets, wait for the next packet of a kind. */
class RawClient {
  private readonly received: Packet[] = [];
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p: Packet) => {
      this.received.push(p);
      this.wake?.();
    });
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
  }

  static async connect(port: number, clientId: string): Promise<RawClient> {
    const socket = tcpConnect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const c = new RawClient(socket);
    c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean: true, keepalive: 60 });
    const connack = await c.next('connack');
    expect(connack).toMatchObject({ returnCode: 0 });
    return c;
  }

  send(p: Packet): void {
    this.socket.write(mqttPacket.generate(p));
  }

  publish(messageId: number, topic: string, body: object, dup: boolean): void {
    this.send({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(body)), qos: 1, messageId, dup, retain: false });
  }

  async next(cmd: Packet['cmd']): Promise<Packet> {
    for (;;) {
      const i = this.received.findIndex((p) => p.cmd === cmd);
      if (i >= 0) return this.received.splice(i, 1)[0];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${cmd} within 5 s`)), 5000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** the connection drops: whatever the broker sends from now on never arrives */
  drop(): void {
    this.socket.destroy();
  }
}

async function storedRows(server: RunningServer): Promise<string[]> {
  await server.analytics.flush();
  await server.analytics.putDataset({
    datasetName: 'redeliver_rows',
    actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT m, via FROM redeliver_store ORDER BY m, via' } }],
  });
  const r = await server.analytics.runDataset('redeliver_rows');
  return r.rows.map(([m, via]) => `${String(m)}/${String(via)}`);
}

function channelCounters(server: RunningServer): { messages: number; duplicatesDropped: number } {
  return server.analytics.counters().channels.redeliver!;
}

describe('a QoS 1 PUBLISH resent after its PUBACK was lost', () => {
  let data: { dir: string; remove(): void };
  let configFile: string;
  let server: RunningServer;
  beforeEach(async () => {
    data = tempDataDir('iotcore-redelivery-');
    configFile = join(data.dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(CONFIG));
    server = await startTestServer(data.dir, { config: configFile });
  });
  afterEach(async () => {
    await server.stop();
    data.remove();
  });

  it('is acknowledged again with its packet identifier and stored once, also after a server restart', async () => {
    const first = await RawClient.connect(server.mqttPort, 'dev-r');
    first.publish(7, 'redeliver/dev-r', { m: 'one' }, false);
    expect(await first.next('puback')).toMatchObject({ messageId: 7 }); // archived by now
    first.drop(); // ... but say the PUBACK was lost with the connection

    const again = await RawClient.connect(server.mqttPort, 'dev-r');
    again.publish(7, 'redeliver/dev-r', { m: 'one' }, true);
    expect(await again.next('puback')).toMatchObject({ messageId: 7 });
    again.drop();
    expect(channelCounters(server)).toMatchObject({ messages: 2, duplicatesDropped: 2 });

    // the window is rebuilt from the archive when the server starts again
    await server.stop();
    server = await startTestServer(data.dir, { config: configFile });
    const afterRestart = await RawClient.connect(server.mqttPort, 'dev-r');
    afterRestart.publish(7, 'redeliver/dev-r', { m: 'one' }, true);
    expect(await afterRestart.next('puback')).toMatchObject({ messageId: 7 });
    afterRestart.drop();
    expect(channelCounters(server)).toMatchObject({ messages: 0, duplicatesDropped: 2 });

    expect(await storedRows(server)).toEqual(['one/a', 'one/b']);
  });

  it('is stored again when it is not the same PUBLISH: DUP=0, another payload, topic or client', async () => {
    const c = await RawClient.connect(server.mqttPort, 'dev-r');
    c.publish(7, 'redeliver/dev-r', { m: 'one' }, false);
    await c.next('puback');
    // the packet identifier is free again after its PUBACK: each of these is a new message
    c.publish(7, 'redeliver/dev-r', { m: 'one' }, false); // same content, no DUP flag
    await c.next('puback');
    c.publish(7, 'redeliver/dev-r', { m: 'two' }, true); // DUP, but another payload
    await c.next('puback');
    c.publish(7, 'redeliver/other', { m: 'three' }, true); // DUP, another topic
    await c.next('puback');
    c.drop();
    const other = await RawClient.connect(server.mqttPort, 'dev-other');
    other.publish(7, 'redeliver/dev-r', { m: 'one' }, true); // DUP, another client
    await other.next('puback');
    other.drop();

    expect(channelCounters(server).duplicatesDropped).toBe(0);
    expect(await storedRows(server)).toEqual(['one/a', 'one/a', 'one/a', 'one/b', 'one/b', 'one/b', 'three/a', 'three/b', 'two/a', 'two/b']);
  });
});
