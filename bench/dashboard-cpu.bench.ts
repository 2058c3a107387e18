// The server's CPU with open dashboards: the server runs in its own process (so its CPU time is
// its own), the simulator in another at the offered rate, and 50 signed-in live feed clients
// subscribe the way the fleet view does (the whole datastore, decimated to a chart's width).
// Each step runs the same load twice, without and with the dashboards; the difference is what
// the live feed costs. CPU is the server process's user+system time (/proc/<pid>/stat) over the
// middle of the run, as a share of one core.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { LiveClientFrame, LiveServerFrame, PortsFile } from '../broker/contract.js';
import { machineHeader, table } from './machine.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 20);
const DASHBOARDS = Number(process.env.BENCH_DASHBOARDS ?? 50);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 500);
/** per-device rates: 500 × 10 = 5,000 msg/s (the server has headroom), 500 × 20 = 10,000 msg/s */
const RATES = (process.env.BENCH_RATES ?? '10,20').split(',').map(Number);
const CHART_WIDTH = 1366;
const PASSWORD = 'bench-operator-password';
const CLOCK_TICKS = 100; // USER_HZ on Linux

interface SimSummary { sent: number; acknowledged: number; msgPerSec: number; errors: number }

function cpuSeconds(pid: number): number {
  // fields after the command name (which may hold spaces) start at ") "
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime
}

async function startServerProcess(dataDir: string): Promise<{ child: ChildProcess; ports: PortsFile }> {
  const child = spawn(process.execPath, [TSX, join(ROOT, 'broker/main.ts'), '--data-dir', dataDir, '--http-port', '0', '--mqtt-port', '0', '--mqtts-port', '0', '--host', '127.0.0.1', '--log-level', 'error'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, IOT_ALLOW_ANONYMOUS: 'true', IOT_OPERATOR_PASSWORD: PASSWORD },
  });
  const portsFile = join(dataDir, 'ports.json');
  for (let waited = 0; !existsSync(portsFile); waited += 100) {
    if (waited > 60_000 || child.exitCode !== null) throw new Error('the server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, ports: JSON.parse(readFileSync(portsFile, 'utf8')) as PortsFile };
}

async function signIn(httpPort: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/session`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  if (!res.ok) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.get('set-cookie');
  if (!cookie) throw new Error('sign-in answered without a cookie');
  return cookie.split(';')[0];
}

interface Dashboard { socket: WebSocket; frames: number; rows: number; decimated: number; dropped: number }

async function openDashboards(httpPort: number, cookie: string, count: number): Promise<Dashboard[]> {
  return Promise.all(Array.from({ length: count }, () => new Promise<Dashboard>((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${httpPort}/api/live`, { headers: { cookie } });
    const board: Dashboard = { socket, frames: 0, rows: 0, decimated: 0, dropped: 0 };
    socket.on('error', reject);
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as LiveServerFrame;
      if (frame.type === 'hello') {
        const subscribe: LiveClientFrame = { type: 'subscribe', datastore: 'telemetry_store', maxRowsPerFrame: CHART_WIDTH };
        socket.send(JSON.stringify(subscribe));
        resolve(board);
      } else if (frame.type === 'rows') {
        board.frames++;
        board.rows += frame.data[0]?.length ?? 0;
        board.decimated += frame.decimated ?? 0;
        board.dropped += frame.dropped;
      }
    });
  })));
}

/** A counter of the live feed from /metrics (iotcore_live_total{counter="..."}). */
async function liveCounter(httpPort: number, counter: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`iotcore_live_total{counter="${counter}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

function runSim(mqttPort: number, prefix: string, rate: number): Promise<SimSummary> {
  return new Promise((resolve, reject) => {
    const args = ['--url', `mqtt://127.0.0.1:${mqttPort}`, '--devices', String(DEVICES), '--rate', String(rate), '--duration', String(DURATION_S), '--qos', '1', '--prefix', prefix, '--json', '--metrics-url', 'none'];
    const child = spawn(process.execPath, [TSX, join(ROOT, 'devices-sim/main.ts'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`simulator exited with ${code}`);
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as SimSummary);
      } catch (err) {
        reject(new Error(`${(err as Error).message}; output: ${out.slice(-300)}`));
      }
    });
  });
}

/** Runs the load and samples the server's CPU over the middle half of it. */
async function measure(pid: number, mqttPort: number, prefix: string, rate: number): Promise<{ sim: SimSummary; cpuPercent: number }> {
  const sim = runSim(mqttPort, prefix, rate);
  const quarter = (DURATION_S * 1000) / 4;
  await new Promise((r) => setTimeout(r, quarter + 2000)); // ramp-up and the simulator's own start
  const before = cpuSeconds(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 2 * quarter));
  const cpuPercent = ((cpuSeconds(pid) - before) / ((performance.now() - t0) / 1000)) * 100;
  return { sim: await sim, cpuPercent };
}

const dataDir = mkdtempSync(join(tmpdir(), 'iotcore-dashboard-cpu-'));
const { child, ports } = await startServerProcess(dataDir);
const rows: Record<string, string | number>[] = [];
try {
  const cookie = await signIn(ports.http);
  for (const rate of RATES) {
    const offered = DEVICES * rate;
    const idle = await measure(ports.pid, ports.mqtt, `nodash${rate}`, rate); // tsx runs the server in a child of `child`
    rows.push({ dashboards: 0, 'offered msg/s': offered, 'acked msg/s': Math.round(idle.sim.msgPerSec), 'server CPU %': idle.cpuPercent.toFixed(0), 'frames/s per dashboard': '-', 'rows/s per dashboard': '-', 'rows decimated/s per dashboard': '-', 'frames shared %': '-' });
    const boards = await openDashboards(ports.http, cookie, DASHBOARDS);
    const [sent0, shared0] = [await liveCounter(ports.http, 'framesSent'), await liveCounter(ports.http, 'framesShared')];
    const loaded = await measure(ports.pid, ports.mqtt, `dash${rate}`, rate);
    const [sent, shared] = [(await liveCounter(ports.http, 'framesSent')) - sent0, (await liveCounter(ports.http, 'framesShared')) - shared0];
    const per = (key: 'frames' | 'rows' | 'decimated') => (boards.reduce((sum, b) => sum + b[key], 0) / boards.length / DURATION_S).toFixed(0);
    rows.push({ dashboards: DASHBOARDS, 'offered msg/s': offered, 'acked msg/s': Math.round(loaded.sim.msgPerSec), 'server CPU %': loaded.cpuPercent.toFixed(0), 'frames/s per dashboard': per('frames'), 'rows/s per dashboard': per('rows'), 'rows decimated/s per dashboard': per('decimated'), 'frames shared %': sent ? ((100 * shared) / sent).toFixed(0) : '-' });
    for (const b of boards) b.socket.close();
  }
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}

console.log(machineHeader(`server CPU with ${DASHBOARDS} open dashboards (live feed clients subscribed like the fleet view, ${CHART_WIDTH} rows per frame at most), ${DEVICES} devices publishing QoS 1`));
console.log(table(rows));
console.log('CPU: the server process only (simulator and dashboards run in other processes), share of one core, over the middle half of each run.');
