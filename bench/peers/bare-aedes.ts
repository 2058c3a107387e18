// Process entry of the "bare aedes" peer: aedes 1.x with its defaults (in-memory persistence and
// mqemitter, no hooks) on a plain net server, nothing else. Comparing it with our broker shows what
// our auth, rules, analytics and guards cost on top of the library they are built on.
//
// ARCHITECTURE.md lets one production file import each outside library (aedes: broker/mqtt/
// server.ts). This file is no production code: it is a benchmark peer, and importing aedes is
// acceptable here, in bench/peers/, only (test/architecture.test.ts skips bench/).
//
// Usage: tsx bench/peers/bare-aedes.ts [--port N] [--host ADDR]   prints "bare-aedes ready: port N"
import { Aedes } from 'aedes';
import { createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } } });

const aedes = await Aedes.createBroker();
const sockets = new Set<Socket>();
const server = createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  aedes.handle(socket);
});
// client errors (a load generator killed mid-run) are expected; an unhandled 'error' would crash
aedes.on('clientError', () => {});
aedes.on('connectionError', () => {});

server.listen(Number(values.port), values.host, () => {
  const address = server.address();
  console.log(`bare-aedes ready: port ${typeof address === 'object' && address ? address.port : values.port}`);
});

const stop = () => {
  server.close();
  for (const socket of sockets) socket.destroy();
  aedes.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
