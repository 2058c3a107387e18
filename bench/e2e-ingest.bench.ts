// End-to-end ingest: the simulator (its own process, QoS 1) → MQTT → rule → channel archive →
// filter+math pipeline → DuckDB, through the embedded demo configuration. Reports the stored rate
// and publish-to-row latency: from the `ts` a device put in its payload to the moment the row was
// committed to DuckDB (queryable).
// BENCH_AUTH=certificates runs the same steps with security on: anonymous MQTT refused, each
// device provisioned (thing, certificate, policy) and connected over TLS, every publish checked
// against its policy; the default is anonymous development mode (the data path alone).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer } from '../broker/index.js';
import { machineHeader, table } from './machine.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SIM = fileURLToPath(new URL('../devices-sim/main.ts', import.meta.url));
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const SECURE = process.env.BENCH_AUTH === 'certificates';
const STEPS = [
  { devices: 50, rate: 20 },
  { devices: 100, rate: 50 },
  { devices: 200, rate: 50 },
  { devices: 200, rate: 100 },
];

interface SimSummary { sent: number; acknowledged: number; msgPerSec: number; errors: number; latencyMs: { p50: number; p99: number } | null }

function runSim(server: RunningServer, devices: number, rate: number): Promise<SimSummary> {
  return new Promise((resolve, reject) => {
    const args = ['--devices', String(devices), '--rate', String(rate), '--duration', String(DURATION_S), '--qos', '1', '--json'];
    const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    if (SECURE) {
      args.push('--provision', '--url', `mqtts://127.0.0.1:${server.mqttsPort}`, '--endpoint', `http://127.0.0.1:${server.httpPort}`, '--certs-dir', join(server.dataDir, 'certs'));
      env.AWS_ACCESS_KEY_ID = server.adminCredentials.accessKeyId;
      env.AWS_SECRET_ACCESS_KEY = server.adminCredentials.secretAccessKey;
    } else {
      args.push('--url', `mqtt://127.0.0.1:${server.mqttPort}`);
    }
    const child = spawn(process.execPath, [...process.execArgv, SIM, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      try {
        if (code !== 0) throw new Error(`simulator exited with ${code}`);
        resolve(JSON.parse(last) as SimSummary);
      } catch (err) {
        reject(new Error(`${(err as Error).message}; output: ${out.slice(-500)}`));
      }
    });
  });
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
}

async function step(devices: number, rate: number): Promise<Record<string, string | number>> {
  const dir = mkdtempSync(join(tmpdir(), 'iotcore-bench-'));
  const env = SECURE ? {} : { IOT_ALLOW_ANONYMOUS: 'true' };
  const server: RunningServer = await startServer({ dataDir: dir, httpPort: 0, mqttPort: 0, mqttsPort: 0, host: '127.0.0.1', logLevel: 'error', env });
  const latencies: number[] = [];
  let firstPublish = Infinity; // the earliest device timestamp among stored rows
  let lastCommit = 0;
  server.analytics.on('rows', (e: { rows: Record<string, unknown>[]; committedAt: number }) => {
    lastCommit = e.committedAt;
    for (const row of e.rows) {
      if (typeof row.ts !== 'number') continue;
      if (row.ts < firstPublish) firstPublish = row.ts;
      latencies.push(e.committedAt - row.ts);
    }
  });
  const sim = await runSim(server, devices, rate);
  await server.analytics.flush();
  const stored = latencies.length;
  await server.stop();
  rmSync(dir, { recursive: true, force: true });

  const sorted = Float64Array.from(latencies).sort();
  return {
    'offered msg/s': devices * rate,
    devices,
    'sent msg/s': Math.round(sim.msgPerSec),
    acked: sim.acknowledged,
    'rows stored': stored,
    'stored msg/s': Math.round(stored / ((lastCommit - firstPublish) / 1000)),
    'p50 pub→row ms': percentile(sorted, 50).toFixed(1),
    'p99 pub→row ms': percentile(sorted, 99).toFixed(1),
    'p99 pub→ack ms': sim.latencyMs ? sim.latencyMs.p99.toFixed(1) : '-',
    'lost (acked-stored)': sim.acknowledged - stored,
  };
}

const mode = SECURE ? 'TLS client certificates, policy checked per publish' : 'anonymous MQTT';
console.log(machineHeader(`end-to-end ingest, ${DURATION_S} s per step, ${mode} (simulator → MQTT QoS 1 → rule → channel → pipeline → DuckDB)`));
const rows: Record<string, string | number>[] = [];
for (const s of STEPS) rows.push(await step(s.devices, s.rate));
console.log(table(rows));
