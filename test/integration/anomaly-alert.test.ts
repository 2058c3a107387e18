// Issue 6 end to end: a simulated device with an injected temperature spike makes a detector
// resource on the datastore raise an alert, published on iotcore/alerts/... with the spiked value,
// for that device only; the alert clears once readings are normal again. (The latency target is
// measured by bench/alert-latency.bench.ts, not asserted here.)
import mqtt from 'mqtt';
import { DEFAULT_RESOURCES, type RunningServer } from '../../broker/index.js';
import { parseAnomalySpec, runFleet, type AnomalyLabel } from '../../devices-sim/index.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';

interface AlertEvent { eventType: string; deviceId: string; source: string; metric: string; type: string; value?: number; state: string }

describe('an injected anomaly raises an alert', () => {
  const data = tempDataDir();
  let server: RunningServer;

  beforeAll(async () => {
    const detectors = [{ detectorName: 'temperature_spikes', type: 'anomaly', datastoreName: 'telemetry_store', attribute: 'temperature', detector: 'ewma', severity: 'CRITICAL' }];
    server = await startTestServer(data.dir, { config: { ...DEFAULT_RESOURCES, detectors } });
  });

  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('publishes an alert for the spiked device with the spiked value, and clears it when readings are normal again', async () => {
    const events: AlertEvent[] = [];
    const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'alert-watcher', protocolVersion: 4, reconnectPeriod: 0 });
    await watcher.subscribeAsync('iotcore/alerts/#', { qos: 1 });
    watcher.on('message', (_topic, payload) => events.push(JSON.parse(payload.toString()) as AlertEvent));

    const labels: AnomalyLabel[] = [];
    const summary = await runFleet({
      url: `mqtt://127.0.0.1:${server.mqttPort}`, devices: 3, rate: 20, durationS: 9, qos: 1, prefix: 'hot', rampUpMs: 0,
      anomalies: { specs: [parseAnomalySpec('spike:temperature@7:+15')], devices: ['hot-2'], onLabel: (l) => labels.push(l) },
    });
    expect(summary.acknowledged).toBe(summary.sent);
    expect(labels).toEqual([expect.objectContaining({ deviceId: 'hot-2', kind: 'spike', metric: 'temperature' })]);
    await server.analytics.flush();

    const opened = await eventually(async () => events.find((e) => e.eventType === 'opened'), 10_000, 'the alert to be published');
    expect(opened).toMatchObject({ source: 'temperature_spikes', deviceId: 'hot-2', metric: 'temperature', type: 'anomaly', state: 'ACTIVE', severity: 'CRITICAL' });
    const stored = await server.analytics.alerts.list({ deviceId: 'hot-2' });
    expect(stored.items).toEqual([expect.objectContaining({ source: 'temperature_spikes', value: opened.value })]);
    await eventually(async () => events.find((e) => e.eventType === 'cleared' && e.deviceId === 'hot-2'), 10_000, 'the alert to clear');
    expect(events.filter((e) => e.deviceId !== 'hot-2')).toEqual([]);
    // the detector resource's counters are on /metrics too
    const metrics = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
    const anomalies = /iotcore_analytics\{path="detectors\/temperature_spikes",counter="anomalies"\} (\d+)/.exec(metrics);
    expect(Number(anomalies?.[1])).toBeGreaterThanOrEqual(1);
    expect(metrics).toMatch(/iotcore_analytics\{path="detectors\/temperature_spikes",counter="devices"\} 3\b/);
    await watcher.endAsync();
  }, 60_000);
});
