// MQTT 3.1.1 over TCP, TLS and WebSocket, on aedes 1.x. The only file that imports aedes.
// Authentication and policy checks are decided by auth.ts; this file feeds it the facts of each
// connection (TLS client certificate, username/password) and applies its answers to aedes' hooks.
import { Aedes, type Client, type PublishPacket } from 'aedes';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket, type PeerCertificate } from 'node:tls';
import { constants as cryptoConstants } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { Ingest } from './ingest.js';
import type { Logger } from '../log.js';
import { BrokerError } from '../errors.js';
import type { Authorizer, Identity, PresentedCertificate } from './auth.js';
import { createLifecycle, reasonForError, type Lifecycle, type PublisherCounters } from './lifecycle.js';
import type { RetainedReader } from './retained.js';
import { openRetainedStore, type RetainedCounters, type RetainedStore } from './retained-store.js';
import { MAX_QUEUED_PER_CLIENT, openSessionStore, type SessionCounters, type SessionPersistence, type SessionStore } from './session-store.js';
import { checkParserShape, guardWire, type WireLimits } from './wire-guard.js';
import { FANOUT_CONCURRENCY, useConstantTimeQueue } from './fanout-queue.js';
import { guardSlowConsumer } from './slow-consumer.js';
import { AWS_TOPIC_LIMITS, topicLimitProblem, type TopicLimits } from './topic-limits.js';
import { PassThrough } from 'node:stream';

export interface MqttServer {
  readonly port: number;
  /** the MQTT over TLS port, when `tls` was given */
  readonly mqttsPort: number | undefined;
  /** hands a WebSocket stream (from `/mqtt` on the HTTP port) to the broker */
  handleStream(stream: Duplex, request: IncomingMessage): void;
  /** publishes as the broker (no client): a retained one is stored as a device's would be */
  publish(topic: string, payload: Buffer, qos: 0 | 1, retain?: boolean): Promise<void>;
  connectedClients(): number;
  /** messages in aedes' fan-out now: being delivered (at most FANOUT_CONCURRENCY) and queued behind them */
  fanout(): { delivering: number; queued: number };
  /** closes the live connections authenticated as `principal` (a revoked certificate, a changed password) */
  disconnectPrincipal(principal: string): number;
  /** retained messages for the data plane (GetRetainedMessage, ListRetainedMessages) */
  readonly retained: RetainedReader;
  /** retained publishes stored, deleted, refused; messages expired at start-up; compactions */
  readonly retainedCounters: RetainedCounters;
  /** QoS 1 messages queued for clean=false clients, acknowledged, dropped (full queue); compactions */
  readonly sessionCounters: SessionCounters;
  /** lifecycle events ($aws/events/...) published, dropped (queue full) and failed */
  readonly lifecycleCounters: PublisherCounters;
  close(): Promise<void>;
}

/** aedes 1.x has its persistence (aedes-persistence) and client table at runtime but not in its types */
interface AedesInternals {
  /** mqemitter: `current` deliveries running, `length` messages queued behind them */
  mq: { current: number; length: number };
  persistence: { storeRetained(packet: RetainedPublish): Promise<void> };
  clients: Record<string, Client | undefined>;
}

/** what aedes hands its persistence for a retained publish */
interface RetainedPublish {
  cmd: 'publish';
  topic: string;
  payload: Buffer | string;
  qos: number;
  retain: boolean;
  dup: boolean;
}

export interface MqttOptions {
  host: string;
  /** retained messages are kept in <dataDir>/retained.jsonl (retained-store.ts) */
  dataDir: string;
  /** fsync each retained publish before it is acknowledged */
  fsync: boolean;
  /** largest retained payload, bytes (the server's maxPayloadBytes) */
  maxPayloadBytes: number;
  /** retained topics at most (default: AWS's quota, 500,000) */
  maxRetainedMessages?: number;
  port: number;
  ingest: Ingest;
  log: Logger;
  /** the principal a client authenticated as (certificate id), for lifecycle events */
  principalOf?(clientId: string): string | undefined;
  /** MQTT over TLS: the broker's key and certificate (broker/identity/server-tls.ts) */
  tls?: { port: number; keyPem: string; certificatePem: string };
  /** authentication and policies; without it every client may do everything */
  auth?: Authorizer;
  /** told of each connect, disconnect and accepted device publish (fleet activity) */
  activity?: ClientActivitySink;
  /** output a connection may queue before it is closed as a slow consumer (default 2 MiB; slow-consumer.ts) */
  maxQueuedBytesPerClient?: number;
  /** longest topic a device may publish or subscribe to (default AWS's: 256 bytes, 7 slashes; topic-limits.ts) */
  topicLimits?: TopicLimits;
  /** cluster mode (broker/cluster): aedes' message bus and persistence shared through Redis, which then
   * holds retained messages and sessions instead of the journals in dataDir */
  shared?: SharedEngines;
}

