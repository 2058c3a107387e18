import {
  connectedEvent, createBoundedPublisher, createLifecycle, createVersionCounter, disconnectedEvent,
  emitsLifecycle, lifecycleTopic, reasonForError, subscriptionEvent, type Session,
} from '../../../broker/mqtt/lifecycle.js';
import { endpointHost } from '../../../broker/http/routes/iot-endpoint.js';
import { createIngest } from '../../../broker/mqtt/ingest.js';

const session: Session = { clientId: 'dev1', sessionIdentifier: 'abc', principalIdentifier: 'p1', versionNumber: 3 };

describe('lifecycle event payloads', () => {
  it('builds the connected event with exactly the documented fields', () => {
    expect(connectedEvent(session, '192.0.2.0', 1573002230757)).toEqual({
      clientId: 'dev1', timestamp: 1573002230757, eventType: 'connected', sessionIdentifier: 'abc',
      principalIdentifier: 'p1', ipAddress: '192.0.2.0', versionNumber: 3,
    });
  });

  it('builds the disconnected event without ipAddress and with the reason', () => {
    const clean = disconnectedEvent(session, 'CLIENT_INITIATED_DISCONNECT', 5);
    expect(clean).toEqual({
      clientId: 'dev1', timestamp: 5, eventType: 'disconnected', clientInitiatedDisconnect: true,
      sessionIdentifier: 'abc', principalIdentifier: 'p1', disconnectReason: 'CLIENT_INITIATED_DISCONNECT', versionNumber: 3,
    });
    expect(disconnectedEvent(session, 'CONNECTION_LOST', 5)).toMatchObject({ clientInitiatedDisconnect: false, disconnectReason: 'CONNECTION_LOST' });
  });

  it('builds subscription events with their topics', () => {
    expect(subscriptionEvent(session, 'unsubscribed', ['a/#'], 7)).toEqual({
      clientId: 'dev1', timestamp: 7, eventType: 'unsubscribed', sessionIdentifier: 'abc', principalIdentifier: 'p1', topics: ['a/#'],
    });
  });

  it('names the four event topics as AWS does', () => {
    expect(lifecycleTopic('connected', 'x')).toBe('$aws/events/presence/connected/x');
    expect(lifecycleTopic('disconnected', 'x')).toBe('$aws/events/presence/disconnected/x');
    expect(lifecycleTopic('subscribed', 'x')).toBe('$aws/events/subscriptions/subscribed/x');
    expect(lifecycleTopic('unsubscribed', 'x')).toBe('$aws/events/subscriptions/unsubscribed/x');
  });

  it('sends no events for client ids holding MQTT wildcards', () => {
    expect(emitsLifecycle('a+b')).toBe(false);
    expect(emitsLifecycle('a#')).toBe(false);
    expect(emitsLifecycle('dev-1')).toBe(true);
  });

  it('maps the errors that end a connection to AWS disconnect reasons', () => {
    expect(reasonForError({ code: 'PayloadTooLarge' })).toBe('CLIENT_ERROR');
    expect(reasonForError({ code: 'ReservedTopic' })).toBe('FORBIDDEN_ACCESS');
    expect(reasonForError({ code: 'IngestFailed' })).toBe('SERVER_ERROR');
    expect(reasonForError({ code: 'ECONNRESET', message: 'read ECONNRESET' })).toBe('CONNECTION_LOST');
    expect(reasonForError({ message: 'keep alive timeout' })).toBe('MQTT_KEEP_ALIVE_TIMEOUT');
    expect(reasonForError({ message: 'Invalid header flag bits' })).toBe('CLIENT_ERROR');
  });
});

describe('the bounded lifecycle publisher', () => {
  it('publishes queued messages with at most `concurrency` in flight', async () => {
    const releases: (() => void)[] = [];
    const seen: string[] = [];
    const pub = createBoundedPublisher((topic) => new Promise<void>((r) => { seen.push(topic); releases.push(r); }), { maxQueued: 10, concurrency: 2 });
    for (const t of ['a', 'b', 'c']) expect(pub.offer(t, Buffer.alloc(0))).toBe(true);
    expect(seen).toEqual(['a', 'b']);
    releases.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['a', 'b', 'c']);
    releases.splice(0).forEach((r) => r());
    await pub.idle();
    expect(pub.counters).toEqual({ published: 3, dropped: 0, failed: 0 });
  });

  it('drops and counts what does not fit in the queue instead of growing it', () => {
    const pub = createBoundedPublisher(() => new Promise<void>(() => {}), { maxQueued: 2, concurrency: 1 });
    const accepted = Array.from({ length: 10 }, (_, i) => pub.offer(`t${i}`, Buffer.alloc(0)));
    // one in flight, two queued, the other seven dropped
    expect(accepted.filter(Boolean)).toHaveLength(3);
    expect(pub.counters.dropped).toBe(7);
    expect(pub.pending()).toBe(3);
  });

  it('counts a failed publish and goes on with the next', async () => {
    let n = 0;
    const pub = createBoundedPublisher(() => (n++ === 0 ? Promise.reject(new Error('gone')) : Promise.resolve()), { maxQueued: 5, concurrency: 1 });
    pub.offer('a', Buffer.alloc(0));
    pub.offer('b', Buffer.alloc(0));
    await pub.idle();
    expect(pub.counters).toEqual({ published: 1, dropped: 0, failed: 1 });
  });

  it('drops what is still queued when closed and refuses later offers', () => {
    const pub = createBoundedPublisher(() => new Promise<void>(() => {}), { maxQueued: 5, concurrency: 1 });
    pub.offer('a', Buffer.alloc(0));
    pub.offer('b', Buffer.alloc(0));
    pub.close();
    expect(pub.offer('c', Buffer.alloc(0))).toBe(false);
    expect(pub.counters.dropped).toBe(2);
  });
});

