// Device authentication and policy enforcement on MQTT, end to end: the real server with
// security on (no IOT_ALLOW_ANONYMOUS), certificates and policies made with @aws-sdk/client-iot,
// devices connecting with mqtt.js over TLS (our CA's certificate fetched from the server) or with
// a device password over plain TCP.
import { KeyObject } from 'node:crypto';
import {
  AttachPolicyCommand, AttachThingPrincipalCommand, CreateKeysAndCertificateCommand, CreatePolicyCommand, CreateThingCommand, IoTClient,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import mqtt, { type MqttClient } from 'mqtt';
import type { RunningServer } from '../../broker/index.js';
import { awsClientConfig, signedFetch } from '../helpers/aws.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';
// loaded after the server modules, which install the reflect polyfill tsyringe needs
const x509 = await import('@peculiar/x509');

const EMPTY_CONFIG = { rules: [], channels: [], datastores: [], pipelines: [], datasets: [] };
const ARN = 'arn:aws:iot:us-east-1:000000000000';

interface Device { certificateArn: string; certificateId: string; cert: string; key: string }

/** What happened to a connection attempt: connected, or the CONNACK return code it was refused with. */
async function attempt(connect: () => Promise<MqttClient>): Promise<MqttClient | number> {
  try {
    return await connect();
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (client.disconnected || !client.connected) return resolve();
    client.once('close', () => resolve());
  });
}