/** What cluster mode hands the broker (broker/cluster/redis-engines.ts). */
export interface SharedEngines {
  /** an mqemitter every node shares (mqemitter-redis) */
  readonly mq: unknown;
  /** an aedes persistence every node shares (aedes-persistence-redis) */
  readonly persistence: unknown;
  /** in place of the retained journal: the data plane's reader and the checks of a retained publish */
  readonly retained: RetainedStore;
  /** in place of the session journal: counts only, the sessions are in the shared persistence */
  readonly sessions: SessionStore;
  /** the coded error device publishes are refused with (no PUBACK) while Redis is unreachable */
  refusal(): Error | undefined;
}

/** What the broker tells about its clients; `connection` tells two connections of one id apart. */
export interface ClientActivitySink {
  connected(clientId: string, connection: object): void;
  disconnected(clientId: string, connection: object): void;
  published(clientId: string): void;
}

/** Output one connection may queue (a burst to a briefly slow reader; a few of the largest
 * payloads) before it is closed as a slow consumer. */
const DEFAULT_MAX_QUEUED_BYTES = 2 * 1024 * 1024;

/** Connections the kernel holds for us while the event loop is busy (Node's default is 511; Linux
 * caps it at net.core.somaxconn). A fleet reconnecting at once overflows a short queue, and a
 * dropped SYN is retried only after 1, 3, 7, 15 s: devices time out that a longer queue admits
 * within a second or two. */
export const LISTEN_BACKLOG = 4096;

/** TLS 1.2 with forward-secret AEAD suites only; TLS 1.3's suites are all modern. */
/** What a refused CONNACK's return code means [MQTT-3.2.2.3] (the client sees only the code). */
const CONNACK_TEXT = { 3: 'server unavailable', 4: 'bad username or password', 5: 'not authorized' } as const;