describe('versionNumber per client id', () => {
  it('increases with each connect and restarts after an hour without a connection', () => {
    let t = 0;
    const versions = createVersionCounter({ resetAfterMs: 3_600_000, maxClients: 10 }, () => t);
    expect(versions.next('a')).toBe(0);
    expect(versions.next('a')).toBe(1);
    expect(versions.next('b')).toBe(0);
    t += 3_000_000;
    versions.ended('a');
    t += 3_000_000; // 50 minutes after the disconnect: still remembered
    expect(versions.next('a')).toBe(2);
    t += 3_600_000;
    expect(versions.next('a')).toBe(0);
  });

  it('remembers at most maxClients ids, forgetting the least recently connected', () => {
    const versions = createVersionCounter({ resetAfterMs: 3_600_000, maxClients: 2 }, () => 0);
    versions.next('a');
    versions.next('b');
    versions.next('a');
    versions.next('c'); // evicts b
    expect(versions.size()).toBe(2);
    expect(versions.next('a')).toBe(2);
    expect(versions.next('b')).toBe(0);
  });
});

describe('the lifecycle tracker', () => {
  function tracker() {
    const sent: { topic: string; body: any }[] = [];
    const lifecycle = createLifecycle({
      publish: async (topic, payload) => { sent.push({ topic, body: JSON.parse(payload.toString()) }); },
      principalOf: (id) => (id === 'cert-dev' ? 'f00d' : undefined),
      now: () => 1000,
    });
    return { sent, lifecycle };
  }

  it('shares a session identifier and version between a connect and its disconnect', async () => {
    const { sent, lifecycle } = tracker();
    const client = {};
    lifecycle.connected(client, 'cert-dev', '10.0.0.1');
    lifecycle.subscribed(client, ['a/b']);
    lifecycle.disconnected(client, 'CONNECTION_LOST');
    await lifecycle.idle();
    expect(sent.map((m) => m.topic)).toEqual([
      '$aws/events/presence/connected/cert-dev', '$aws/events/subscriptions/subscribed/cert-dev', '$aws/events/presence/disconnected/cert-dev',
    ]);
    const [connected, subscribed, disconnected] = sent.map((m) => m.body);
    expect(connected).toMatchObject({ principalIdentifier: 'f00d', ipAddress: '10.0.0.1', versionNumber: 0, timestamp: 1000 });
    expect(connected.sessionIdentifier).toMatch(/^[0-9a-f]{32}$/);
    expect(subscribed.sessionIdentifier).toBe(connected.sessionIdentifier);
    expect(disconnected).toMatchObject({ sessionIdentifier: connected.sessionIdentifier, versionNumber: 0, disconnectReason: 'CONNECTION_LOST' });
  });

  it('reports the first noted cause of a disconnect, and the server\'s when shutting down', async () => {
    const { sent, lifecycle } = tracker();
    const a = {};
    const b = {};
    lifecycle.connected(a, 'a', '');
    lifecycle.connected(b, 'b', '');
    lifecycle.noteReason(a, 'MQTT_KEEP_ALIVE_TIMEOUT');
    lifecycle.noteReason(a, 'CONNECTION_LOST');
    lifecycle.disconnected(a, 'CONNECTION_LOST');
    lifecycle.shuttingDown();
    lifecycle.disconnected(b, 'CONNECTION_LOST');
    await lifecycle.idle();
    expect(sent.slice(2).map((m) => m.body.disconnectReason)).toEqual(['MQTT_KEEP_ALIVE_TIMEOUT', 'SERVER_INITIATED_DISCONNECT']);
  });

  it('increments versionNumber across reconnects of the same client id', async () => {
    const { sent, lifecycle } = tracker();
    for (let i = 0; i < 3; i++) {
      const c = {};
      lifecycle.connected(c, 'dev', '');
      lifecycle.disconnected(c, 'CLIENT_INITIATED_DISCONNECT');
    }
    await lifecycle.idle();
    expect(sent.filter((m) => m.body.eventType === 'connected').map((m) => m.body.versionNumber)).toEqual([0, 1, 2]);
  });
});

describe('devices and lifecycle topics', () => {
  it('refuses a device publish on $aws/events/ as a reserved topic', async () => {
    const ingest = createIngest({ handle: () => undefined }, 1024, { error() {}, warn() {}, info() {}, debug() {} });
    await expect(ingest.fromDevice('c', { topic: '$aws/events/presence/connected/x', payload: '{}' })).rejects.toMatchObject({ code: 'ReservedTopic' });
    expect(ingest.counters.reserved).toBe(1);
  });
});

describe('the DescribeEndpoint host', () => {
  it('uses the configured host unless it is a wildcard, then the Host header, then localhost', () => {
    expect(endpointHost('iot.example.com', 'other:1')).toBe('iot.example.com');
    expect(endpointHost('0.0.0.0', 'box.lan:8080')).toBe('box.lan');
    expect(endpointHost('::', undefined)).toBe('localhost');
    expect(endpointHost('::1', undefined)).toBe('[::1]');
  });
});
