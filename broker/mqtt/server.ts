// MQTT 3.1.1 over TCP and WebSocket, on aedes 1.x. The only file that imports aedes.
import { Aedes, type Client } from 'aedes';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { Ingest } from './ingest.js';
import type { Logger } from '../log.js';
import { createLifecycle, reasonForError, type Lifecycle, type PublisherCounters } from './lifecycle.js';
import { createRetainedStore, type RetainedPacket, type RetainedStore } from './retained.js';

export interface MqttServer {
  readonly port: number;
  /** hands a WebSocket stream (from `/mqtt` on the HTTP port) to the broker */
  handleStream(stream: Duplex, request: IncomingMessage): void;
  publish(topic: string, payload: Buffer, qos: 0 | 1): Promise<void>;
  connectedClients(): number;
  /** retained messages for the data plane (GetRetainedMessage, ListRetainedMessages) */
  readonly retained: RetainedStore;
  /** lifecycle events ($aws/events/...) published, dropped (queue full) and failed */
  readonly lifecycleCounters: PublisherCounters;
  close(): Promise<void>;
}

/** aedes 1.x has its persistence (aedes-persistence) and client table at runtime but not in its types */
interface AedesInternals {
  persistence: { createRetainedStream(pattern: string): AsyncIterable<RetainedPacket> };
  clients: Record<string, Client | undefined>;
}

export interface MqttOptions {
  host: string;
  port: number;
  ingest: Ingest;
  log: Logger;
  /** the principal a client authenticated as (certificate id), for lifecycle events */
  principalOf?(clientId: string): string | undefined;
}

export async function startMqtt(opts: MqttOptions): Promise<MqttServer> {
  const { ingest, log } = opts;
  // these need the broker; the hooks below run only once clients connect, after they are set
  let retained: RetainedStore | undefined;
  let lifecycle: Lifecycle | undefined;
  let internals: AedesInternals | undefined;
  const aedes = await Aedes.createBroker({
    // A subscriber that cannot drain its socket for this long is disconnected instead of
    // stalling delivery to everyone else (a known aedes weakness, see ARCHITECTURE.md).
    drainTimeout: 10_000,
    // AWS IoT limits client ids to 128 bytes.
    maxClientsIdLength: 128,
    preConnect(client, packet, callback) {
      // aedes will close the connection holding this id [MQTT-3.1.4-2]: say why, as AWS does
      const holder = packet.clientId ? internals?.clients[packet.clientId] : undefined;
      if (holder && holder !== client) lifecycle?.noteReason(holder, 'DUPLICATE_CLIENTID');
      callback(null, true);
    },
    authorizePublish(client: Client | null, packet, callback) {
      const pending = client ? ingest.fromDevice(client.id, packet) : undefined;
      if (pending === undefined) return callback(null);
      pending.then(() => callback(null), (err: Error) => callback(err));
    },
    published(packet, client, callback) {
      if (packet.retain) retained?.stored(packet.topic, packet.payload);
      // Device publishes already went through the rules in authorizePublish; only messages the
      // broker publishes itself (rule republish) reach the rules here, as in AWS IoT.
      if (client) return callback(null);
      const pending = ingest.fromBroker(packet);
      if (pending === undefined) return callback(null);
      pending.then(() => callback(null), () => callback(null)); // already counted and logged
    },
  });

  internals = aedes as unknown as AedesInternals;
  const persistence = internals.persistence;
  retained = createRetainedStore((pattern) => persistence.createRetainedStream(pattern));
  const retainedStore = retained;

  const events = createLifecycle({
    publish: (topic, payload) => new Promise((resolve, reject) => {
      aedes.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (err?: Error) => (err ? reject(err) : resolve()));
    }),
    ...(opts.principalOf ? { principalOf: opts.principalOf } : {}),
  });
  lifecycle = events;
  aedes.on('client', (client: Client) => events.connected(client, client.id, remoteAddress(client)));
  aedes.on('clientDisconnect', (client: Client) => {
    // aedes marks a client that sent DISCONNECT (lib/handlers/index.js); no public accessor
    const clean = (client as unknown as { _disconnected?: boolean })._disconnected === true;
    events.disconnected(client, clean ? 'CLIENT_INITIATED_DISCONNECT' : 'CONNECTION_LOST');
  });
  aedes.on('keepaliveTimeout', (client: Client) => events.noteReason(client, 'MQTT_KEEP_ALIVE_TIMEOUT'));
  aedes.on('subscribe', (subs: { topic: string; qos: number }[], client: Client) => {
    events.subscribed(client, subs.filter((s) => s.qos !== 128).map((s) => s.topic));
  });
  aedes.on('unsubscribe', (topics: string[], client: Client) => {
    // aedes also "unsubscribes" everything when a connection ends: that is no UNSUBSCRIBE
    if (!client.closed) events.unsubscribed(client, topics);
  });

  aedes.on('clientError', (client: Client, err: Error) => {
    events.noteReason(client, reasonForError(err as Error & { code?: unknown }));
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
    retained: retainedStore,
    lifecycleCounters: events.counters,
    async close() {
      events.shuttingDown();
      await new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        // aedes.close disconnects every client; destroy stragglers so close() cannot hang
        aedes.close(() => {
          for (const s of sockets) s.destroy();
        });
      });
      events.close(); // the broker is gone: what is still queued cannot be delivered
    },
  };
}

/** The client's IP address as AWS reports it: no port, IPv4 without the ::ffff: prefix. */
function remoteAddress(client: Client): string {
  const socket = client.req?.socket ?? (client.conn as { remoteAddress?: string });
  const address = (socket as { remoteAddress?: string } | undefined)?.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
