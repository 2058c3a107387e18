// Process entry of the fan-in benchmark's one subscriber: subscribes to the simulator's telemetry
// topic filter and measures what the broker delivers (count, rate) and publish-to-delivery latency
// from the `ts` (epoch ms, Date.now() at publish) every simulated device puts in its payload.
//
// The steady state starts when a message from every one of the --devices publishers has arrived
// (each publishes at least once a second, so the fleet is connected): the rate and the latency
// percentiles cover it alone, so the connection phase of a large fleet does not blur them. When
// some devices never get through, they cover the whole run and `steady` is false.
//
// Usage: tsx bench/peers/fanin-subscriber.ts --url mqtt://127.0.0.1:N --qos 0|1 --devices N [--topic F]
// stdout: "ready" after the SUBACK, "count N" every 250 ms, "steady" once; on "stop" (a line on
// stdin) or when stdin closes, one JSON line with the summary, then it exits.
import { connect } from 'mqtt';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    qos: { type: 'string', default: '0' },
    devices: { type: 'string', default: '0' },
    topic: { type: 'string', default: 'devices/+/telemetry' },
  },
});
if (!values.url) throw new Error('--url is required');
const qos = values.qos === '1' ? 1 : 0;

/** Latency histogram in whole milliseconds (both clocks are Date.now()): exact percentiles at ms
 * resolution with no per-message allocation; the last bucket holds everything beyond a minute. */
const MAX_MS = 60_000;
const histogram = new Uint32Array(MAX_MS + 1);
let count = 0;
let unparsed = 0;
/** latencies in the histogram (those of the steady state once it began) */
let recorded = 0;
let firstAt = 0;
let lastAt = 0;
let disconnects = 0;
let ready = false;
const DEVICES = Number(values.devices);
/** topics seen until every device was heard from; then dropped */
let publishers: Set<string> | null = new Set();
let steady = false;
let steadyCount = 0;
let steadyAt = 0;

const TS = Buffer.from('"ts":');

/** The `ts` number, read from the bytes without JSON.parse: the subscriber must not become the
 * bottleneck it measures. NaN when absent. */
function tsOf(payload: Buffer): number {
  const at = payload.indexOf(TS);
  if (at < 0) return NaN;
  let value = 0;
  let digits = 0;
  for (let i = at + TS.length; i < payload.length; i++) {
    const c = payload[i];
    if (c < 48 || c > 57) break;
    value = value * 10 + (c - 48);
    digits++;
  }
  return digits ? value : NaN;
}

const client = connect(values.url, {
  clientId: `fanin-subscriber-${process.pid}`,
  protocolVersion: 4,
  clean: true,
  keepalive: 60,
  reconnectPeriod: 500,
  log: () => {}, // mqtt.js traces every packet through `debug` even when tracing is off: the subscriber's CPU
});
client.on('connect', () => {
  client.subscribe(values.topic!, { qos }, (err) => {
    if (err) {
      console.error(`subscribe failed: ${err.message}`);
      process.exit(1);
    }
    if (!ready) console.log('ready');
    ready = true;
  });
});
// a broker closing a slow subscriber (or any other drop) is counted: deliveries are lost meanwhile
/** why the connection ended or failed, a few distinct reasons, for the bench's notes */
const reasons = new Set<string>();
client.on('close', () => {
  if (ready) disconnects++;
});
client.on('error', (err) => {
  if (reasons.size < 3) reasons.add(err.message);
});
client.on('disconnect', () => {
  if (reasons.size < 3) reasons.add('DISCONNECT from the broker');
});
client.on('message', (topic, payload) => {
  const now = Date.now();
  if (count === 0) firstAt = now;
  lastAt = now;
  count++;
  if (publishers) {
    publishers.add(topic);
    if (publishers.size >= DEVICES) {
      publishers = null;
      steady = true;
      steadyAt = now;
      steadyCount = count;
      histogram.fill(0);
      recorded = 0;
      console.log('steady');
    }
  }
  const ts = tsOf(payload);
  if (Number.isNaN(ts)) {
    unparsed++;
    return;
  }
  const ms = now - ts;
  histogram[ms < 0 ? 0 : ms > MAX_MS ? MAX_MS : ms]++;
  recorded++;
});

const progress = setInterval(() => console.log(`count ${count}`), 250);

function percentile(p: number): number | null {
  if (recorded === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * recorded));
  let seen = 0;
  for (let ms = 0; ms <= MAX_MS; ms++) {
    seen += histogram[ms];
    if (seen >= rank) return ms;
  }
  return MAX_MS;
}

let reported = false;
function report(): void {
  if (reported) return;
  reported = true;
  clearInterval(progress);
  // the steady window starts with the message that completed the set (counted in it)
  const from = steady ? { at: steadyAt, count: steadyCount - 1 } : { at: firstAt, count: 0 };
  const spanS = (lastAt - from.at) / 1000;
  const summary = {
    count, unparsed, firstAt, lastAt, disconnects, reasons: [...reasons], steady,
    ratePerS: spanS > 0 ? (count - from.count) / spanS : null,
    latencyMs: { p50: percentile(50), p99: percentile(99), max: percentile(100) },
  };
  console.log(JSON.stringify(summary));
  client.end(true, () => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}

const stdin = createInterface({ input: process.stdin });
stdin.on('line', (line) => {
  if (line.trim() === 'stop') report();
});
stdin.on('close', report);
process.on('SIGTERM', report);
process.on('SIGINT', report);
