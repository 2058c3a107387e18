// Broker fan-in, side by side: N simulated devices publish JSON telemetry (QoS 0 or 1) to one
// broker and one subscriber on `devices/+/telemetry` receives everything. Three brokers in the same
// run with the same load generator: ours as shipped (broker/main.ts, rules and analytics included),
// Mosquitto (Debian's package) and bare aedes (the library we build on, with its defaults).
// Every broker, the simulator (devices-sim/main.ts) and the subscriber (peers/fanin-subscriber.ts)
// is its own process, started fresh for each (devices, QoS, broker) run.
//
// Knobs: BENCH_DURATION_S (10), BENCH_FANIN_DEVICES (100,1000,5000), BENCH_FANIN_RATE (per-device
// msg/s; default BENCH_FANIN_TOTAL / devices), BENCH_FANIN_TOTAL (offered msg/s, 10000),
// BENCH_FANIN_QOS (0,1), BENCH_FANIN_PAYLOAD_BYTES (64-256), BENCH_BROKERS (iotcore,mosquitto,aedes).
import { fileURLToPath } from 'node:url';
import { machineHeader, table } from './machine.js';
import { availableBrokers, type BrokerKind, type RunningBroker } from './peers/mqtt-brokers.js';
import { exited, installCleanup, onLines, spawnTs, stderrTail, stopChild, waitForLine } from './peers/children.js';
import { ProcSampler } from './peers/proc-sample.js';

const SIM = fileURLToPath(new URL('../devices-sim/main.ts', import.meta.url));
const SUBSCRIBER = fileURLToPath(new URL('./peers/fanin-subscriber.ts', import.meta.url));

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const DEVICES = list(process.env.BENCH_FANIN_DEVICES ?? '100,1000,5000');
const TOTAL = Number(process.env.BENCH_FANIN_TOTAL ?? 10_000);
const FIXED_RATE = process.env.BENCH_FANIN_RATE ? Number(process.env.BENCH_FANIN_RATE) : undefined;
const QOS = list(process.env.BENCH_FANIN_QOS ?? '0,1') as (0 | 1)[];
// 64–256 bytes, spread by the simulator over the messages (a size drawn per sequence number, the
// same in every run); padding cannot shrink a message, so sizes below the unpadded environment
// payload of a `fanin-<n>` device (about 110 bytes) are sent at that size.
const PAYLOAD_BYTES = process.env.BENCH_FANIN_PAYLOAD_BYTES ?? '64-256';
const WANTED = process.env.BENCH_BROKERS ? process.env.BENCH_BROKERS.split(',').map((s) => s.trim()) : undefined;
/** After the simulator ends: wait until everything sent arrived, or nothing arrived for this long. */
const QUIET_MS = 2000;
/** A broker still delivering its backlog this long after the simulator ended is cut off (noted). */
const DRAIN_MAX_MS = 30_000;

function list(value: string): number[] {
  return value.split(',').map((s) => Number(s.trim())).filter((n) => Number.isFinite(n));
}

const rateFor = (devices: number) => FIXED_RATE ?? TOTAL / devices;
/** The simulator runs this much longer than BENCH_DURATION_S so that the steady state (the whole
 * fleet connected) lasts about BENCH_DURATION_S even when connecting 5,000 devices takes seconds. */
const connectAllowanceS = (devices: number) => 2 + Math.ceil(devices / 1000);

interface SimSummary { sent: number; connected: number; errors: number; skipped: number; msgPerSec: number; durationS: number }
interface SubSummary {
  count: number; firstAt: number; lastAt: number; disconnects: number; reasons: string[]; unparsed: number;
  /** true once every device was heard from; ratePerS and latencyMs then cover that steady state only */
  steady: boolean; ratePerS: number | null; latencyMs: { p50: number | null; p99: number | null };
}

interface Outcome {
  broker: string;
  devices: number;
  offered: number;
  sim?: SimSummary;
  sub?: SubSummary;
  deliveredPerS?: number;
  cpu?: number;
  rssMiB?: number;
  loadGenCpu?: number;
  /** the broker was still delivering when the bench stopped waiting */
  drainCut?: boolean;
  error?: string;
}

