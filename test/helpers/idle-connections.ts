// A child process that holds many idle MQTT connections to a broker, for soak tests. Each is a bare
// TCP socket that sends one CONNECT (MQTT 3.1.1, clean session) and then only PINGREQs, so ten
// thousand of them cost this process little and the broker all the same as real idle devices.
//
//   node --import tsx test/helpers/idle-connections.ts <port> <count> [keepaliveSeconds]
//
// stdout: JSON lines. {"event":"ready","connected","failed","ms"} once every connection is
// CONNACKed (or failed). stdin commands, one per line: "status" -> {"event":"status","open",
// "closedByBroker"}; "close" -> each sends DISCONNECT and closes; {"event":"closed"}, then exit.
import { connect as tcpConnect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { connectPacket, encode, PINGREQ } from './mqtt-raw.js';

const [portArg, countArg, keepaliveArg] = process.argv.slice(2);
const port = Number(portArg);
const count = Number(countArg);
const keepalive = Number(keepaliveArg ?? 600);
/** CONNECTs waiting for their CONNACK at once: within the broker's accept backlog (511) */
const CONCURRENT = 200;
/** source addresses 127.0.0.2-.9 spread the connections over eight ephemeral port ranges, so ten
 * thousand of them (and the TIME_WAITs a previous run left) never exhaust one */
const SOURCES = 8;

const sockets: Socket[] = [];
let closedByBroker = 0;
let closing = false;

function emit(event: object): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** Connects client `i`; resolves true once CONNACK 0 arrives, false on a refusal or an error. */
function open(i: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ port, host: '127.0.0.1', localAddress: `127.0.0.${2 + (i % SOURCES)}` });
    let acked = false;
    socket.setNoDelay(true);
    socket.once('connect', () => socket.write(encode(connectPacket(`idle-${i}`, { keepalive }))));
    socket.on('data', (chunk: Buffer) => {
      // the first bytes back are the CONNACK (0x20 0x02 flags code); later ones PINGRESPs
      if (acked) return;
      acked = true;
      const ok = chunk[0] === 0x20 && chunk[3] === 0;
      if (ok) sockets.push(socket);
      else socket.destroy();
      resolve(ok);
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      if (!acked) resolve(false);
      else if (!closing) closedByBroker++;
    });
  });
}

async function openAll(): Promise<void> {
  const started = performance.now();
  let next = 0;
  let connected = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      if (await open(next++)) connected++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT, count) }, worker));
  emit({ event: 'ready', connected, failed, ms: Math.round(performance.now() - started) });
}

// keep every connection alive past its keepalive, for runs longer than it
setInterval(() => {
  const ping = encode(PINGREQ);
  for (const s of sockets) if (!s.destroyed) s.write(ping);
}, (keepalive * 1000) / 2).unref();

const commands = createInterface({ input: process.stdin });
commands.on('close', () => closing || process.exit(0)); // the test is gone: so are we
commands.on('line', (line) => {
  if (line === 'status') emit({ event: 'status', open: sockets.filter((s) => !s.destroyed).length, closedByBroker });
  if (line === 'close') {
    closing = true;
    const disconnect = encode({ cmd: 'disconnect' });
    const left = sockets.filter((s) => !s.destroyed);
    let pending = left.length;
    const done = (): void => {
      emit({ event: 'closed' });
      process.exit(0);
    };
    if (pending === 0) done();
    for (const s of left) {
      s.once('close', () => --pending === 0 && done());
      s.end(disconnect);
    }
  }
});

await openAll();
