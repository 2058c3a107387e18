// The simulator's injected anomalies reach the datastore as labelled: a fleet against the real
// server with a spike and a stuck (flatline) anomaly on its first device writes a labels file
// whose startTs/endTs are the `ts` of rows actually stored, with the injected values in them; a
// flood stores F times the rate inside its labelled window.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RESOURCES, type RunningServer } from '../../broker/index.js';
import { parseAnomalySpec, runFleet, type AnomalyLabel } from '../../devices-sim/index.js';
import { startTestServer, tempDataDir } from '../helpers/server.js';
import { operatorJson } from '../helpers/operator.js';

const ROWS = {
  datasetName: 'sim_rows',
  actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT deviceId, ts, seq, temperature, humidity FROM telemetry_store ORDER BY deviceId, seq' } }],
};

interface Row {
  deviceId: string;
  ts: number;
  seq: number;
  temperature: number;
  humidity: number;
}

describe('simulated anomalies against the real server', () => {
  const data = tempDataDir();
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: { ...DEFAULT_RESOURCES, datasets: [...DEFAULT_RESOURCES.datasets, ROWS] } });
  });

  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('stores the spike and the flatline at the times the labels file gives, on the chosen device only', async () => {
    const labelsFile = join(data.dir, 'labels.jsonl');
    const summary = await runFleet({
      url: `mqtt://127.0.0.1:${server.mqttPort}`,
      devices: 2,
      rate: 10,
      durationS: 3,
      qos: 1,
      prefix: 'an',
      rampUpMs: 0,
      anomalies: { specs: [parseAnomalySpec('spike:temperature@1:+20'), parseAnomalySpec('stuck:humidity@1.5:1s')], labelsFile },
    });
    expect(summary.errors).toBe(0);
    expect(summary.acknowledged).toBe(summary.sent);
    expect(summary.anomalies).toMatchObject({ injected: 2, notReached: 0, labelsDropped: 0, byKind: expect.objectContaining({ spike: 1, stuck: 1 }) });

    const labels = readFileSync(labelsFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as AnomalyLabel);
    const spike = labels.find((l) => l.kind === 'spike')!;
    const stuck = labels.find((l) => l.kind === 'stuck')!;
    expect(labels).toHaveLength(2);
    expect(spike).toMatchObject({ deviceId: 'an-1', metric: 'temperature', magnitude: 20, messages: 1 });
    expect(spike.endTs).toBe(spike.startTs);
    expect(stuck).toMatchObject({ deviceId: 'an-1', metric: 'humidity', magnitude: null });
    expect(stuck.messages).toBeGreaterThanOrEqual(5); // about 1 s at 10 msg/s

    await server.analytics.flush();
    const res = await operatorJson<{ rows: [string, number | string, number | string, number, number][] }>(
      `http://127.0.0.1:${server.httpPort}`,
      '/api/datasets/sim_rows/run',
      { method: 'POST' },
    );
    const rows: Row[] = res.body.rows.map(([deviceId, ts, seq, temperature, humidity]) => ({ deviceId, ts: Number(ts), seq: Number(seq), temperature, humidity }));
    expect(rows).toHaveLength(summary.acknowledged);
    const first = rows.filter((r) => r.deviceId === 'an-1');
    // the other device was not chosen: no jump in its temperature
    const second = rows.filter((r) => r.deviceId === 'an-2');
    expect(second.length).toBeGreaterThan(10);
    for (let i = 1; i < second.length; i++) expect(Math.abs(second[i].temperature - second[i - 1].temperature)).toBeLessThan(2);

    // the spike: one stored row at the labelled ts, 20 °C above its neighbours (which move ~0.3 °C)
    const at = first.findIndex((r) => r.ts === spike.startTs);
    expect(at).toBeGreaterThan(0);
    const [before, peak, after] = [first[at - 1], first[at], first[at + 1]];
    expect(peak.temperature - before.temperature).toBeGreaterThan(18);
    expect(peak.temperature - before.temperature).toBeLessThan(22);
    expect(Math.abs(after.temperature - before.temperature)).toBeLessThan(2);

    // the flatline: every stored row of the window repeats the humidity sent just before it
    const window = first.filter((r) => r.ts >= stuck.startTs && r.ts <= stuck.endTs);
    expect(window).toHaveLength(stuck.messages);
    expect(window[0].ts).toBe(stuck.startTs);
    const last = first.filter((r) => r.ts < stuck.startTs).at(-1)!;
    for (const row of window) expect(row.humidity).toBe(last.humidity);
    // ...while before it the humidity moved, as a live sensor's does
    const early = first.filter((r) => r.ts < spike.startTs).map((r) => r.humidity);
    expect(new Set(early).size).toBeGreaterThan(1);
  }, 30_000);

  it('stores a flood as F times the device\'s rate inside the labelled window and its normal rate outside it', async () => {
    const labelsFile = join(data.dir, 'flood-labels.jsonl');
    const summary = await runFleet({
      url: `mqtt://127.0.0.1:${server.mqttPort}`,
      devices: 1,
      rate: 10,
      durationS: 3,
      qos: 1,
      prefix: 'flood',
      rampUpMs: 0,
      anomalies: { specs: [parseAnomalySpec('flood@1:5:1s')], labelsFile },
    });
    expect(summary.errors).toBe(0);
    expect(summary.acknowledged).toBe(summary.sent);
    expect(summary.anomalies).toMatchObject({ injected: 1, byKind: expect.objectContaining({ flood: 1 }) });
    const [flood] = readFileSync(labelsFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as AnomalyLabel);
    expect(flood).toMatchObject({ deviceId: 'flood-1', metric: null, kind: 'flood', magnitude: 5 });

    await server.analytics.flush();
    const res = await operatorJson<{ rows: [string, number | string, number | string][] }>(`http://127.0.0.1:${server.httpPort}`, '/api/datasets/sim_rows/run', { method: 'POST' });
    const rows = res.body.rows.filter(([deviceId]) => deviceId === 'flood-1').map(([, ts, seq]) => ({ ts: Number(ts), seq: Number(seq) }));
    expect(rows).toHaveLength(summary.acknowledged);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, k) => k + 1)); // every flood message a reading of its own
    const inWindow = rows.filter((r) => r.ts >= flood.startTs && r.ts <= flood.endTs);
    expect(inWindow).toHaveLength(flood.messages);
    // ~1 s at 5 x 10 msg/s inside, ~2 s at 10 msg/s outside (lower bounds leave room for a
    // stalled scheduler tick, which skips rather than shifts)
    expect(flood.messages).toBeGreaterThanOrEqual(30);
    expect(flood.messages).toBeLessThanOrEqual(55);
    expect(rows.length - inWindow.length).toBeGreaterThanOrEqual(10);
    expect(rows.length - inWindow.length).toBeLessThanOrEqual(25);
  }, 30_000);
});
