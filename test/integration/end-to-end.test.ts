// The whole data path on real components: mqtt clients → aedes → rules → channel archive →
// pipeline → DuckDB → dataset over HTTP, and a restart on the same data directory.
import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import { DEFAULT_RESOURCES, type RunningServer, type TelemetryPayload } from '../../broker/index.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';
import { operatorJson, signIn } from '../helpers/operator.js';
import { readArchiveFiles } from '../helpers/archive.js';

const CLIENTS = 10;
const PER_CLIENT = 100;
const TOTAL = CLIENTS * PER_CLIENT;

// The embedded demo configuration plus one dataset that lists every stored row.
const CONFIG = {
  ...DEFAULT_RESOURCES,
  datasets: [
    ...DEFAULT_RESOURCES.datasets,
    { datasetName: 'all_rows', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT deviceId, seq, temperature, temperature_f FROM telemetry_store ORDER BY deviceId, seq' } }] },
  ],
};

interface DatasetResult { columns: { name: string }[]; rows: unknown[][] }

function reading(deviceId: string, seq: number): TelemetryPayload {
  return { deviceId, ts: Date.now(), seq, temperature: 20 + (seq % 10), humidity: 40, battery: 90 };
}

async function runDataset(server: RunningServer, name: string): Promise<DatasetResult> {
  const res = await operatorJson<DatasetResult>(`http://127.0.0.1:${server.httpPort}`, `/api/datasets/${name}/run`, { method: 'POST' });
  if (res.status !== 200) throw new Error(`dataset ${name}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

describe('the data path from MQTT to the dataset', () => {
  const data = tempDataDir();
  let server: RunningServer;

  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('stores all 1,000 QoS 1 messages from 10 clients as rows and archives every raw payload', async () => {
    server = await startTestServer(data.dir, { config: CONFIG });
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: `it-${i}`, protocolVersion: 4 })),
    );
    const sent: string[] = [];
    await Promise.all(
      clients.map(async (client, i) => {
        for (let seq = 0; seq < PER_CLIENT; seq++) {
          const payload = JSON.stringify(reading(`dev-${i}`, seq));
          sent.push(payload);
          await client.publishAsync(`devices/dev-${i}/telemetry`, payload, { qos: 1 });
        }
      }),
    );
    await Promise.all(clients.map((c) => c.endAsync()));

    // Every PUBACK means the payload is already in the archive.
    const archived = readArchiveFiles(data.dir, 'telemetry').map((r) => Buffer.from(r.payload, 'base64').toString('utf8'));
    expect(archived.sort()).toEqual([...sent].sort());

    const result = await eventually(async () => {
      const r = await runDataset(server, 'all_rows');
      return r.rows.length === TOTAL ? r : undefined;
    }, 5000, `${TOTAL} rows in the datastore`);
    const col = (name: string) => result.columns.findIndex((c) => c.name === name);
    const keys = new Set(result.rows.map((row) => `${row[col('deviceId')]}#${row[col('seq')]}`));
    expect(keys.size).toBe(TOTAL);
    for (const row of result.rows) {
      expect(row[col('temperature_f')]).toBeCloseTo((Number(row[col('temperature')]) * 9) / 5 + 32, 6);
    }
  });

  it('keeps the rows and the configuration without duplicates across a stop and start', async () => {
    await server.stop();
    server = await startTestServer(data.dir, { config: CONFIG });
    expect(server.rules.listRules().map((r) => r.ruleName)).toEqual(['telemetry_to_analytics']);
    expect(server.analytics.listDatastores()).toEqual(['telemetry_store']);
    expect(server.analytics.listPipelines()).toEqual(['telemetry_pipeline']);
    const rows = await runDataset(server, 'all_rows');
    expect(rows.rows.length).toBe(TOTAL);
    const summary = await runDataset(server, 'fleet_summary');
    const messages = summary.columns.findIndex((c) => c.name === 'messages');
    expect(summary.rows.reduce((sum, row) => sum + Number(row[messages]), 0)).toBe(TOTAL);
    expect(readArchiveFiles(data.dir, 'telemetry')).toHaveLength(TOTAL);
  });

  it('accepts MQTT over WebSocket on /mqtt and streams the new rows to a live subscriber on /api/live', async () => {
    const cookie = await signIn(`http://127.0.0.1:${server.httpPort}`);
    const live = new WebSocket(`ws://127.0.0.1:${server.httpPort}/api/live`, { headers: { cookie } });
    const frames: { type: string; columns?: string[]; data?: unknown[][] }[] = [];
    live.on('message', (data) => frames.push(JSON.parse(String(data))));
    await eventually(async () => (frames.some((f) => f.type === 'hello') ? true : undefined), 3000, 'hello frame');
    live.send(JSON.stringify({ type: 'subscribe', datastore: 'telemetry_store' }));
    await new Promise((r) => setTimeout(r, 100));

    const client = await mqtt.connectAsync(`ws://127.0.0.1:${server.httpPort}/mqtt`, { clientId: 'ws-client', protocolVersion: 4 });
    await client.publishAsync('devices/ws-dev/telemetry', JSON.stringify(reading('ws-dev', 1)), { qos: 1 });
    await client.endAsync();

    const frame = await eventually(async () => frames.find((f) => f.type === 'rows'), 5000, 'a rows frame');
    live.close();
    expect(frame.columns?.[0]).toBe('__dt');
    const deviceColumn = frame.data![frame.columns!.indexOf('deviceId')];
    expect(deviceColumn).toContain('ws-dev');
  });
});