async function runOnce(kind: BrokerKind, devices: number, qos: 0 | 1): Promise<Outcome> {
  const rate = rateFor(devices);
  const outcome: Outcome = { broker: kind.name, devices, offered: devices * rate };
  let broker: RunningBroker;
  try {
    broker = await kind.start();
  } catch (err) {
    throw Object.assign(new Error(`${kind.name} failed to start: ${(err as Error).message}`), { startFailure: true });
  }
  const brokerCpu = new ProcSampler(broker.pid);
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const sub = spawnTs(SUBSCRIBER, ['--url', url, '--qos', String(qos), '--devices', String(devices)]);
  const subTail = stderrTail(sub);
  let sim: ReturnType<typeof spawnTs> | undefined;
  try {
    await waitForLine(sub, /^ready$/, 30_000, () => `subscriber stderr: ${subTail() || '(empty)'}`);
    const subCpu = new ProcSampler(sub.pid!);
    // CPU covers the steady state (every device heard from) to the last delivery, peak memory the
    // first to the last delivery; the subscriber's lines lag what they tell by up to 250 ms
    let received = 0;
    let firstSeen = NaN;
    let steadySeen = NaN;
    let lastGrowth = performance.now();
    let summaryLine: string | undefined;
    onLines(sub, (line) => {
      if (line.startsWith('count ')) {
        const n = Number(line.slice(6));
        const now = performance.now();
        if (n > received) {
          if (received === 0) firstSeen = now - 250; // the first count line lags the first delivery by up to 250 ms
          received = n;
          lastGrowth = now;
        }
      } else if (line === 'steady') {
        steadySeen = performance.now();
      } else if (line.startsWith('{')) {
        summaryLine = line;
      }
    });

    const args = ['--url', url, '--devices', String(devices), '--rate', String(rate), '--duration', String(DURATION_S + connectAllowanceS(devices)),
      '--qos', String(qos), '--payload-bytes', PAYLOAD_BYTES, '--prefix', 'fanin', '--ramp-up', '1', '--json', '--metrics-url', 'none'];
    sim = spawnTs(SIM, args);
    const simCpu = new ProcSampler(sim.pid!);
    const simTail = stderrTail(sim);
    let simOut = '';
    sim.stdout?.on('data', (d: Buffer) => (simOut += d.toString()));
    const killTimer = setTimeout(() => sim?.kill('SIGKILL'), (DURATION_S + 90) * 1000);
    await exited(sim);
    clearTimeout(killTimer);
    simCpu.stop();
    const last = simOut.trim().split('\n').at(-1) ?? '';
    if (!last.startsWith('{')) throw new Error(`the simulator exited with ${sim.exitCode ?? sim.signalCode} without a summary; stderr: ${simTail().slice(-400)}`);
    outcome.sim = JSON.parse(last) as SimSummary;

    const drainStart = performance.now();
    while (received < outcome.sim.sent && performance.now() - lastGrowth < QUIET_MS && performance.now() - drainStart < DRAIN_MAX_MS) {
      await new Promise((r) => setTimeout(r, 100));
    }
    outcome.drainCut = received < outcome.sim.sent && performance.now() - lastGrowth < QUIET_MS;
    const windowEnd = lastGrowth;
    sub.stdin?.write('stop\n');
    await exited(sub);
    subCpu.stop();
    brokerCpu.stop();
    if (!summaryLine) throw new Error(`the subscriber exited without a summary; stderr: ${subTail().slice(-400)}`);
    outcome.sub = JSON.parse(summaryLine) as SubSummary;
    outcome.deliveredPerS = outcome.sub.ratePerS ?? undefined;
    if (!Number.isNaN(firstSeen)) {
      const from = Number.isNaN(steadySeen) ? firstSeen : steadySeen;
      outcome.cpu = brokerCpu.cpuPercent(from, windowEnd);
      outcome.rssMiB = brokerCpu.peakRssBytes(firstSeen, windowEnd) / 2 ** 20;
      outcome.loadGenCpu = simCpu.cpuPercent(from, windowEnd) + subCpu.cpuPercent(from, windowEnd);
    }
    return outcome;
  } catch (err) {
    outcome.error = (err as Error).message;
    return outcome;
  } finally {
    brokerCpu.stop();
    if (sim) await stopChild(sim, 2000);
    await stopChild(sub, 2000);
    await broker.stop();
  }
}

