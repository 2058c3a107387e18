// Connection storm, side by side: 10,000 MQTT clients connect as fast as they can to each of three
// brokers (ours as shipped, Mosquitto, bare aedes; see peers/mqtt-brokers.ts), each started fresh
// as its own process, the clients in another (peers/connect-storm-client.ts). Reports the time until
// the last CONNACK, CONNACK latency, that every connection was still open after the hold, and the
// broker's memory per connection: (RSS with all connected − RSS idle) / connections.
//
// Two ways to storm, one row each per broker: at most 100 connections awaiting their CONNACK at a
// time (the broker sets the pace; 100 is Mosquitto's listen backlog, so the kernel never drops a
// SYN and the figures are the brokers'), and all 10,000 at once (the listen queues overflow, the
// kernel drops SYNs and clients retransmit them after 1, 2, 4, ... s: what a real storm meets).
//
// Knobs: BENCH_STORM_CONNECTIONS (10000), BENCH_STORM_CONCURRENCY (comma list of connections
// awaiting their CONNACK at once, 0 = all at once; default 100,0), BENCH_STORM_HOLD_S (5),
// BENCH_BROKERS (iotcore,mosquitto,aedes).
import { fileURLToPath } from 'node:url';
import { machineHeader, table } from './machine.js';
import { availableBrokers, type BrokerKind } from './peers/mqtt-brokers.js';
import { exited, installCleanup, onLines, spawnTs, stderrTail, stopChild } from './peers/children.js';
import { ProcSampler } from './peers/proc-sample.js';

const CLIENT = fileURLToPath(new URL('./peers/connect-storm-client.ts', import.meta.url));
const CONNECTIONS = Number(process.env.BENCH_STORM_CONNECTIONS ?? 10_000);
const CONCURRENCY = (process.env.BENCH_STORM_CONCURRENCY ?? '100,0').split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n >= 0);
const HOLD_S = Number(process.env.BENCH_STORM_HOLD_S ?? 5);
const WANTED = process.env.BENCH_BROKERS ? process.env.BENCH_BROKERS.split(',').map((s) => s.trim()) : undefined;
/** The broker settles this long after start-up before its idle memory is read. */
const IDLE_SETTLE_MS = 3000;

interface Connected { connected: number; failed: number; stillWaiting: number; reasons: string[]; timeToAllMs: number | null; connackMs: { p50: number | null; p99: number | null } }
interface Held { connectedAtEnd: number; droppedDuringHold: number }

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number | undefined | null, digits = 0) => (n === undefined || n === null || !Number.isFinite(n) ? '-' : n.toFixed(digits));
const MiB = 2 ** 20;

