// One end-to-end ingest step, shared by e2e-ingest and ingest-peers: a fresh server on free ports
// with the embedded demo configuration (rule → channel `telemetry` → filter + math pipeline →
// datastore `telemetry_store`), the simulator in its own process publishing QoS 1 for a fixed
// time, then flush. Counts rows as they are committed to DuckDB (the analytics 'rows' event, one
// per commit) with the publish-to-row latency from the `ts` each device put in its payload.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../broker/index.js';
import { ProcSampler } from './peers/proc-sample.js';

const SIM = fileURLToPath(new URL('../devices-sim/main.ts', import.meta.url));

export interface SimSummary {
  sent: number;
  acknowledged: number;
  /** publishes due but not sent (mostly: the device's window of unacknowledged publishes was full) */
  skipped: number;
  msgPerSec: number;
  errors: number;
  latencyMs: { p50: number; p99: number } | null;
  /** what the simulator itself reports from our /metrics (broker receipt to row); absent for other brokers */
  rowLatencyMs?: { p50: number | null; p99: number | null; count: number } | null;
}

export interface E2EOptions {
  devices: number;
  /** messages per second per device */
  rate: number;
  durationS: number;
  /** TLS client certificates and a policy per device instead of anonymous MQTT */
  secure: boolean;
  /** the simulator's tick (`--tick-ms`); its default (FLEET_DEFAULTS.tickMs) when absent */
  tickMs?: number;
  /** keep the committed rows (as stored: column names, converted values, `__dt` in ms) */
  keepRows?: boolean;
  /** runs after the flush, before the server stops (e.g. to read the channel or the schema) */
  beforeStop?: (server: RunningServer) => Promise<void>;
}

export interface E2EResult {
  sim: SimSummary;
  /** rows committed to DuckDB */
  stored: number;
  /** commits (DuckDB transactions) that carried them */
  commits: number;
  /** stored / (last commit − earliest device timestamp among stored rows) */
  storedPerSec: number;
  /** publish-to-row latencies in ms, sorted */
  latencies: Float64Array;
  rows: Record<string, unknown>[];
  /** CPU % of one core (200 % = both cores of a 2-core machine) of the server (this process: the
   * server runs in it) and of the simulator, over the steady part of the step: from 1 s after the
   * first commit to 1 s before the publishing time ends; NaN where /proc cannot be read */
  cpu: { serverPercent: number; simPercent: number };
}

/** The simulator against our server (`opts.secure`: provisioned TLS devices), or against any MQTT
 * broker at `url` (anonymous). */
export function runSim(target: RunningServer | { url: string }, opts: E2EOptions, onSpawn?: (pid: number) => void): Promise<SimSummary> {
  return new Promise((resolve, reject) => {
    const args = ['--devices', String(opts.devices), '--rate', String(opts.rate), '--duration', String(opts.durationS), '--qos', '1', '--json'];
    if (opts.tickMs !== undefined) args.push('--tick-ms', String(opts.tickMs));
    const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    if ('url' in target) {
      args.push('--url', target.url, '--metrics-url', 'none');
    } else {
      const server = target;
      // the simulator's own row latency, to compare with the in-process measure
      args.push('--metrics-url', `http://127.0.0.1:${server.httpPort}/metrics`, '--datastore', 'telemetry_store');
      if (opts.secure) {
        args.push('--provision', '--url', `mqtts://127.0.0.1:${server.mqttsPort}`, '--endpoint', `http://127.0.0.1:${server.httpPort}`, '--certs-dir', join(server.dataDir, 'certs'));
        env.AWS_ACCESS_KEY_ID = server.adminCredentials.accessKeyId;
        env.AWS_SECRET_ACCESS_KEY = server.adminCredentials.secretAccessKey;
      } else {
        args.push('--url', `mqtt://127.0.0.1:${server.mqttPort}`);
      }
    }
    const child = spawn(process.execPath, [...process.execArgv, SIM, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
    if (child.pid !== undefined) onSpawn?.(child.pid);
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

export function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
}

export async function runE2E(opts: E2EOptions): Promise<E2EResult> {
  const dir = mkdtempSync(join(tmpdir(), 'iotcore-bench-'));
  const env = opts.secure ? {} : { IOT_ALLOW_ANONYMOUS: 'true' };
  const server: RunningServer = await startServer({ dataDir: dir, httpPort: 0, mqttPort: 0, mqttsPort: 0, host: '127.0.0.1', logLevel: 'error', env });
  const latencies: number[] = [];
  const kept: Record<string, unknown>[] = [];
  let commits = 0;
  let firstPublish = Infinity; // the earliest device timestamp among stored rows
  let lastCommit = 0;
  let firstCommitAt = NaN; // performance.now(), the clock the samplers use
  const serverCpu = new ProcSampler(process.pid);
  let simCpu: ProcSampler | undefined;
  try {
    server.analytics.on('rows', (e: { rows: Record<string, unknown>[]; committedAt: number }) => {
      if (commits === 0) firstCommitAt = performance.now();
      commits++;
      lastCommit = e.committedAt;
      for (const row of e.rows) {
        if (typeof row.ts !== 'number') continue;
        if (row.ts < firstPublish) firstPublish = row.ts;
        latencies.push(e.committedAt - row.ts);
        if (opts.keepRows) kept.push(row);
      }
    });
    const sim = await runSim(server, opts, (pid) => (simCpu = new ProcSampler(pid)));
    const from = firstCommitAt + 1000;
    const to = firstCommitAt + opts.durationS * 1000 - 1000;
    await server.analytics.flush();
    if (opts.beforeStop) await opts.beforeStop(server);
    const stored = latencies.length;
    return {
      sim,
      stored,
      commits,
      storedPerSec: stored / ((lastCommit - firstPublish) / 1000),
      latencies: Float64Array.from(latencies).sort(),
      rows: kept,
      cpu: { serverPercent: serverCpu.cpuPercent(from, to), simPercent: simCpu?.cpuPercent(from, to) ?? NaN },
    };
  } finally {
    serverCpu.stop();
    simCpu?.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