const MODERN_CIPHERS = [
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export async function startMqtt(opts: MqttOptions): Promise<MqttServer> {
  if (opts.shared) return startBroker(opts, opts.shared.retained, opts.shared.sessions);
  // a damaged journal refuses start-up before anything listens (RetainedFileInvalid)
  const retainedStore = openRetainedStore(opts.dataDir, {
    fsync: opts.fsync, maxPayloadBytes: opts.maxPayloadBytes,
    ...(opts.maxRetainedMessages === undefined ? {} : { maxMessages: opts.maxRetainedMessages }),
  });
  if (retainedStore.droppedTornTail) opts.log.warn({ file: retainedStore.path }, 'dropped the torn last line of the retained message journal (a crash while writing it)');
  if (retainedStore.counters.expired > 0) opts.log.info({ expired: retainedStore.counters.expired }, 'deleted retained messages not updated for 3 years');
  let sessionStore: SessionStore | undefined;
  try {
    // clean=false sessions survive a restart (session-store.ts); a damaged journal refuses start-up (SessionFileInvalid)
    sessionStore = openSessionStore(opts.dataDir, { fsync: opts.fsync, onDrop: sessionDropLog(opts.log) });
    if (sessionStore.droppedTornTail) opts.log.warn({ file: sessionStore.path }, 'dropped the torn last line of the MQTT session journal (a crash while writing it)');
    return await startBroker(opts, retainedStore, sessionStore);
  } catch (err) {
    sessionStore?.close();
    retainedStore.close();
    throw err;
  }
}

async function startBroker(opts: MqttOptions, retainedStore: RetainedStore, sessionStore: SessionStore): Promise<MqttServer> {
  const { ingest, log, auth } = opts;
  const topicLimits = opts.topicLimits ?? AWS_TOPIC_LIMITS;
  // Payload buffers of device retained publishes already journaled (before their PUBACK, in
  // authorizePublish), so the persistence hook below does not journal them a second time.
  const journaled = new WeakSet<object>();
  // who each connection is (keyed by aedes' client object) and, for revocation, who uses a principal
  const identities = new WeakMap<Client, Identity>();
  const byPrincipal = new Map<string, Set<Client>>();
  // these need the broker; the hooks below run only once clients connect, after they are set
  let lifecycle: Lifecycle | undefined;
  let internals: AedesInternals | undefined;
  const aedes = await Aedes.createBroker({
    ...(opts.shared ? { mq: opts.shared.mq, persistence: opts.shared.persistence } : {}),
    // A subscriber that cannot drain its socket for this long is disconnected instead of
    // stalling delivery to everyone else (a known aedes weakness, see ARCHITECTURE.md).
    drainTimeout: 10_000,
    // messages the fan-out delivers at once (aedes' default 100; fanout-queue.ts says why more)
    concurrency: FANOUT_CONCURRENCY,
    // A connection that sends no CONNECT within this time is closed (aedes' default is 30 s),
    // so idle or half-written connections cannot pile up.
    connectTimeout: 10_000,
    // AWS IoT limits client ids to 128 bytes.
    maxClientsIdLength: 128,
    preConnect(client, packet, callback) {
      // aedes will close the connection holding this id [MQTT-3.1.4-2]: say why, as AWS does
      const holder = packet.clientId ? internals?.clients[packet.clientId] : undefined;
      if (holder && holder !== client) lifecycle?.noteReason(holder, 'DUPLICATE_CLIENTID');
      callback(null, true);
    },
    authenticate(client, username, password, callback) {
      if (!auth) return callback(null, true);
      const attempt = { clientId: client.id, sourceIp: remoteAddress(client), ...credentials(client, username, password) };
      auth.connect(attempt).then((outcome) => {
        if ('refused' in outcome) {
          log.info({ code: outcome.refused, clientId: client.id, sourceIp: attempt.sourceIp, reason: outcome.message }, 'mqtt connection refused');
          // the client learns only the CONNACK return code, never which check failed
          const err = Object.assign(new Error(CONNACK_TEXT[outcome.returnCode]), { returnCode: outcome.returnCode });
          return callback(err, false);
        }
        if (client.closed) return callback(null, false); // gone while the password was checked: nothing to remember
        remember(client, outcome.identity);
        callback(null, true);
      }, (err: Error) => {
        log.error({ clientId: client.id, err: String(err) }, 'mqtt authentication failed');
        callback(Object.assign(new Error('not authorized'), { returnCode: 5 }), false);
      });
    },
    authorizeSubscribe(client, sub, callback) {
      const tooLong = client ? topicLimitProblem(sub.topic, topicLimits) : undefined;
      if (tooLong !== undefined) {
        log.info({ code: 'TopicTooLong', clientId: client!.id, topicFilter: sub.topic.slice(0, 300), reason: tooLong }, 'subscription refused (SUBACK 0x80)');
        return callback(null, null);
      }
      const identity = client ? identities.get(client) : undefined;
      if (!auth || !client || identity?.kind === 'anonymous') return callback(null, sub);
      if (identity && auth.allows(identity, 'iot:Subscribe', `topicfilter/${sub.topic}`)) return callback(null, sub);
      log.warn({ code: 'SubscribeNotAuthorized', clientId: client.id, principal: identity?.principal, topicFilter: sub.topic }, 'subscribe not authorized, connection closed');
      // an error (not a null subscription, which would be a SUBACK 0x80) makes aedes close the connection, as AWS IoT does
      callback(new BrokerError('SubscribeNotAuthorized', `client ${client.id} may not subscribe to ${sub.topic}`), null);
    },
    authorizeForward(client, packet) {
      if (!auth) return packet;
      const identity = identities.get(client);
      if (identity === undefined || identity.kind === 'anonymous') return packet;
      // checked on every delivery, so detaching a policy stops live subscriptions (counted by auth.ts)
      return auth.allows(identity, 'iot:Receive', `topic/${packet.topic}`) ? packet : null;
    },
    authorizePublish(client: Client | null, packet, callback) {
      const tooLong = client ? topicLimitProblem(packet.topic, topicLimits) : undefined;
      if (tooLong !== undefined) {
        log.warn({ code: 'TopicTooLong', clientId: client!.id, topic: packet.topic.slice(0, 300), reason: tooLong }, 'publish refused, connection closed');
        return callback(new BrokerError('TopicTooLong', `client ${client!.id} published to a ${tooLong}`));
      }
      if (client && auth && !mayPublish(client, packet.topic, packet.retain === true)) {
        return callback(new BrokerError('PublishNotAuthorized', `client ${client.id} may not publish to ${packet.topic}`));
      }
      if (!client) return callback(null);
      // cluster mode without Redis: fan-out, sessions and channel writes all need it
      const unshared = opts.shared?.refusal();
      if (unshared) return callback(unshared);
      const retain = packet.retain === true;
      const payload = toBuffer(packet.payload);
      // a retained publish the store would refuse (quota, size, reserved topic) is refused before the rules see it
      if (retain && !admitted(client, () => retainedStore.admit(packet.topic, payload), callback)) return;
      const pending = ingest.fromDevice(client.id, packet);
      if (pending === undefined) return accepted(client, packet, payload, callback);
      // an inline arrow: tsx wraps every named function value in __name(), per message here
      pending.then(() => accepted(client, packet, payload, callback), (err: Error) => callback(err));
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

  /** The rules took the device's publish: journal a retained one, then let aedes PUBACK it. */
  function accepted(client: Client, packet: PublishPacket, payload: Buffer, callback: (error?: Error | null) => void): void {
    const retain = packet.retain === true;
    // journaled before the PUBACK: an acknowledged retained message survives a crash
    if (retain && !admitted(client, () => retainedStore.put(packet.topic, payload, packet.qos), callback)) return;
    if (retain && typeof packet.payload === 'object') journaled.add(packet.payload);
    opts.activity?.published(client.id);
    callback(null);
  }

  /** runs a retained-store step; a coded refusal closes the connection without PUBACK */
  function admitted(client: Client, step: () => unknown, callback: (err: Error) => void): boolean {
    try {
      step();
      return true;
    } catch (err) {
      log.warn({ code: (err as BrokerError).code, clientId: client.id, err: (err as Error).message }, 'retained publish refused, connection closed');
      callback(err as Error);
      return false;
    }
  }

  function mayPublish(client: Client, topic: string, retain: boolean): boolean {
    const identity = identities.get(client);
    if (identity?.kind === 'anonymous') return true;
    const resource = `topic/${topic}`;
    if (identity && auth!.allows(identity, 'iot:Publish', resource) && (!retain || auth!.allows(identity, 'iot:RetainPublish', resource))) return true;
    log.warn({ code: 'PublishNotAuthorized', clientId: client.id, principal: identity?.principal, topic, retain }, 'publish not authorized, connection closed');
    return false;
  }

  function remember(client: Client, identity: Identity): void {
    identities.set(client, identity);
    if (identity.kind === 'anonymous') return;
    let clients = byPrincipal.get(identity.principal);
    if (!clients) byPrincipal.set(identity.principal, (clients = new Set()));
    clients.add(client);
    const forget = () => {
      clients.delete(client);
      if (clients.size === 0 && byPrincipal.get(identity.principal) === clients) byPrincipal.delete(identity.principal);
    };
    (client.conn as Duplex).once('close', forget);
  }

  internals = aedes as unknown as AedesInternals;
  if (!useConstantTimeQueue(internals.mq)) log.warn({}, 'the fan-out queue is not the one expected (another mqemitter version?): a deep backlog drains slowly');
  // Retained messages: the journal's are loaded into aedes' persistence before any client can
  // connect, then every retained store aedes makes goes through the journal first (data-plane
  // publishes, rule republishes; a device's was journaled in authorizePublish).
  const persistence = internals.persistence;
  const keepInMemory = persistence.storeRetained.bind(persistence);
  for (const m of retainedStore.messages()) {
    await keepInMemory({ cmd: 'publish', topic: m.topic, payload: m.payload, qos: m.qos, retain: true, dup: false });
  }
  persistence.storeRetained = async (packet) => {
    if (!journaled.delete(packet.payload as object)) retainedStore.put(packet.topic, toBuffer(packet.payload), packet.qos);
    return keepInMemory(packet);
  };
  // Sessions of clean=false clients: the journal's are loaded before any client can connect,
  // then their subscription changes and queued QoS 1 messages are journaled (session-store.ts).
  await sessionStore.attach(internals.persistence as unknown as SessionPersistence);

  const events = createLifecycle({
    publish: (topic, payload) => new Promise((resolve, reject) => {
      aedes.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (err?: Error) => (err ? reject(err) : resolve()));
    }),
    principalOf: (clientId) => {
      const client = internals?.clients[clientId];
      return (client && identities.get(client)?.principalIdentifier) ?? opts.principalOf?.(clientId);
    },
  });
  lifecycle = events;
  aedes.on('client', (client: Client) => {
    opts.activity?.connected(client.id, client);
    events.connected(client, client.id, remoteAddress(client));
  });
  aedes.on('clientDisconnect', (client: Client) => {
    opts.activity?.disconnected(client.id, client);
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
  // cluster mode: a persistence call failed (Redis gone); unheard, aedes' 'error' event would throw
  if (opts.shared) (aedes as unknown as NodeJS.EventEmitter).on('error', (err: Error) => log.warn({ code: 'ClusterUnavailable', err: err.message }, 'mqtt broker error'));

  // Checks MQTT asks for that aedes' codec leaves out (wire-guard.ts) on every connection. A
  // PUBLISH longer than the payload limit plus the longest topic and a packet id is refused
  // before its bytes are buffered.
  const wireLimits: WireLimits = {
    maxPublishBytes: opts.maxPayloadBytes + 2 + 65_535 + 2,
    refused(reason, detail) {
      if (reason === 'PacketTooLarge' && detail.cmd === 'publish') {
        ingest.counters.oversized++; // the same refusal as ingest.ts's, only earlier
        log.warn({ code: 'PayloadTooLarge', bytes: detail.bytes, limit: opts.maxPayloadBytes }, 'publish refused before it was read, connection closed');
      } else {
        log.debug({ reason, cmd: detail.cmd }, 'malformed mqtt packet, connection closed');
      }
    },
  };
  const maxQueuedBytes = opts.maxQueuedBytesPerClient ?? DEFAULT_MAX_QUEUED_BYTES;
  const handle = (stream: Duplex, request?: IncomingMessage) => {
    const client = aedes.handle(stream, request);
    // a subscriber that stops reading is closed instead of stalling everyone (slow-consumer.ts)
    guardSlowConsumer(stream, maxQueuedBytes, (err) => {
      lifecycle?.noteReason(client, 'THROTTLED');
      log.warn({ clientId: client.id, queuedBytes: err.queuedBytes, limit: err.maxQueuedBytes }, 'slow consumer: connection closed');
    });
    return guardWire(client, stream, wireLimits);
  };
  // a codec upgrade that renamed what the guard wraps fails here, not silently per connection
  const probe = new PassThrough();
  checkParserShape(aedes.handle(probe));
  probe.destroy();

  const sockets = new Set<Socket>();
  const tcp: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen({ port: opts.port, host: opts.host, backlog: LISTEN_BACKLOG }, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  const address = tcp.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;

  // MQTT over TLS. Client certificates are requested but not verified by OpenSSL against a CA
  // list: auth.ts identifies a certificate by its registration here (the handshake has already
  // proved the client holds its key) and refuses an unregistered one at CONNECT.
  let tlsServer: ReturnType<typeof createTlsServer> | undefined;
  let mqttsPort: number | undefined;
  if (opts.tls) {
    const server = createTlsServer({
      key: opts.tls.keyPem, cert: opts.tls.certificatePem, requestCert: true, rejectUnauthorized: false,
      minVersion: 'TLSv1.2', ciphers: MODERN_CIPHERS, honorCipherOrder: true, handshakeTimeout: 10_000,
      // no renegotiation at all (TLS 1.2's was a DoS and injection vector; TLS 1.3 has none)
      secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION,
    }, (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      handle(socket);
    });
    server.on('tlsClientError', (err) => log.debug({ err: err.message }, 'mqtts handshake failed'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: opts.tls!.port, host: opts.host, backlog: LISTEN_BACKLOG }, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch(async (err: unknown) => {
      await new Promise((resolve) => tcp.close(resolve));
      throw err;
    });
    const tlsAddress = server.address();
    mqttsPort = typeof tlsAddress === 'object' && tlsAddress ? tlsAddress.port : opts.tls.port;
    tlsServer = server;
  }

  return {
    port,
    mqttsPort,
    handleStream(stream, request) {
      handle(stream, request);
    },
    publish(topic, payload, qos, retain = false) {
      return new Promise((resolve, reject) => {
        aedes.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false }, (err?: Error) => (err ? reject(err) : resolve()));
      });
    },
    connectedClients: () => aedes.connectedClients,
    fanout: () => ({ delivering: internals!.mq.current, queued: internals!.mq.length }),
    disconnectPrincipal(principal) {
      const clients = [...(byPrincipal.get(principal) ?? [])];
      for (const client of clients) {
        events.noteReason(client, 'AUTH_ERROR');
        client.close();
      }
      if (clients.length > 0) log.info({ principal, connections: clients.length }, 'credential no longer valid: connections closed');
      return clients.length;
    },
    retained: retainedStore,
    retainedCounters: retainedStore.counters,
    sessionCounters: sessionStore.counters,
    lifecycleCounters: events.counters,
    async close() {
      events.shuttingDown();
      await new Promise<void>((resolve) => {
        tlsServer?.close();
        tcp.close(() => resolve());
        // aedes.close disconnects every client; destroy stragglers so close() cannot hang
        aedes.close(() => {
          for (const s of sockets) s.destroy();
        });
      });
      events.close(); // the broker is gone: what is still queued cannot be delivered
      retainedStore.close();
      sessionStore.close();
    },
  };
}

/** Logs messages dropped from full session queues: at most one line a second, with how many were
 * dropped since the last one (a client away for long can overflow its queue at the publish rate). */
function sessionDropLog(log: Logger): (clientId: string) => void {
  let unlogged = 0;
  let lastAt = 0;
  return (clientId) => {
    unlogged++;
    const now = Date.now();
    if (now - lastAt < 1000) return;
    log.warn({ code: 'SessionQueueFull', clientId, dropped: unlogged }, `oldest QoS 1 messages dropped from full clean=false session queues (${MAX_QUEUED_PER_CLIENT} per client)`);
    unlogged = 0;
    lastAt = now;
  };
}

/** The credentials a CONNECT carries: the TLS client certificate, a username with a password. */
function credentials(client: Client, username: string | undefined, password: Buffer | undefined): { certificate?: PresentedCertificate; username?: string; password?: string } {
  const out: { certificate?: PresentedCertificate; username?: string; password?: string } = {};
  if (client.conn instanceof TLSSocket) {
    const peer = client.conn.getPeerCertificate();
    if (peer && peer.raw) {
      out.certificate = {
        der: new Uint8Array(peer.raw), validFrom: new Date(peer.valid_from), validTo: new Date(peer.valid_to),
        subject: distinguishedName(peer.subject), issuer: distinguishedName(peer.issuer), serialNumber: peer.serialNumber,
      };
    }
  }
  if (username !== undefined) out.username = username;
  if (password !== undefined) out.password = password.toString('utf8');
  return out;
}

/** OpenSSL's short attribute names → the names of AWS's certificate policy variables */
const DN_NAMES: Record<string, string> = {
  CN: 'CommonName', O: 'Organization', OU: 'OrganizationalUnit', C: 'Country', ST: 'State', L: 'Locality',
  serialNumber: 'SerialNumber', title: 'Title', SN: 'Surname', GN: 'GivenName', initials: 'Initials',
  pseudonym: 'Pseudonym', generationQualifier: 'GenerationQualifier', dnQualifier: 'DistinguishedNameQualifier',
};

function distinguishedName(dn: PeerCertificate['subject'] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(dn ?? {})) {
    const name = DN_NAMES[key];
    if (name !== undefined && value !== undefined) out[name] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return out;
}

function toBuffer(payload: Buffer | string): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload) : payload;
}

/** The client's IP address as AWS reports it: no port, IPv4 without the ::ffff: prefix. */
function remoteAddress(client: Client): string {
  const socket = client.req?.socket ?? (client.conn as { remoteAddress?: string });
  const address = (socket as { remoteAddress?: string } | undefined)?.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