async function storm(kind: BrokerKind, concurrency: number): Promise<Record<string, string | number>> {
  const broker = await kind.start().catch((err: Error) => {
    throw Object.assign(new Error(`${kind.name} failed to start: ${err.message}`), { startFailure: true });
  });
  const sampler = new ProcSampler(broker.pid, 100);
  let client: ReturnType<typeof spawnTs> | undefined;
  try {
    await delay(IDLE_SETTLE_MS);
    const idleFrom = performance.now() - 1000;
    const idleRss = median(sampler.samples.filter((s) => s.at >= idleFrom).map((s) => s.rssBytes));

    const args = ['--url', `mqtt://127.0.0.1:${broker.port}`, '--count', String(CONNECTIONS), '--concurrency', String(concurrency),
      '--hold', String(HOLD_S), '--timeout', '120', '--prefix', 'storm'];
    let stormStart = performance.now(); // until the client says it starts (after loading tsx and mqtt.js)
    client = spawnTs(CLIENT, args);
    const clientCpu = new ProcSampler(client.pid!, 100);
    const tail = stderrTail(client);
    let connected: Connected | undefined;
    let connectedAt = NaN;
    let held: Held | undefined;
    let heldAt = NaN;
    const heldSeen = new Promise<void>((resolve) => {
      onLines(client!, (line) => {
        if (!line.startsWith('{')) return;
        const msg = JSON.parse(line) as { phase: string };
        if (msg.phase === 'start') {
          stormStart = performance.now();
        } else if (msg.phase === 'connected') {
          connected = msg as unknown as Connected;
          connectedAt = performance.now();
        } else if (msg.phase === 'held') {
          held = msg as unknown as Held;
          heldAt = performance.now();
          resolve();
        }
      });
      void exited(client!).then(() => resolve());
    });
    await heldSeen;
    if (!connected || !held) throw new Error(`the storm client exited (${client.exitCode ?? client.signalCode}) early; stderr: ${tail().slice(-400)}`);
    // memory with every connection open: the last second of the hold, when the storm has settled
    const fullRss = median(sampler.samples.filter((s) => s.at >= heldAt - 1000 && s.at <= heldAt).map((s) => s.rssBytes));
    const peakRss = sampler.peakRssBytes(stormStart, heldAt);
    const cpu = sampler.cpuPercent(stormStart, connectedAt);
    const loadGenCpu = clientCpu.cpuPercent(stormStart, connectedAt);
    clientCpu.stop();
    const c: Connected = connected;
    const h: Held = held;
    const allHeld = c.connected === CONNECTIONS && h.connectedAtEnd === CONNECTIONS && h.droppedDuringHold === 0;
    return {
      broker: kind.name,
      'awaiting CONNACK': concurrency === 0 ? 'all' : `≤ ${concurrency}`,
      connected: c.connected,
      failed: c.failed + c.stillWaiting,
      'time to all s': c.timeToAllMs === null ? '-' : (c.timeToAllMs / 1000).toFixed(2),
      'connects/s': c.timeToAllMs === null ? '-' : fmt(CONNECTIONS / (c.timeToAllMs / 1000)),
      'CONNACK p50 ms': fmt(c.connackMs.p50, 1),
      'CONNACK p99 ms': fmt(c.connackMs.p99, 1),
      [`held ${HOLD_S} s`]: allHeld ? 'all' : `${h.connectedAtEnd} (${h.droppedDuringHold} dropped)`,
      'CPU % (storm)': fmt(cpu),
      'client CPU %': fmt(loadGenCpu),
      'RSS idle MiB': fmt(idleRss / MiB, 1),
      'RSS held MiB': fmt(fullRss / MiB, 1),
      'RSS peak MiB': fmt(peakRss / MiB, 1),
      'KiB/connection': fmt((fullRss - idleRss) / 1024 / Math.max(1, h.connectedAtEnd), 1),
      notes: c.reasons.join(', '),
    };
  } finally {
    sampler.stop();
    // the broker first: a broker closing 10,000 clients is its ordinary shutdown
    await broker.stop();
    if (client) {
      client.stdin?.write('stop\n');
      await stopChild(client, 5000);
    }
  }
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

installCleanup();
console.log(machineHeader(`connection storm: ${CONNECTIONS} MQTT clients connect as fast as the broker lets them, then hold ${HOLD_S} s`));
const brokers = availableBrokers((name) => !WANTED || WANTED.includes(name));
for (const b of brokers) console.log(`broker: ${b.describe()}`);
console.log('clients: bench/peers/connect-storm-client.ts (mqtt.js, clean session, keepalive 60 s, no reconnect), one process; CPU % of one core');

let oursFailed = WANTED !== undefined && WANTED.includes('iotcore') && !brokers.some((b) => b.name === 'iotcore');
const rows: Record<string, string | number>[] = [];
const unstartable = new Set<string>();
for (const concurrency of CONCURRENCY) {
  for (const broker of brokers) {
    if (unstartable.has(broker.name)) continue;
    try {
      const row = await storm(broker, concurrency);
      rows.push(row);
      // all at once, some connections may time out in the kernel whatever the broker does: only
      // the paced storm must connect every client
      if (broker.name === 'iotcore' && concurrency !== 0 && row.connected !== CONNECTIONS) oursFailed = true;
    } catch (err) {
      console.log(`! ${(err as Error).message.slice(0, 1000)}`);
      if ((err as { startFailure?: boolean }).startFailure) unstartable.add(broker.name);
      if (broker.name === 'iotcore') oursFailed = true;
    }
  }
}
console.log('');
console.log(table(rows));
if (oursFailed) {
  console.error('\nour broker failed the storm (see the lines starting with "!" or its row)');
  process.exitCode = 1;
}
