// SigV4 on the real server with the real @aws-sdk/client-iot: the admin key the server issues
// works, anything else gets the AWS error shape and status the SDK maps to named exceptions.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { IoTClient, ListTopicRulesCommand } from '@aws-sdk/client-iot';
import type { RunningServer } from '../../broker/index.js';
import { awsClientConfig, caught, signedFetch } from '../helpers/aws.js';
import { startTestServer, tempDataDir } from '../helpers/server.js';

const EMPTY_CONFIG = { rules: [], channels: [], datastores: [], pipelines: [], datasets: [] };
const MINUTE = 60_000;

describe('SigV4 on the AWS-compatible APIs', () => {
  const data = tempDataDir();
  const logs: { level: string; obj: object; msg?: string }[] = [];
  const logger = Object.fromEntries(['error', 'warn', 'info', 'debug'].map((level) => [level, (obj: object, msg?: string) => logs.push({ level, obj, msg })])) as never;
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: EMPTY_CONFIG, logger });
  });
  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('issues an admin key in <dataDir>/admin-credentials.json (0600) and logs where it is, never the secret', () => {
    const path = join(data.dir, 'admin-credentials.json');
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(server.adminCredentials);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const created = logs.filter((l) => l.level === 'info' && (l.obj as { credentialsFile?: string }).credentialsFile === path);
    expect(created).toHaveLength(1);
    expect(JSON.stringify(logs)).not.toContain(server.adminCredentials.secretAccessKey);
  });

  it('serves the IoTClient configured with the admin key', async () => {
    const client = new IoTClient(awsClientConfig(server));
    await expect(client.send(new ListTopicRulesCommand({}))).resolves.toMatchObject({ rules: [] });
  });

  it('raises InvalidSignatureException (403) for a wrong secret', async () => {
    const config = awsClientConfig(server);
    const client = new IoTClient({ ...config, credentials: { ...config.credentials, secretAccessKey: 'wrong-secret-0123456789-abcdefghijklmnop' } });
    const err = await caught(client.send(new ListTopicRulesCommand({})));
    expect({ name: err.name, status: err.$metadata?.httpStatusCode }).toEqual({ name: 'InvalidSignatureException', status: 403 });
    expect(err.message).toMatch(/signature we calculated does not match/);
  });

  it('raises UnrecognizedClientException (403) for a key id the server did not issue', async () => {
    const config = awsClientConfig(server);
    const client = new IoTClient({ ...config, credentials: { ...config.credentials, accessKeyId: 'AKIAUNKNOWNKEY000000' } });
    const err = await caught(client.send(new ListTopicRulesCommand({})));
    expect({ name: err.name, status: err.$metadata?.httpStatusCode }).toEqual({ name: 'UnrecognizedClientException', status: 403 });
  });

  it('refuses a client clock 20 minutes fast with "Signature expired"; the SDK corrects its clock from the Date header and retries', async () => {
    // one attempt: the server's own answer
    const strict = new IoTClient({ ...awsClientConfig(server), systemClockOffset: 20 * MINUTE, maxAttempts: 1 });
    const err = await caught(strict.send(new ListTopicRulesCommand({})));
    expect({ name: err.name, status: err.$metadata?.httpStatusCode }).toEqual({ name: 'InvalidSignatureException', status: 403 });
    expect(err.message).toMatch(/^Signature expired/);
    // default retries: the skew correction makes the second attempt succeed
    const lenient = new IoTClient({ ...awsClientConfig(server), systemClockOffset: 20 * MINUTE });
    await expect(lenient.send(new ListTopicRulesCommand({}))).resolves.toMatchObject({ rules: [] });
    expect(Math.abs(await lenient.config.systemClockOffset)).toBeLessThan(MINUTE);
  });

  it('answers a raw request signed 16 minutes ago with 403 and the AWS error shape, and one signed 14 minutes ago with 200', async () => {
    const old = await signedFetch(server, 'GET', '/rules', undefined, { signingDate: new Date(Date.now() - 16 * MINUTE) });
    expect(old.status).toBe(403);
    expect(old.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
    expect(await old.json()).toEqual({ message: expect.stringMatching(/^Signature expired/) });
    const recent = await signedFetch(server, 'GET', '/rules', undefined, { signingDate: new Date(Date.now() - 14 * MINUTE) });
    expect(recent.status).toBe(200);
  });

  it('answers an unsigned request with 403 MissingAuthenticationTokenException before reading its body', async () => {
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/rules/unsigned`, { method: 'POST', body: '{not json' });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
  });

  it('checks the signature before the body, so a bad JSON body from a stranger is still a 403', async () => {
    const res = await signedFetch(server, 'POST', '/rules/x', '{not json', { credentials: { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'whatever-secret-0123456789' } });
    expect({ status: res.status, type: res.headers.get('x-amzn-errortype') }).toEqual({ status: 403, type: 'UnrecognizedClientException' });
  });

  it('refuses a body changed after signing, and a signing name that is not an IoT one', async () => {
    const body = JSON.stringify({ sql: "SELECT * FROM 'a'", actions: [] });
    const ok = await signedFetch(server, 'POST', '/rules/signedBody', body, { headers: { 'content-type': 'application/json' }, service: 'iotdata' });
    expect(ok.status).toBe(200);
    const tampered = await signedFetch(server, 'POST', '/rules/tampered', body, { headers: { 'content-type': 'application/json' }, sendBody: body.replace("'a'", "'b'") });
    expect({ status: tampered.status, type: tampered.headers.get('x-amzn-errortype') }).toEqual({ status: 403, type: 'InvalidSignatureException' });
    const wrongService = await signedFetch(server, 'GET', '/rules', undefined, { service: 'execute-api' });
    expect({ status: wrongService.status, type: wrongService.headers.get('x-amzn-errortype') }).toEqual({ status: 403, type: 'InvalidSignatureException' });
  });

  it('accepts a signature on /api/ routes in place of a session, refuses a bad one with 403 in our error shape and an unsigned one with 401', async () => {
    const base = `http://127.0.0.1:${server.httpPort}`;
    const body = JSON.stringify({ sql: "SELECT * FROM 'a/#'", topic: 'a/b', payload: { x: 1 } });
    const unsigned = await fetch(`${base}/api/rules/test`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toEqual({ code: 'NotSignedIn', message: expect.any(String) });
    const signed = await signedFetch(server, 'POST', '/api/rules/test', body, { headers: { 'content-type': 'application/json' } });
    expect(signed.status).toBe(200);
    const forged = await signedFetch(server, 'POST', '/api/rules/test', body, {
      headers: { 'content-type': 'application/json' },
      credentials: { ...server.adminCredentials, secretAccessKey: 'wrong-secret-0123456789-abcdefghijklmnop' },
    });
    expect(forged.status).toBe(403);
    expect(await forged.json()).toEqual({ code: 'InvalidSignatureException', message: expect.any(String) });
    // another scheme (a reverse proxy's Basic auth) is neither a session nor SigV4
    const basic = { authorization: 'Basic dXNlcjpwYXNz', 'content-type': 'application/json' };
    expect((await fetch(`${base}/api/rules/test`, { method: 'POST', headers: basic, body })).status).toBe(401);
    const aws = await fetch(`${base}/rules`, { headers: basic });
    expect({ status: aws.status, type: aws.headers.get('x-amzn-errortype') }).toEqual({ status: 403, type: 'MissingAuthenticationTokenException' });
  });
});

describe('the admin key from the environment', () => {
  const data = tempDataDir();
  afterAll(() => data.remove());

  it('uses IOT_ADMIN_ACCESS_KEY_ID and IOT_ADMIN_SECRET_ACCESS_KEY instead of a generated key', async () => {
    const env = { IOT_ADMIN_ACCESS_KEY_ID: 'AKIAFROMENVIRONMENT1', IOT_ADMIN_SECRET_ACCESS_KEY: 'secret-from-the-environment-0123456789' };
    const server = await startTestServer(data.dir, { config: EMPTY_CONFIG, env });
    try {
      expect(server.adminCredentials).toEqual({ accessKeyId: env.IOT_ADMIN_ACCESS_KEY_ID, secretAccessKey: env.IOT_ADMIN_SECRET_ACCESS_KEY });
      const client = new IoTClient(awsClientConfig(server));
      await expect(client.send(new ListTopicRulesCommand({}))).resolves.toMatchObject({ rules: [] });
    } finally {
      await server.stop();
    }
  });
});
