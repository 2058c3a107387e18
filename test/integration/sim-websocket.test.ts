// The simulator over MQTT-over-WebSocket: with --url ws://<host>:<http port>/mqtt the devices
// publish through the broker's /mqtt endpoint (the HTTP port speaks no plain MQTT, so a row can
// only arrive over the WebSocket) and their rows land in the datastore, also when a reconnect
// storm drops every WebSocket and the devices come back over it.
import { DEFAULT_RESOURCES, type RunningServer } from '../../broker/index.js';
import { parseFaultSpec, runFleet } from '../../devices-sim/index.js';
import { operatorJson } from '../helpers/operator.js';
import { startTestServer, tempDataDir } from '../helpers/server.js';

const ROWS = {
  datasetName: 'ws_rows',
  actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT deviceId, seq FROM telemetry_store ORDER BY deviceId, seq' } }],
};

describe('the simulator over WebSocket', () => {
  const data = tempDataDir();
  let server: RunningServer;

  const storedRows = async (prefix: string) => {
    await server.analytics.flush();
    const res = await operatorJson<{ rows: [string, number | string][] }>(`http://127.0.0.1:${server.httpPort}`, '/api/datasets/ws_rows/run', { method: 'POST' });
    return res.body.rows.filter(([deviceId]) => deviceId.startsWith(`${prefix}-`)).map(([deviceId, seq]) => `${deviceId}#${Number(seq)}`);
  };

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: { ...DEFAULT_RESOURCES, datasets: [...DEFAULT_RESOURCES.datasets, ROWS] } });
  });

  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('publishes through ws://host:<http port>/mqtt and every acknowledged message is stored', async () => {
    const summary = await runFleet({ url: `ws://127.0.0.1:${server.httpPort}/mqtt`, devices: 3, rate: 10, durationS: 1.5, qos: 1, prefix: 'ws', rampUpMs: 0 });
    expect(summary).toMatchObject({ connected: 3, errors: 0 });
    expect(summary.sent).toBeGreaterThan(10);
    expect(summary.acknowledged).toBe(summary.sent);
    const rows = await storedRows('ws');
    expect(rows).toHaveLength(summary.acknowledged);
    expect(new Set(rows.map((r) => r.split('#')[0]))).toEqual(new Set(['ws-1', 'ws-2', 'ws-3']));
  }, 30_000);

  it('survives a reconnect storm over WebSocket without losing or doubling an acknowledged message', async () => {
    const summary = await runFleet({
      url: `ws://127.0.0.1:${server.httpPort}/mqtt`,
      devices: 3,
      rate: 20,
      durationS: 2.5,
      qos: 1,
      prefix: 'wss',
      rampUpMs: 0,
      reconnectPeriodMs: 300,
      faults: [parseFaultSpec('reconnect-storm@1')],
    });
    expect(summary.faults).toMatchObject({ disconnects: 3, reconnects: 3, lost: 0 });
    expect(summary.acknowledged).toBe(summary.sent);
    const rows = await storedRows('wss');
    expect(rows).toHaveLength(summary.acknowledged);
    expect(new Set(rows).size).toBe(rows.length);
  }, 30_000);
});
