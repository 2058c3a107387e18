// Simulator profiles against the real server, over MQTT and the AWS IoT data plane only: a plug
// fleet reports its relay state into its shadows, obeys a desired state set with
// UpdateThingShadow (reported follows, telemetry drops to ~0 W), and a plug restarted while its
// desired state is off switches off right after connecting. Other profiles keep deviceId, ts and
// seq in every payload, and --payload-bytes pads payloads to the exact size on the wire.
import { join } from 'node:path';
import { GetThingShadowCommand, IoTDataPlaneClient, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import type { RunningServer } from '../../broker/index.js';
import { startFleet, type FleetOptionsInput, type FleetRun } from '../../devices-sim/index.js';
import { awsClientConfig } from '../helpers/aws.js';
import { connect, type Inbox } from '../helpers/mqtt.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';

interface ShadowDocument {
  state: { desired?: Record<string, unknown>; reported?: Record<string, unknown>; delta?: Record<string, unknown> };
  version: number;
}

interface Telemetry {
  deviceId: string;
  ts: number;
  seq: number;
  [attribute: string]: unknown;
}

describe('simulator profiles against the real server', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let iotData: IoTDataPlaneClient;
  let watcher: Inbox;
  /** every telemetry message seen, with its size on the wire */
  const seen: { topic: string; bytes: number; body: Telemetry; at: number }[] = [];
  const running: { run: FleetRun; abort: AbortController }[] = [];

  const fleet = (extra: Partial<FleetOptionsInput>) => {
    const abort = new AbortController();
    const run = startFleet({ url: `mqtt://127.0.0.1:${server.mqttPort}`, devices: 2, rate: 5, durationS: 0, qos: 1, rampUpMs: 0, signal: abort.signal, ...extra });
    running.push({ run, abort });
    return { run, stop: () => (abort.abort(), run.done) };
  };
  const shadowOf = async (thingName: string): Promise<ShadowDocument> => {
    const out = await iotData.send(new GetThingShadowCommand({ thingName }));
    return JSON.parse(Buffer.from(out.payload!).toString('utf8')) as ShadowDocument;
  };
  /** Resolves once the shadow's reported power is `power` (and no delta is left), or fails after 5 s. */
  const reportedPower = (thingName: string, power: 'on' | 'off') =>
    eventually(async () => {
      const shadow = await shadowOf(thingName).catch(() => undefined);
      return shadow?.state.reported?.power === power && shadow.state.delta === undefined ? shadow : undefined;
    }, 5000, `${thingName} to report power ${power}`);
  const telemetryOf = (deviceId: string, after = 0) => seen.filter((m) => m.body.deviceId === deviceId && m.at > after).map((m) => m.body);

  beforeAll(async () => {
    server = await startTestServer(data.dir);
    iotData = new IoTDataPlaneClient(awsClientConfig(server));
    watcher = await connect(server, 'profile-watcher', ['devices/+/telemetry']);
    let arrival = 0;
    watcher.client.on('message', (topic, payload) => {
      seen.push({ topic, bytes: payload.length, body: JSON.parse(payload.toString('utf8')) as Telemetry, at: ++arrival });
    });
  });

  afterAll(async () => {
    for (const { run, abort } of running) {
      abort.abort();
      await run.done.catch(() => undefined);
    }
    await watcher?.client.endAsync(true);
    iotData?.destroy();
    await server?.stop();
    data.remove();
  });

  it('a plug reports its power state into its shadow, obeys desired power=off and then meters ~0 W', async () => {
    const plugs = fleet({ profile: 'plug', prefix: 'plug' });
    // both plugs start on and say so in their shadows
    await reportedPower('plug-1', 'on');
    await reportedPower('plug-2', 'on');
    await eventually(async () => (telemetryOf('plug-1').length >= 3 ? true : undefined), 5000, 'telemetry of plug-1');
    for (const body of telemetryOf('plug-1')) expect(body).toMatchObject({ state: 'on', power: expect.any(Number), voltage: expect.any(Number), current: expect.any(Number), energy: expect.any(Number) });
    expect(Math.min(...telemetryOf('plug-1').map((b) => b.power as number))).toBeGreaterThan(10);

    const out = await iotData.send(new UpdateThingShadowCommand({ thingName: 'plug-1', payload: Buffer.from(JSON.stringify({ state: { desired: { power: 'off' } } })) }));
    expect(JSON.parse(Buffer.from(out.payload!).toString('utf8'))).toMatchObject({ state: { desired: { power: 'off' } } });
    const switchedOff = await reportedPower('plug-1', 'off');
    expect(switchedOff.state).toMatchObject({ desired: { power: 'off' }, reported: { power: 'off' } });
    const mark = seen.at(-1)?.at ?? 0;

    // telemetry published after the switch reads the open relay; the other plug is untouched
    const later = await eventually(async () => {
      const bodies = telemetryOf('plug-1', mark).filter((b) => b.state === 'off');
      return bodies.length >= 3 ? bodies : undefined;
    }, 5000, 'telemetry of plug-1 switched off');
    for (const body of later) {
      expect(body.power as number).toBeLessThan(0.5);
      expect(body.current).toBe(0);
      expect(body.voltage as number).toBeGreaterThan(200);
    }
    // once off, it stays off: no telemetry after the first "off" one says "on" again
    const afterOff = telemetryOf('plug-1', mark);
    const firstOff = afterOff.findIndex((b) => b.state === 'off');
    expect(afterOff.slice(firstOff).every((b) => b.state === 'off')).toBe(true);
    expect(telemetryOf('plug-2', mark).every((b) => b.state === 'on' && (b.power as number) > 10)).toBe(true);
    expect((await shadowOf('plug-2')).state).toEqual({ reported: { power: 'on' } });

    const summary = await plugs.stop();
    expect(summary.errors).toBe(0);
    expect(summary.acknowledged).toBe(summary.sent);
    expect(summary.shadow).toEqual({ reported: 3, applied: 1, ignored: 0 }); // 2 at connect, 1 after the delta
  }, 30_000);

  it('a plug restarted while its desired power is off switches off right after connecting', async () => {
    // plug-1's shadow still wants "off"; a new run starts on, reports it, gets the delta and obeys
    const mark = seen.at(-1)?.at ?? 0;
    const plugs = fleet({ profile: 'plug', prefix: 'plug', devices: 1 });
    await reportedPower('plug-1', 'off');
    await eventually(async () => (telemetryOf('plug-1', mark).some((b) => b.state === 'off') ? true : undefined), 5000, 'plug-1 telemetry off');
    const summary = await plugs.stop();
    expect(summary.shadow).toEqual({ reported: 2, applied: 1, ignored: 0 });
    const bodies = telemetryOf('plug-1', mark);
    const firstOff = bodies.findIndex((b) => b.state === 'off');
    expect(bodies.slice(firstOff).every((b) => b.state === 'off' && (b.power as number) < 0.5)).toBe(true);
  }, 30_000);

  it('every profile keeps deviceId, ts and seq, and --payload-bytes pads each payload to exactly that size', async () => {
    const mark = seen.at(-1)?.at ?? 0;
    const runs = [
      fleet({ profile: 'vibration', prefix: 'vib', devices: 1, durationS: 1, payloadBytes: 2048 }),
      fleet({ profile: 'gps', prefix: 'gps', devices: 1, durationS: 1, payloadBytes: 300 }),
      fleet({ profile: 'environment', prefix: 'env', devices: 1, durationS: 1 }),
    ];
    const summaries = await Promise.all(runs.map((r) => r.run.done));
    await eventually(async () => (seen.filter((m) => m.at > mark).length >= summaries.reduce((n, s) => n + s.acknowledged, 0) ? true : undefined), 5000, 'every message');
    const of = (prefix: string) => seen.filter((m) => m.at > mark && m.body.deviceId === `${prefix}-1`);

    const vibration = of('vib');
    expect(vibration.length).toBe(summaries[0].acknowledged);
    expect(vibration.map((m) => m.bytes)).toEqual(vibration.map(() => 2048));
    expect(vibration.map((m) => m.body.seq)).toEqual(vibration.map((_, k) => k + 1));
    for (const { body } of vibration) {
      expect(body).toEqual({ deviceId: 'vib-1', ts: expect.any(Number), seq: expect.any(Number), rmsVelocity: expect.any(Number), peakAcceleration: expect.any(Number), spindleRpm: expect.any(Number), bearingTemperature: expect.any(Number), pad: expect.any(String) });
    }
    expect(of('gps').map((m) => m.bytes)).toEqual(of('gps').map(() => 300));
    expect(of('gps')[0].body).toMatchObject({ deviceId: 'gps-1', seq: 1, lat: expect.any(Number), lon: expect.any(Number), speed: expect.any(Number), heading: expect.any(Number), battery: expect.any(Number) });
    // the default: today's environment payload, unpadded
    expect(Object.keys(of('env')[0].body)).toEqual(['deviceId', 'ts', 'seq', 'temperature', 'humidity', 'battery']);
    for (const m of [...vibration, ...of('gps'), ...of('env')]) expect(m.body.ts).toBeGreaterThan(Date.UTC(2025, 0, 1));
  }, 30_000);

  it('with jitter spreads a device\'s publishes irregularly around its rate, and keeps the rate', async () => {
    const mark = seen.at(-1)?.at ?? 0;
    const { run } = fleet({ prefix: 'jit', devices: 1, rate: 10, durationS: 4, jitter: 1 });
    const summary = await run.done;
    await eventually(async () => (seen.filter((m) => m.at > mark && m.body.deviceId === 'jit-1').length >= summary.acknowledged ? true : undefined), 5000, 'every message');
    const sent = seen.filter((m) => m.at > mark && m.body.deviceId === 'jit-1').map((m) => m.body.ts);
    expect(sent.length).toBe(summary.sent);
    // 10 msg/s for 4 s, the mean kept (a stalled scheduler tick skips, it does not shift the schedule)
    expect(summary.sent + summary.skipped).toBeGreaterThanOrEqual(37);
    expect(summary.sent + summary.skipped).toBeLessThanOrEqual(41);
    const gaps = sent.slice(1).map((t, k) => t - sent[k]);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
    // periodic at 10 msg/s would be 100 ms apart give or take a 10 ms tick; jitter 1 spreads the
    // gaps over 0-200 ms (standard deviation ~41 ms)
    expect(sd).toBeGreaterThan(20);
  }, 30_000);
});