function policy(...statements: { Effect: 'Allow' | 'Deny'; Action: string | string[]; Resource: string | string[] }[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

describe('device security over MQTT', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let iot: IoTClient;
  let caPem: string;
  const clients: MqttClient[] = [];
  let policyCount = 0;

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: EMPTY_CONFIG, env: {} });
    iot = new IoTClient(awsClientConfig(server));
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/ca-certificate.pem`);
    expect(res.headers.get('content-type')).toContain('application/x-pem-file');
    caPem = await res.text();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.end(true);
  });
  afterAll(async () => {
    iot?.destroy();
    await server?.stop();
    data.remove();
  });

  /** an ACTIVE certificate with a new policy attached (and attached to a thing when `thingName` is given) */
  async function device(document: string | undefined, thingName?: string, status: 'ACTIVE' | 'INACTIVE' = 'ACTIVE'): Promise<Device> {
    const made = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: status === 'ACTIVE' }));
    if (document) {
      const policyName = `p${++policyCount}`;
      await iot.send(new CreatePolicyCommand({ policyName, policyDocument: document }));
      await iot.send(new AttachPolicyCommand({ policyName, target: made.certificateArn! }));
    }
    if (thingName) {
      await iot.send(new CreateThingCommand({ thingName }));
      await iot.send(new AttachThingPrincipalCommand({ thingName, principal: made.certificateArn! }));
    }
    return { certificateArn: made.certificateArn!, certificateId: made.certificateId!, cert: made.certificatePem!, key: made.keyPair!.PrivateKey! };
  }

  async function tls(clientId: string, credentials: { cert: string; key: string }): Promise<MqttClient> {
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${server.mqttsPort}`, { clientId, ca: caPem, cert: credentials.cert, key: credentials.key, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
    clients.push(client);
    return client;
  }

  async function plain(clientId: string, auth: { username?: string; password?: string } = {}): Promise<MqttClient> {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId, ...auth, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
    clients.push(client);
    return client;
  }

  /** a subscriber allowed everything on `watch/#` (and nothing else) */
  async function watcher(): Promise<{ client: MqttClient; seen: string[] }> {
    const d = await device(policy(
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/watcher-*` },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${ARN}:topicfilter/watch/#` },
      { Effect: 'Allow', Action: 'iot:Receive', Resource: `${ARN}:topic/watch/*` },
    ));
    const client = await tls(`watcher-${policyCount}`, d);
    const seen: string[] = [];
    client.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    await client.subscribeAsync('watch/#', { qos: 1 });
    return { client, seen };
  }

  it('refuses a client without credentials with CONNACK 5 (not authorized)', async () => {
    expect(await attempt(() => plain('anon'))).toBe(5);
  });

  it('lets a certificate with a policy connect over TLS and publish where the policy allows, seen by a subscriber', async () => {
    const { seen } = await watcher();
    const d = await device(policy(
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/dev-ok` },
      { Effect: 'Allow', Action: 'iot:Publish', Resource: `${ARN}:topic/watch/dev-ok` },
    ));
    const client = await tls('dev-ok', d);
    await client.publishAsync('watch/dev-ok', 'hello', { qos: 1 });
    await eventually(async () => (seen.includes('watch/dev-ok hello') ? true : undefined), 5000, 'the published message');
  });

  it('refuses a certificate whose policy does not allow iot:Connect for the client id', async () => {
    const d = await device(policy({ Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/only-this` }));
    expect(await attempt(() => tls('another-id', d))).toBe(5);
  });

  it('closes the connection without PUBACK on a publish outside the policy', async () => {
    const { seen } = await watcher();
    const d = await device(policy(
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/dev-pub` },
      { Effect: 'Allow', Action: 'iot:Publish', Resource: `${ARN}:topic/allowed` },
    ));
    const client = await tls('dev-pub', d);
    let acked = false;
    client.publish('watch/forbidden', 'x', { qos: 1 }, (err) => { if (!err) acked = true; });
    await closed(client);
    expect(acked).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).not.toContain('watch/forbidden x');
  });

  it('closes the connection on a subscribe outside the policy', async () => {
    const d = await device(policy(
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/dev-sub` },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${ARN}:topicfilter/mine/#` },
    ));
    const client = await tls('dev-sub', d);
    await client.subscribeAsync('mine/#');
    client.subscribe('everything/#', () => {});
    await closed(client);
  });

  it('does not deliver a message the subscriber may not receive (iot:Receive), and keeps the connection', async () => {
    const publisher = await device(policy(
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/dev-source` },
      { Effect: 'Allow', Action: 'iot:Publish', Resource: `${ARN}:topic/feed/*` },
    ));
    const reader = await device(policy(
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/dev-reader` },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${ARN}:topicfilter/feed/#` },
      { Effect: 'Allow', Action: 'iot:Receive', Resource: `${ARN}:topic/feed/public` },
    ));
    const sub = await tls('dev-reader', reader);
    const seen: string[] = [];
    sub.on('message', (topic) => seen.push(topic));
    await sub.subscribeAsync('feed/#', { qos: 1 });
    const pub = await tls('dev-source', publisher);
    await pub.publishAsync('feed/secret', 's', { qos: 1 });
    await pub.publishAsync('feed/public', 'p', { qos: 1 });
    await eventually(async () => (seen.includes('feed/public') ? true : undefined), 5000, 'the allowed message');
    expect(seen).toEqual(['feed/public']);
    expect(sub.connected).toBe(true);
  });

  it('applies ${iot:Connection.Thing.ThingName} for a client whose id is its attached thing, not for another id', async () => {
    const document = policy(
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/*` },
      { Effect: 'Allow', Action: 'iot:Publish', Resource: `${ARN}:topic/watch/things/\${iot:Connection.Thing.ThingName}` },
    );
    const { seen } = await watcher();
    const d = await device(document, 'sec-thing-1');
    const asThing = await tls('sec-thing-1', d);
    await asThing.publishAsync('watch/things/sec-thing-1', 'mine', { qos: 1 });
    await eventually(async () => (seen.includes('watch/things/sec-thing-1 mine') ? true : undefined), 5000, 'the thing\'s message');
    asThing.end(true);
    const other = await tls('not-the-thing', d);
    other.publish('watch/things/sec-thing-1', 'spoof', { qos: 1 }, () => {});
    await closed(other);
  });

  it('lets an explicit Deny win over an Allow', async () => {
    const d = await device(policy(
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/dev-deny` },
      { Effect: 'Allow', Action: 'iot:Publish', Resource: `${ARN}:topic/watch/*` },
      { Effect: 'Deny', Action: 'iot:Publish', Resource: `${ARN}:topic/watch/denied` },
    ));
    const client = await tls('dev-deny', d);
    await client.publishAsync('watch/ok', 'fine', { qos: 1 });
    client.publish('watch/denied', 'no', { qos: 1 }, () => {});
    await closed(client);
  });

  it('disconnects a live client when its certificate is revoked, and refuses it afterwards', async () => {
    const d = await device(policy({ Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/dev-revoked` }));
    const client = await tls('dev-revoked', d);
    const gone = closed(client);
    await iot.send(new UpdateCertificateCommand({ certificateId: d.certificateId, newStatus: 'REVOKED' }));
    await gone;
    expect(await attempt(() => tls('dev-revoked', d))).toBe(5);
  });

  it('refuses an INACTIVE certificate', async () => {
    const d = await device(policy({ Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/*` }), undefined, 'INACTIVE');
    expect(await attempt(() => tls('dev-inactive', d))).toBe(5);
  });

  it('refuses a self-made certificate that is not registered', async () => {
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
    const keys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({ name: 'CN=intruder', keys, signingAlgorithm: alg, notAfter: new Date(Date.now() + 86400_000) });
    const key = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(await attempt(() => tls('intruder', { cert: cert.toString('pem'), key }))).toBe(5);
  });

  it('authenticates a device password over plain TCP, refuses a wrong one with CONNACK 4, and disconnects when it is deleted', async () => {
    await iot.send(new CreateThingCommand({ thingName: 'pw-device' }));
    const put = await signedFetch(server, 'PUT', '/api/things/pw-device/password', '{}', { headers: { 'content-type': 'application/json' } });
    expect(put.status).toBe(200);
    const credential = (await put.json()) as { username: string; password: string; principalArn: string };
    expect(credential).toMatchObject({ username: 'pw-device', principalArn: `${ARN}:password/pw-device` });
    const meta = (await (await signedFetch(server, 'GET', '/api/things/pw-device/password')).json()) as Record<string, unknown>;
    expect(meta.password).toBeUndefined();
    await iot.send(new CreatePolicyCommand({ policyName: 'pw-policy', policyDocument: policy({ Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/pw-device` }) }));
    await iot.send(new AttachPolicyCommand({ policyName: 'pw-policy', target: credential.principalArn }));

    expect(await attempt(() => plain('pw-device', { username: 'pw-device', password: 'not the password at all' }))).toBe(4);
    expect(await attempt(() => plain('pw-device', { username: 'no-such-thing', password: credential.password }))).toBe(4);
    const client = await plain('pw-device', { username: 'pw-device', password: credential.password });
    const gone = closed(client);
    expect((await signedFetch(server, 'DELETE', '/api/things/pw-device/password')).status).toBe(200);
    await gone;
    expect(await attempt(() => plain('pw-device', { username: 'pw-device', password: credential.password }))).toBe(4);
  });

  it('answers ResourceNotFoundException for the password of an unknown thing', async () => {
    const res = await signedFetch(server, 'PUT', '/api/things/ghost/password', '{}', { headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-amzn-errortype')).toContain('ResourceNotFoundException');
  });

  it('reports refusals and denials in /metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
    expect(text).toMatch(/iotcore_mqtt_auth_refused_total\{reason="AnonymousNotAllowed"\} [1-9]/);
    expect(text).toMatch(/iotcore_mqtt_denied_total\{action="iot:Publish"\} [1-9]/);
    expect(text).toMatch(/iotcore_mqtt_denied_total\{action="iot:Receive"\} [1-9]/);
  });
});

describe('anonymous development mode', () => {
  const data = tempDataDir();
  let server: RunningServer;
  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('lets a client without credentials connect, publish and subscribe when IOT_ALLOW_ANONYMOUS=true', async () => {
    server = await startTestServer(data.dir, { config: EMPTY_CONFIG, env: { IOT_ALLOW_ANONYMOUS: 'true' } });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'dev', protocolVersion: 4, reconnectPeriod: 0 });
    try {
      const got = new Promise<string>((resolve) => client.on('message', (_t, p) => resolve(p.toString())));
      await client.subscribeAsync('any/#', { qos: 1 });
      await client.publishAsync('any/thing', 'ok', { qos: 1 });
      expect(await got).toBe('ok');
    } finally {
      client.end(true);
    }
  });
});
