// A child process that offers a steady QoS 1 load to a broker, for soak tests: `devices` mqtt.js
// clients publish `soak/<clientId>/data` with bodies {src, n, pad} (n counting 0, 1, 2, ... per
// device) at `rate` messages per second in all, until told to stop; then it waits for every PUBACK.
//
//   node --import tsx test/helpers/qos1-load.ts <port> <devices> <rate> <payloadBytes>
//
// A device with MAX_INFLIGHT publishes unacknowledged skips its turn (counted as `skipped`), so a
// broker that falls behind sees the offered rate, not a growing burst. stdout: JSON lines.
// {"event":"connected"}; {"event":"progress","acked"} each second; after "stop" on stdin,
// {"event":"done","sent","acked","skipped","disconnects","seconds","perDevice":[messages sent by
// device i]}: with no disconnects every sent message was acknowledged, so device i's are
// n = 0..perDevice[i]-1.
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';

const [port, devices, rate, payloadBytes] = process.argv.slice(2).map(Number) as [number, number, number, number];
const MAX_INFLIGHT = 50;

function emit(event: object): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const ids = Array.from({ length: devices }, (_, i) => `soak-load-${i}`);
const clients = await Promise.all(ids.map((clientId) => mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId, clean: true, reconnectPeriod: 0, keepalive: 60 })));
let disconnects = 0;
let ending = false;
for (const c of clients) {
  c.on('error', () => undefined);
  c.on('close', () => ending || disconnects++);
}
emit({ event: 'connected' });

const sentBy = new Array<number>(devices).fill(0);
const inflight = new Array<number>(devices).fill(0);
let sent = 0;
let acked = 0;
let skipped = 0;
let turns = 0;
const pad = 'x'.repeat(Math.max(0, payloadBytes - 60));

const started = performance.now();
const progress = setInterval(() => emit({ event: 'progress', acked }), 1000);
let stopAt = Infinity;
const commands = createInterface({ input: process.stdin });
commands.on('line', (line) => line === 'stop' && (stopAt = (performance.now() - started) / 1000));
commands.on('close', () => stopAt === Infinity && process.exit(0)); // the test is gone: so are we
await new Promise<void>((resolve) => {
  const tick = setInterval(() => {
    const elapsed = (performance.now() - started) / 1000;
    const due = Math.floor(Math.min(elapsed, stopAt) * rate);
    while (turns < due) {
      const d = turns++ % devices;
      if (inflight[d]! >= MAX_INFLIGHT) {
        skipped++;
        continue;
      }
      const n = sentBy[d]!++;
      sent++;
      inflight[d]!++;
      clients[d]!.publish(`soak/${ids[d]}/data`, JSON.stringify({ src: ids[d], n, pad }), { qos: 1 }, (err) => {
        inflight[d]!--;
        if (!err) acked++;
      });
    }
    if (elapsed >= stopAt) {
      clearInterval(tick);
      resolve();
    }
  }, 10);
});
// every PUBACK, or a connection lost (reported, and the test fails on it)
await new Promise<void>((resolve) => {
  const check = setInterval(() => {
    if (inflight.every((f) => f === 0) || disconnects > 0) {
      clearInterval(check);
      resolve();
    }
  }, 20);
});
clearInterval(progress);
emit({ event: 'done', sent, acked, skipped, disconnects, seconds: (performance.now() - started) / 1000, perDevice: sentBy });
ending = true;
await Promise.all(clients.map((c) => c.endAsync()));
process.exit(0);