describe('a provisioned plug fleet with security on', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let iotData: IoTDataPlaneClient;

  beforeAll(async () => {
    server = await startTestServer(data.dir, { env: {} }); // anonymous MQTT refused, policies enforced
    iotData = new IoTDataPlaneClient(awsClientConfig(server));
  });

  afterAll(async () => {
    iotData?.destroy();
    await server?.stop();
    data.remove();
  });

  it('gets a fleet policy that lets each plug report to and obey its own shadow over TLS', async () => {
    const abort = new AbortController();
    const run = startFleet({
      url: `mqtts://127.0.0.1:${server.mqttsPort}`,
      devices: 1,
      rate: 2,
      durationS: 0,
      qos: 1,
      prefix: 'secplug',
      rampUpMs: 0,
      profile: 'plug',
      signal: abort.signal,
      provision: { endpoint: `http://127.0.0.1:${server.httpPort}`, credentials: server.adminCredentials, region: 'us-east-1', certsDir: join(data.dir, 'certs'), concurrency: 1 },
    });
    try {
      const reported = (power: string) =>
        eventually(async () => {
          const out = await iotData.send(new GetThingShadowCommand({ thingName: 'secplug-1' })).catch(() => undefined);
          const doc = out && (JSON.parse(Buffer.from(out.payload!).toString('utf8')) as ShadowDocument);
          return doc?.state.reported?.power === power && !doc.state.delta ? doc : undefined;
        }, 10_000, `secplug-1 to report ${power}`);
      await reported('on');
      await iotData.send(new UpdateThingShadowCommand({ thingName: 'secplug-1', payload: Buffer.from(JSON.stringify({ state: { desired: { power: 'off' } } })) }));
      await reported('off');
    } finally {
      abort.abort();
    }
    const summary = await run.done;
    expect(summary.errors).toBe(0);
    expect(summary.acknowledged).toBe(summary.sent);
    expect(summary.shadow).toEqual({ reported: 2, applied: 1, ignored: 0 });
  }, 30_000);
});
