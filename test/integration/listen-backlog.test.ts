// A fleet that reconnects at once while the broker is busy: the connections it cannot accept yet
// must wait in the kernel's accept queue. With Node's default queue (511) the kernel drops the
// SYNs beyond it and the devices retry 1, 3, 7 s later; 5,000 devices ramping up in one second
// beside 8,000 msg/s of QoS 1 traffic then timed out by the hundreds (BENCHMARKS.md, fan-in).
//
// The broker is frozen with SIGSTOP (its event loop accepts nothing, the kernel still answers
// handshakes into the queue), 1,200 connections are opened, and every one must be established
// while it is frozen; after SIGCONT every one of them gets its CONNACK.
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { killChildServers, startChildServer, type ChildServer } from '../helpers/child-server.js';
import { connectPacket, encode } from '../helpers/mqtt-raw.js';
import { tempDataDir } from '../helpers/server.js';

const CONNECTIONS = 1200;

/** The kernel caps any listen queue at net.core.somaxconn; below our burst the test means nothing. */
function somaxconn(): number {
  try {
    return Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  } catch {
    return 0;
  }
}

const enough = somaxconn() > CONNECTIONS;
if (!enough) console.warn(`listen-backlog test skipped: net.core.somaxconn is ${somaxconn()}, the kernel would cap any queue below ${CONNECTIONS}`);

(enough ? describe : describe.skip)('the MQTT listener under a connection burst', () => {
  const data = tempDataDir();
  let server: ChildServer;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    const configFile = join(data.dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({}));
    server = await startChildServer(data.dir, configFile);
  }, 90_000);

  afterAll(() => {
    for (const s of sockets) s.destroy();
    if (server?.child.pid) process.kill(server.child.pid, 'SIGCONT');
    killChildServers();
    data.remove();
  });

  it('queues 1,200 connections opened while the broker is frozen, and answers each CONNECT once it runs again', async () => {
    const pid = server.child.pid!;
    process.kill(pid, 'SIGSTOP');
    let established = 0;
    let connacks = 0;
    const allEstablished = new Promise<void>((resolve) => {
      for (let n = 0; n < CONNECTIONS; n++) {
        const socket = connect(server.ports.mqtt, '127.0.0.1');
        sockets.push(socket);
        socket.on('error', () => {});
        socket.once('connect', () => {
          socket.write(encode(connectPacket(`burst-${n}`, { keepalive: 60 })));
          if (++established === CONNECTIONS) resolve();
        });
        // CONNACK: 0x20 0x02, session present 0, return code 0
        socket.once('data', (bytes) => {
          if (bytes[0] === 0x20 && bytes[3] === 0) connacks++;
        });
      }
    });
    // a dropped SYN is retried after 1 s at the earliest: 800 ms tells queued from dropped
    await Promise.race([allEstablished, new Promise((r) => setTimeout(r, 800))]);
    const whileFrozen = established;
    process.kill(pid, 'SIGCONT');
    expect(whileFrozen).toBe(CONNECTIONS);
    const deadline = Date.now() + 30_000;
    while (connacks < CONNECTIONS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(connacks).toBe(CONNECTIONS);
  }, 60_000);
});
