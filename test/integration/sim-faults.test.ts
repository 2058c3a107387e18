// Injected connection faults against the real server. A reconnect storm during a QoS 1 run drops
// every device's socket without DISCONNECT: the broker announces each lost connection and the
// reconnect, mqtt.js resends what was awaiting a PUBACK, and every message the simulator counts
// as acknowledged is a row in the datastore, once. Flapping devices come and go repeatedly and a
// vanished device never returns, each visible in the broker's lifecycle events.
import { DEFAULT_RESOURCES, type RunningServer } from '../../broker/index.js';
import { parseFaultSpec, runFleet } from '../../devices-sim/index.js';
import { connect, type Inbox } from '../helpers/mqtt.js';
import { operatorJson } from '../helpers/operator.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';

const ROWS = {
  datasetName: 'fault_rows',
  actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT deviceId, seq FROM telemetry_store ORDER BY deviceId, seq' } }],
};

interface Presence {
  clientId: string;
  eventType: 'connected' | 'disconnected';
  disconnectReason?: string;
  clientInitiatedDisconnect?: boolean;
}

describe('simulated connection faults against the real server', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let watcher: Inbox;

  /** The stored (deviceId, seq) pairs of devices whose id starts with `prefix`. */
  const storedRows = async (prefix: string) => {
    await server.analytics.flush();
    const res = await operatorJson<{ rows: [string, number | string][] }>(`http://127.0.0.1:${server.httpPort}`, '/api/datasets/fault_rows/run', { method: 'POST' });
    return res.body.rows.filter(([deviceId]) => deviceId.startsWith(`${prefix}-`)).map(([deviceId, seq]) => ({ deviceId, seq: Number(seq) }));
  };
  const presenceOf = (clientId: string, eventType: Presence['eventType'], after = 0): Presence[] =>
    watcher.messages.slice(after).filter((m) => m.topic === `$aws/events/presence/${eventType}/${clientId}`).map((m) => m.body as Presence);

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: { ...DEFAULT_RESOURCES, datasets: [...DEFAULT_RESOURCES.datasets, ROWS] } });
    watcher = await connect(server, 'fault-watcher', ['$aws/events/presence/#']);
  });

  afterAll(async () => {
    await watcher?.client.endAsync(true);
    await server?.stop();
    data.remove();
  });

  it('stores every acknowledged QoS 1 message exactly once through a reconnect storm, and resends what was in flight', async () => {
    const devices = 6;
    const summary = await runFleet({
      url: `mqtt://127.0.0.1:${server.mqttPort}`,
      devices,
      // four publishes per device per 10 ms scheduler tick, so even a tick that fires early (the
      // timers' whole-millisecond clock against performance.now()) owes each device at least one:
      // the storm's tick leaves every device with a publish written and not yet acknowledged
      rate: 400,
      durationS: 2,
      qos: 1,
      prefix: 'storm',
      rampUpMs: 0,
      faults: [parseFaultSpec('reconnect-storm@1')],
    });
    expect(summary.faults).toMatchObject({ specs: ['reconnect-storm@1'], disconnects: devices, reconnects: devices, vanished: 0, lost: 0 });
    // every publish in flight at the drop was resent after the reconnect and acknowledged then
    expect(summary.faults!.inflightAtDisconnect).toBeGreaterThanOrEqual(devices);
    expect(summary.faults!.redelivered).toBe(summary.faults!.inflightAtDisconnect);
    expect(summary.acknowledged).toBe(summary.sent);
    expect(summary.reconnects).toBe(devices);

    // the broker saw each device lose its connection (no DISCONNECT) and come back
    await eventually(async () => (Array.from({ length: devices }, (_, k) => presenceOf(`storm-${k + 1}`, 'connected').length).every((n) => n >= 2) ? true : undefined), 5000, 'the reconnections');
    for (let k = 1; k <= devices; k++) {
      const lost = presenceOf(`storm-${k}`, 'disconnected')[0];
      expect(lost).toMatchObject({ clientInitiatedDisconnect: false, disconnectReason: 'CONNECTION_LOST' });
    }

    // every acknowledged message is a row, once: per device the seqs 1..n without gap or repeat
    const rows = await storedRows('storm');
    expect(rows).toHaveLength(summary.acknowledged);
    const byDevice = new Map<string, number[]>();
    for (const { deviceId, seq } of rows) byDevice.set(deviceId, [...(byDevice.get(deviceId) ?? []), seq]);
    expect(byDevice.size).toBe(devices);
    for (const seqs of byDevice.values()) expect(seqs).toEqual(seqs.map((_, k) => k + 1));
  }, 30_000);

  it('lets flapping devices disconnect and reconnect repeatedly, and a vanished device never return', async () => {
    const start = watcher.messages.length;
    const summary = await runFleet({
      url: `mqtt://127.0.0.1:${server.mqttPort}`,
      devices: 4,
      rate: 5,
      durationS: 5.2,
      qos: 1,
      prefix: 'flap',
      rampUpMs: 0,
      reconnectPeriodMs: 200,
      // flap-1 drops at 0.5, 2.5 and 4.5 s, flap-2 at 1.5 and 3.5 s (5.5 is after the end); flap-4 vanishes at 1 s
      faults: [parseFaultSpec('flapping:2@0.5:2s'), parseFaultSpec('abrupt-disconnect:1@1')],
    });
    // the run's end closes the connections still open: flap-3's is the last of them to be seen
    await eventually(async () => (presenceOf('flap-3', 'disconnected', start).length > 0 ? true : undefined), 5000, 'the end of the run');
    const events = (id: string, type: Presence['eventType']) => presenceOf(id, type, start);

    expect(summary.faults).toMatchObject({ specs: ['flapping:2@0.5:2s', 'abrupt-disconnect:1@1'], disconnects: 6, reconnects: 5, vanished: 1 });
    // each drop is a lost connection (no DISCONNECT) and a new connection; the end closes the last one
    expect(events('flap-1', 'connected')).toHaveLength(4);
    expect(events('flap-1', 'disconnected')).toHaveLength(4);
    expect(events('flap-2', 'connected')).toHaveLength(3);
    expect(events('flap-2', 'disconnected')).toHaveLength(3);
    for (const id of ['flap-1', 'flap-2']) expect(events(id, 'disconnected').every((e) => e.disconnectReason === 'CONNECTION_LOST')).toBe(true);
    // flap-3 is untouched: one connection, closed at the end
    expect(events('flap-3', 'connected')).toHaveLength(1);
    expect(events('flap-3', 'disconnected')).toHaveLength(1);
    // flap-4 vanished at 1 s: one connection, lost, and no reconnect
    expect(events('flap-4', 'connected')).toHaveLength(1);
    expect(events('flap-4', 'disconnected')).toEqual([expect.objectContaining({ clientInitiatedDisconnect: false, disconnectReason: 'CONNECTION_LOST' })]);

    // what was in flight at a drop was redelivered or (the vanished device's) lost; everything
    // acknowledged is stored, and at most the lost ones besides (the broker may have archived a
    // message whose PUBACK never reached the vanished device)
    const f = summary.faults!;
    expect(f.redelivered + f.lost).toBe(f.inflightAtDisconnect);
    const rows = await storedRows('flap');
    expect(rows.length).toBeGreaterThanOrEqual(summary.acknowledged);
    expect(rows.length).toBeLessThanOrEqual(summary.acknowledged + f.lost);
    const count = (id: string) => rows.filter((r) => r.deviceId === id).length;
    expect(count('flap-4')).toBeLessThan(count('flap-3') / 2); // it stopped after ~1 s of 5.2
  }, 30_000);
});
