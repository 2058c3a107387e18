// Security hardening through a real server with security on: failed MQTT passwords are limited per
// source address, state-changing requests and sign-ins leave audit entries (who, what, when, never a
// secret), MQTT over TLS speaks TLS 1.2 and 1.3 only without renegotiation, key files are 0600, and
// no secret reaches the log during start, provisioning and sign-in.
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  AttachPolicyCommand, CreateKeysAndCertificateCommand, CreatePolicyCommand, CreateThingCommand, IoTClient,
} from '@aws-sdk/client-iot';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { RunningServer, StartOptions } from '../../broker/index.js';
import type { AuditEntry, AuditListBody } from '../../broker/contract.js';
import { awsClientConfig, signedFetch } from '../helpers/aws.js';
import { startTestServer, tempDataDir } from '../helpers/server.js';

const EMPTY_CONFIG = { rules: [], channels: [], datastores: [], pipelines: [], datasets: [] };
const ARN = 'arn:aws:iot:us-east-1:000000000000';
const JSON_HEADERS = { 'content-type': 'application/json' };

type Logger = NonNullable<StartOptions['logger']>;

/** A Logger that keeps every line as the JSON pino would write (level, fields, message). */
function capturingLogger(lines: string[]): Logger {
  const at = (level: string) => (obj: object, msg?: string) => {
    lines.push(JSON.stringify({ level, ...obj, msg }));
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** Connected, or the CONNACK return code (or error code) the attempt failed with. */
function attempt(options: IClientOptions & { port: number; localAddress?: string }): Promise<MqttClient | number | string> {
  const { port, localAddress, ...rest } = options;
  return new Promise((resolve) => {
    const client = new mqtt.MqttClient(() => netConnect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) }), { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...rest });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      resolve((err as { code?: number | string }).code ?? -1);
    });
  });
}

