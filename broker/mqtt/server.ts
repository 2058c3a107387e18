// MQTT 3.1.1 over TCP and WebSocket, on aedes 1.x. The only file that imports aedes.
import { Aedes, type Client } from 'aedes';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { Ingest } from './ingest.js';
import type { Logger } from '../log.js';

export interface MqttServer {
  readonly port: number;
  /** hands a WebSocket stream (from `/mqtt` on the HTTP port) to the broker */
  handleStream(stream: Duplex, request: IncomingMessage): void;
  publish(topic: string, payload: Buffer, qos: 0 | 1): Promise<void>;
  connectedClients(): number;
  close(): Promise<void>;
}

export interface MqttOptions {
  host: string;
  port: number;
  ingest: Ingest;
  log: Logger;
}

export async function startMqtt(opts: MqttOptions): Promise<MqttServer> {
  const { ingest, log } = opts;
  const aedes = await Aedes.createBroker({
    // A subscriber that cannot drain its socket for this long is disconnected instead of
    // stalling delivery to everyone else (a known aedes weakness, see ARCHITECTURE.md).
    drainTimeout: 10_000,
    // AWS IoT limits client ids to 128 bytes.
    maxClientsIdLength: 128,
    authorizePublish(client: Client | null, packet, callback) {
      const pending = client ? ingest.fromDevice(client.id, packet) : undefined;
      if (pending === undefined) return callback(null);
      pending.then(() => callback(null), (err: Error) => callback(err));
    },
    published(packet, client, callback) {
      // Device publishes already went through the rules in authorizePublish; only messages the
      // broker publishes itself (rule republish) reach the rules here, as in AWS IoT.
      if (client) return callback(null);
      const pending = ingest.fromBroker(packet);
      if (pending === undefined) return callback(null);
      pending.then(() => callback(null), () => callback(null)); // already counted and logged
    },
  });

  aedes.on('clientError', (client: Client, err: Error) => {
    log.debug({ clientId: client.id, err: err.message }, 'mqtt client error');
  });
  aedes.on('connectionError', (client: Client, err: Error) => {
    log.debug({ clientId: client?.id, err: err.message }, 'mqtt connection error');
  });

  const sockets = new Set<Socket>();
  const tcp: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(opts.port, opts.host, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  const address = tcp.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;

  return {
    port,
    handleStream(stream, request) {
      aedes.handle(stream, request);
    },
    publish(topic, payload, qos) {
      return new Promise((resolve, reject) => {
        aedes.publish({ cmd: 'publish', topic, payload, qos, retain: false, dup: false }, (err?: Error) => (err ? reject(err) : resolve()));
      });
    },
    connectedClients: () => aedes.connectedClients,
    async close() {
      await new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        // aedes.close disconnects every client; destroy stragglers so close() cannot hang
        aedes.close(() => {
          for (const s of sockets) s.destroy();
        });
      });
    },
  };
}