const fmt = (n: number | undefined | null, digits = 0) => (n === undefined || n === null || !Number.isFinite(n) ? '-' : n.toFixed(digits));

function rowOf(o: Outcome, mosquittoRate: number | undefined): Record<string, string | number> {
  const notes: string[] = [];
  if (o.error) notes.push(o.error.slice(0, 200));
  if (o.sim && o.sim.connected < o.devices) notes.push(`${o.sim.connected} of ${o.devices} devices connected`);
  if (o.sim && o.sim.errors) notes.push(`${o.sim.errors} sim errors`);
  if (o.sim && o.sim.skipped) notes.push(`${o.sim.skipped} skipped by sim`);
  if (o.sub?.disconnects) notes.push(`subscriber dropped ${o.sub.disconnects}×${o.sub.reasons.length ? ` (${o.sub.reasons.join(', ')})` : ''}`);
  if (o.drainCut) notes.push(`still delivering ${DRAIN_MAX_MS / 1000} s after the simulator ended: cut off`);
  if (o.sub && !o.sub.steady) notes.push('not every device was heard from: whole-run figures');
  return {
    broker: o.broker,
    'offered msg/s': fmt(o.offered),
    'delivered msg/s': fmt(o.deliveredPerS),
    'delivered %': o.sim && o.sub ? fmt((100 * o.sub.count) / Math.max(1, o.sim.sent), 1) : '-',
    'vs mosquitto': o.deliveredPerS !== undefined && mosquittoRate ? `${(o.deliveredPerS / mosquittoRate).toFixed(2)}×` : '-',
    'p50 ms': fmt(o.sub?.latencyMs.p50),
    'p99 ms': fmt(o.sub?.latencyMs.p99),
    'broker CPU %': fmt(o.cpu),
    'broker RSS MiB': fmt(o.rssMiB),
    'sim+sub CPU %': fmt(o.loadGenCpu),
    notes: notes.join('; ') || '',
  };
}

installCleanup();
console.log(machineHeader(`broker fan-in: N devices → broker → 1 subscriber on devices/+/telemetry, ~${DURATION_S} s of steady state per run, JSON payloads of ${PAYLOAD_BYTES} bytes`));
const brokers = availableBrokers((name) => !WANTED || WANTED.includes(name));
for (const b of brokers) console.log(`broker: ${b.describe()}`);
console.log(`load: ${FIXED_RATE !== undefined ? `${FIXED_RATE} msg/s per device` : `${TOTAL} msg/s offered in total, split over the devices`}; simulator devices-sim/main.ts, ramp-up 1 s, run for ${DURATION_S} s + 2 s + 1 s per 1000 devices (connecting); rates, latencies and CPU from the moment every device was heard from; CPU % of one core (200 % = both cores)`);

let oursFailed = WANTED !== undefined && WANTED.includes('iotcore') && !brokers.some((b) => b.name === 'iotcore');
const unstartable = new Set<string>();
for (const devices of DEVICES) {
  for (const qos of QOS) {
    const outcomes: Outcome[] = [];
    for (const broker of brokers) {
      if (unstartable.has(broker.name)) continue;
      try {
        const o = await runOnce(broker, devices, qos);
        if (o.error) console.log(`! ${broker.name}, ${devices} devices, QoS ${qos}: ${o.error}`);
        if (o.error && broker.name === 'iotcore') oursFailed = true;
        outcomes.push(o);
      } catch (err) {
        console.log(`! ${(err as Error).message.slice(0, 1000)}; left out of the remaining runs`);
        unstartable.add(broker.name);
        if (broker.name === 'iotcore') oursFailed = true;
      }
    }
    const mosquittoRate = outcomes.find((o) => o.broker === 'mosquitto')?.deliveredPerS;
    console.log(`\n## ${devices} devices × ${fmt(rateFor(devices), rateFor(devices) < 1 ? 2 : 0)} msg/s, QoS ${qos}`);
    console.log(table(outcomes.map((o) => rowOf(o, mosquittoRate))));
  }
}
if (oursFailed) {
  console.error('\nour broker failed in at least one run (see the lines starting with "!")');
  process.exitCode = 1;
}