describe('security hardening', () => {
  const data = tempDataDir('iotcore-security-');
  const lines: string[] = [];
  let server: RunningServer;
  let iot: IoTClient;
  let base: string;
  let caPem: string;
  let operatorPassword: string;
  let cookie: string;
  const clients: MqttClient[] = [];
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    // no IOT_OPERATOR_PASSWORD: the first start writes operator-credentials.json, as in production
    server = await startTestServer(data.dir, { config: EMPTY_CONFIG, env: {}, logger: capturingLogger(lines) });
    base = `http://127.0.0.1:${server.httpPort}`;
    iot = new IoTClient(awsClientConfig(server));
    caPem = await (await fetch(`${base}/api/ca-certificate.pem`)).text();
    operatorPassword = (JSON.parse(readFileSync(server.operatorCredentialsFile, 'utf8')) as { password: string }).password;
    const signIn = await fetch(`${base}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ username: 'admin', password: operatorPassword }) });
    expect(signIn.status).toBe(200);
    cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    Object.assign(secrets, { adminSecret: server.adminCredentials.secretAccessKey, operatorPassword, sessionToken: cookie.split('=')[1]! });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    iot?.destroy();
    await server?.stop();
    data.remove();
  });

  /** a thing with a device password whose principal may connect as the thing */
  async function passwordDevice(thingName: string): Promise<string> {
    await iot.send(new CreateThingCommand({ thingName }));
    const put = await signedFetch(server, 'PUT', `/api/things/${thingName}/password`, '{}', { headers: JSON_HEADERS });
    const { password, principalArn } = (await put.json()) as { password: string; principalArn: string };
    const policyName = `${thingName}-connect`;
    await iot.send(new CreatePolicyCommand({ policyName, policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/${thingName}` }] }) }));
    await iot.send(new AttachPolicyCommand({ policyName, target: principalArn }));
    secrets[`${thingName} password`] = password;
    return password;
  }

  /** an ACTIVE certificate whose policy lets it connect as `clientId` */
  async function certificateDevice(clientId: string): Promise<{ cert: string; key: string }> {
    const made = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    const policyName = `${clientId}-connect`;
    await iot.send(new CreatePolicyCommand({ policyName, policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/${clientId}` }] }) }));
    await iot.send(new AttachPolicyCommand({ policyName, target: made.certificateArn! }));
    const key = made.keyPair!.PrivateKey!;
    secrets[`${clientId} private key`] = key.split('\n')[1]!;
    return { cert: made.certificatePem!, key };
  }

  const audit = async (query = ''): Promise<AuditEntry[]> => {
    const res = await fetch(`${base}/api/audit${query}`, { headers: { cookie } });
    expect(res.status).toBe(200);
    return ((await res.json()) as AuditListBody).entries;
  };

  describe('failed MQTT passwords', () => {
    it('refuses an address after 10 wrong passwords with CONNACK 3, the right password included, while other addresses connect', async () => {
      const password = await passwordDevice('limited-device');
      const port = server.mqttPort;
      const device = { clientId: 'limited-device', username: 'limited-device' };
      for (let i = 0; i < 10; i++) expect(await attempt({ port, localAddress: '127.0.0.2', ...device, password: `wrong guess ${i}` })).toBe(4);
      expect(await attempt({ port, localAddress: '127.0.0.2', ...device, password })).toBe(3);
      const elsewhere = await attempt({ port, localAddress: '127.0.0.1', ...device, password });
      expect(typeof elsewhere).toBe('object');
      clients.push(elsewhere as MqttClient);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/iotcore_mqtt_auth_refused_total\{reason="RateLimited"\} 1\b/);
      expect(metrics).toMatch(/iotcore_mqtt_auth_refused_total\{reason="BadUsernameOrPassword"\} 10\b/);
      expect(metrics).toMatch(/iotcore_mqtt_password_failures\{counter="failures"\} 10\b/);
    });
  });

  describe('TLS', () => {
    it('refuses a TLS 1.1 client in the handshake', async () => {
      const outcome = await new Promise<string>((resolve) => {
        // SECLEVEL=0 lets this OpenSSL offer TLS 1.1 at all: the refusal must come from the server
        const socket = tlsConnect({ host: '127.0.0.1', port: server.mqttsPort, ca: caPem, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }, () => resolve(`connected ${socket.getProtocol()}`));
        socket.on('error', (err: Error & { code?: string }) => resolve(err.code ?? err.message));
      });
      expect(outcome).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
    });

    it.each(['TLSv1.2', 'TLSv1.3'] as const)('connects a device certificate over %s with a forward-secret AEAD cipher', async (version) => {
      const clientId = `tls-${version.replace('.', '')}`;
      const credentials = await certificateDevice(clientId);
      const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${server.mqttsPort}`, { clientId, ca: caPem, ...credentials, minVersion: version, maxVersion: version, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 } as IClientOptions);
      clients.push(client);
      const socket = client.stream as unknown as TLSSocket;
      expect(socket.getProtocol()).toBe(version);
      expect(socket.getCipher().name).toMatch(/GCM|CHACHA20/);
    });

    it('refuses renegotiation on a TLS 1.2 connection', async () => {
      const credentials = await certificateDevice('tls-renegotiate');
      const outcome = await new Promise<string>((resolve) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: server.mqttsPort, ca: caPem, ...credentials, maxVersion: 'TLSv1.2' }, () => {
          socket.renegotiate({}, (err) => resolve(err ? ((err as Error & { code?: string }).code ?? err.message) : 'renegotiated'));
        });
        socket.on('error', (err: Error & { code?: string }) => resolve(err.code ?? err.message));
      });
      expect(outcome).toBe('ERR_SSL_NO_RENEGOTIATION');
    });
  });

  describe('the audit log', () => {
    it('records a SigV4 CreateThing, an operator cookie UpdateThingShadow and a failed sign-in: who, what, when, and no secret', async () => {
      const started = new Date().toISOString();
      await iot.send(new CreateThingCommand({ thingName: 'audited-thing' }));
      const shadow = await fetch(`${base}/things/audited-thing/shadow`, { method: 'POST', headers: { ...JSON_HEADERS, cookie }, body: JSON.stringify({ state: { desired: { marker: 'shadow-body-never-audited' } } }) });
      expect(shadow.status).toBe(200);
      const wrong = await fetch(`${base}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ username: 'admin', password: 'a wrong password typed here' }) });
      expect(wrong.status).toBe(401);

      const entries = await audit(`?since=${encodeURIComponent(started)}`);
      const sourceIp = '127.0.0.1';
      expect(entries.slice(0, 3)).toEqual([
        { at: expect.any(String), who: { kind: 'anonymous' }, action: 'signIn', outcome: 'failed', sourceIp, method: 'POST', route: '/api/session', status: 401 },
        { at: expect.any(String), who: { kind: 'operator', name: 'admin' }, sourceIp, method: 'POST', route: '/things/:thingName/shadow', target: { thingName: 'audited-thing' }, status: 200 },
        { at: expect.any(String), who: { kind: 'accessKey', name: server.adminCredentials.accessKeyId }, sourceIp, method: 'POST', route: '/things/:thingName', target: { thingName: 'audited-thing' }, status: 200 },
      ]);
      for (const e of entries) expect(e.at >= started && !Number.isNaN(Date.parse(e.at))).toBe(true);
      const text = readFileSync(join(data.dir, 'audit.jsonl'), 'utf8');
      for (const secret of ['shadow-body-never-audited', 'a wrong password typed here', ...Object.values(secrets)]) expect(text.includes(secret)).toBe(false);
    });

    it('records the successful sign-in as the operator, the configuration applied at start, and the device provisioning by access key', async () => {
      const entries = await audit('?limit=1000');
      const oldest = entries[entries.length - 1]!;
      expect(oldest).toEqual({ at: expect.any(String), who: { kind: 'config', name: 'inline configuration' }, action: 'applyConfiguration', target: expect.objectContaining({ rules: '0', channels: '0' }) });
      expect(entries).toContainEqual(expect.objectContaining({ who: { kind: 'operator', name: 'admin' }, action: 'signIn', outcome: 'succeeded' }));
      expect(entries).toContainEqual(expect.objectContaining({ who: { kind: 'accessKey', name: server.adminCredentials.accessKeyId }, method: 'PUT', route: '/api/things/:thingName/password', target: { thingName: 'limited-device' } }));
      // newest first
      expect(entries.map((e) => e.at)).toEqual([...entries.map((e) => e.at)].sort().reverse());
      expect((await audit('?limit=2')).length).toBe(2);
    });

    it('is gated like every /api route, leaves out requests nobody was authenticated for, and refuses a bad limit', async () => {
      expect((await fetch(`${base}/api/audit`)).status).toBe(401);
      const before = (await audit('?limit=1000')).length;
      expect((await fetch(`${base}/api/operators`, { method: 'POST', headers: JSON_HEADERS, body: '{}' })).status).toBe(401);
      expect((await audit('?limit=1000')).length).toBe(before);
      expect((await fetch(`${base}/api/audit?limit=0`, { headers: { cookie } })).status).toBe(400);
      expect((await fetch(`${base}/api/audit?since=yesterday`, { headers: { cookie } })).status).toBe(400);
    });
  });

  it('keeps key and credential files at mode 0600', () => {
    const files = ['ca/ca-key.pem', 'ca/server-key.pem', 'admin-credentials.json', 'operator-credentials.json', 'operators.json', 'sessions.json', 'device-passwords.json', 'dataset-url-secret', 'audit.jsonl'];
    const modes = Object.fromEntries(files.map((f) => [f, existsSync(join(data.dir, f)) ? (statSync(join(data.dir, f)).mode & 0o777).toString(8) : 'missing']));
    expect(modes).toEqual(Object.fromEntries(files.map((f) => [f, '600'])));
  });

  it('writes no secret to the log during start, provisioning, sign-in and device connections', () => {
    const keyFiles = ['ca/ca-key.pem', 'ca/server-key.pem'].map((f) => readFileSync(join(data.dir, f), 'utf8').split('\n')[1]!);
    expect(lines.length).toBeGreaterThan(0);
    const leaks = Object.entries({ ...secrets, caKey: keyFiles[0]!, serverKey: keyFiles[1]! }).filter(([, secret]) => lines.some((l) => l.includes(secret))).map(([name]) => name);
    expect(leaks).toEqual([]);
  });
});
