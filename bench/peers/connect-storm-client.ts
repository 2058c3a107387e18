// Process entry of the connection-storm load generator: opens COUNT MQTT 3.1.1 connections (mqtt.js,
// clean session, no reconnect) as fast as it can, keeping at most CONCURRENCY of them waiting for
// their CONNACK (0 = open all at once), then holds them all for HOLD seconds.
// The simulator has no CONNACK latency in its summary, hence this small client.
//
// Usage: tsx bench/peers/connect-storm-client.ts --url mqtt://127.0.0.1:N --count 10000
//        [--concurrency 0] [--hold 5] [--timeout 60] [--prefix storm]
// stdout: {"phase":"start"} as the first connection opens, one JSON line {"phase":"connected",...} once every connection has its CONNACK or has
// failed (or the timeout passed), one {"phase":"held",...} after the hold; then it waits for "stop"
// on stdin (or stdin closing) and exits, closing every socket.
import { connect, type MqttClient } from 'mqtt';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    count: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '0' },
    hold: { type: 'string', default: '5' },
    timeout: { type: 'string', default: '60' },
    prefix: { type: 'string', default: 'storm' },
  },
});
if (!values.url) throw new Error('--url is required');
const url = values.url;
const COUNT = Number(values.count);
const CONCURRENCY = Number(values.concurrency) || Infinity;
const HOLD_MS = Number(values.hold) * 1000;
const TIMEOUT_MS = Number(values.timeout) * 1000;

const clients: MqttClient[] = [];
const latencies = new Float64Array(COUNT);
let next = 0;
let waiting = 0;
let connected = 0;
let failed = 0;
/** connections closed after their CONNACK: during the hold, every one of them is a failure */
let dropped = 0;
let lastConnackAt = 0;
/** a few distinct reasons of failed connections */
const reasons = new Set<string>();
const startedAt = performance.now();
let settled!: () => void;
const allSettled = new Promise<void>((resolve) => (settled = resolve));

function open(i: number): void {
  waiting++;
  const t0 = performance.now();
  let done = false;
  const client = connect(url, {
    clientId: `${values.prefix}-${i}`,
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    reconnectPeriod: 0, // a refused or lost connection counts as such, it is not retried
    connectTimeout: TIMEOUT_MS,
    log: () => {}, // mqtt.js traces every packet through `debug` even when tracing is off: the client's CPU
  });
  clients.push(client);
  const finish = (ok: boolean) => {
    if (done) return;
    done = true;
    waiting--;
    if (ok) {
      lastConnackAt = performance.now();
      latencies[connected++] = lastConnackAt - t0;
    } else {
      failed++;
    }
    if (connected + failed === COUNT) settled();
    else launch();
  };
  client.once('connect', () => finish(true));
  client.on('close', () => {
    if (done) dropped++;
    else finish(false);
  });
  client.on('error', (err) => {
    if (reasons.size < 3) reasons.add((err as Error & { code?: string }).code ?? err.message); // counted through 'close'
  });
}

function launch(): void {
  while (next < COUNT && waiting < CONCURRENCY) open(next++);
}

function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

console.log(JSON.stringify({ phase: 'start' })); // tsx and mqtt.js are loaded: the storm begins now
launch();
await Promise.race([allSettled, new Promise((r) => setTimeout(r, TIMEOUT_MS))]);
const sorted = latencies.slice(0, connected).sort();
console.log(JSON.stringify({
  phase: 'connected',
  connected,
  failed,
  stillWaiting: COUNT - connected - failed,
  reasons: [...reasons],
  timeToAllMs: connected === COUNT ? lastConnackAt - startedAt : null,
  connackMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: percentile(sorted, 100) },
}));

const droppedBeforeHold = dropped;
await new Promise((r) => setTimeout(r, HOLD_MS));
const open_ = clients.filter((c) => c.connected).length;
console.log(JSON.stringify({ phase: 'held', holdS: HOLD_MS / 1000, connectedAtEnd: open_, droppedDuringHold: dropped - droppedBeforeHold }));

const stdin = createInterface({ input: process.stdin });
const exit = () => process.exit(0); // the kernel closes every socket
stdin.on('line', (line) => line.trim() === 'stop' && exit());
stdin.on('close', exit);
process.on('SIGTERM', exit);
