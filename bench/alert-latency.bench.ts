// Injected anomaly → alert: a simulated fleet publishes telemetry (QoS 1) while some devices get a
// temperature spike; a detector resource with the default detector watches the datastore column.
// Reports, per injected spike, the time from the anomalous message's own timestamp to the alert
// event reaching an MQTT subscriber of iotcore/alerts/# (issue 6's target: within 2 s), and the
// alerts raised on devices without an injected anomaly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { DEFAULT_RESOURCES, startServer } from '../broker/index.js';
import { parseAnomalySpec, runFleet, type AnomalyLabel } from '../devices-sim/index.js';
import { machineHeader, table } from './machine.js';

const DEVICES = Number(process.env.BENCH_ALERT_DEVICES ?? 50);
const RATE = Number(process.env.BENCH_ALERT_RATE ?? 5);
const SPIKE_AT_S = Number(process.env.BENCH_ALERT_SPIKE_AT_S ?? 60);
const SPIKED = Math.max(1, Math.round(DEVICES / 5));
/** the detector resource's detector: the default unless BENCH_ALERT_DETECTOR names another */
const DETECTOR = process.env.BENCH_ALERT_DETECTOR;

const dir = mkdtempSync(join(tmpdir(), 'iotcore-alert-bench-'));
const detectors = [{ detectorName: 'temperature_anomalies', type: 'anomaly', datastoreName: 'telemetry_store', attribute: 'temperature', ...(DETECTOR ? { detector: DETECTOR } : {}) }];
const server = await startServer({
  dataDir: dir, httpPort: 0, mqttPort: 0, mqttsPort: 0, host: '127.0.0.1', logLevel: 'error',
  env: { IOT_ALLOW_ANONYMOUS: 'true' }, config: { ...DEFAULT_RESOURCES, detectors },
});
const firstAlert = new Map<string, number>(); // deviceId → arrival time of its first opened alert
const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'alert-watcher', protocolVersion: 4 });
await watcher.subscribeAsync('iotcore/alerts/#', { qos: 1 });
watcher.on('message', (_topic, payload) => {
  const event = JSON.parse(payload.toString()) as { eventType: string; deviceId: string };
  if (event.eventType === 'opened' && !firstAlert.has(event.deviceId)) firstAlert.set(event.deviceId, Date.now());
});

const labels: AnomalyLabel[] = [];
const summary = await runFleet({
  url: `mqtt://127.0.0.1:${server.mqttPort}`, devices: DEVICES, rate: RATE, durationS: SPIKE_AT_S + 10, qos: 1, prefix: 'alert', rampUpMs: 1000,
  anomalies: { specs: [parseAnomalySpec(`spike:temperature@${SPIKE_AT_S}:+15`)], devices: SPIKED, onLabel: (l) => labels.push(l) },
});
await server.analytics.flush();
await new Promise((r) => setTimeout(r, 1000)); // the last alert events in flight
await watcher.endAsync();
await server.stop();
rmSync(dir, { recursive: true, force: true });

const spiked = new Set(labels.map((l) => l.deviceId));
const latencies = labels.map((l) => (firstAlert.has(l.deviceId) ? firstAlert.get(l.deviceId)! - l.startTs : NaN)).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
const falseAlerts = [...firstAlert.keys()].filter((d) => !spiked.has(d)).length;
const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] : NaN);

console.log(machineHeader(`injected spike → alert on MQTT: ${DEVICES} devices × ${RATE} msg/s, ${SPIKED} spiked at ${SPIKE_AT_S} s, detector ${DETECTOR ?? 'default'}`));
console.log(table([{
  'messages sent': summary.sent,
  'spikes injected': labels.length,
  'alerted': latencies.length,
  'p50 ms': pct(50).toFixed(0),
  'max ms': pct(100).toFixed(0),
  'within 2 s': latencies.filter((x) => x <= 2000).length,
  'alerts on clean devices': falseAlerts,
}]));
