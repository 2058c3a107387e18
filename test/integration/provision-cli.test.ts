// The README's "provision a device and connect it" walkthrough, run as written: `npm run provision`
// (the real CLI in a child process) creates the thing, its certificate and the device policy and
// writes the files; the printed `npx mqtt pub` line (mqtt.js's own CLI) publishes over TLS with
// them, and the message reaches the datastore. The same certificate cannot publish as another device.
import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { DEFAULT_RESOURCES, type RunningServer } from '../../broker/index.js';
import { startTestServer, tempDataDir } from '../helpers/server.js';
import { OPERATOR_ENV, operatorJson } from '../helpers/operator.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const run = promisify(execFile);
const COUNT_BY_DEVICE = {
  datasetName: 'rows_of_my_sensor',
  actions: [{ actionName: 'q', queryAction: { sqlQuery: "SELECT temperature FROM telemetry_store WHERE deviceId = 'my-sensor'" } }],
};

describe('npm run provision, then npx mqtt pub over TLS', () => {
  const data = tempDataDir();
  const out = join(data.dir, 'device-certs');
  let server: RunningServer;
  let credentialsFile: string;

  const provision = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', join(ROOT, 'devices-sim/provision-main.ts'), '--endpoint', `http://127.0.0.1:${server.httpPort}`, '--credentials', credentialsFile, '--out', out, ...args], { cwd: ROOT });

  beforeAll(async () => {
    // env {}: anonymous MQTT is refused, as on a real installation
    server = await startTestServer(data.dir, { env: { ...OPERATOR_ENV }, config: { ...DEFAULT_RESOURCES, datasets: [...DEFAULT_RESOURCES.datasets, COUNT_BY_DEVICE] } });
    credentialsFile = join(data.dir, 'admin-credentials.json');
    writeFileSync(credentialsFile, JSON.stringify(server.adminCredentials));
  });

  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('writes the certificate, private key and CA of the thing, and prints a publish command that gets a message into the datastore', async () => {
    const { stdout } = await provision('--thing', 'my-sensor');
    const cert = join(out, 'my-sensor.cert.pem');
    const key = join(out, 'my-sensor.key.pem');
    expect(readFileSync(cert, 'utf8')).toContain('-----BEGIN CERTIFICATE-----');
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, 'ca.pem'), 'utf8')).toContain('-----BEGIN CERTIFICATE-----');

    const line = stdout.split('\n').find((l) => l.trim().startsWith('npx mqtt pub'));
    expect(line).toBeDefined();
    // the printed line names the default port 8883; this server listens on a free one
    const args = [...line!.trim().replace('-p 8883', `-p ${server.mqttsPort}`).matchAll(/'[^']*'|\S+/g)].map((m) => m[0].replace(/^'|'$/g, '')).slice(2);
    await run(join(ROOT, 'node_modules/.bin/mqtt'), args, { cwd: ROOT, timeout: 20_000 });

    await server.analytics.flush();
    const res = await operatorJson<{ rows: unknown[][] }>(`http://127.0.0.1:${server.httpPort}`, '/api/datasets/rows_of_my_sensor/run', { method: 'POST' });
    expect(res).toMatchObject({ status: 200, body: { rows: [[21.5]] } });
  }, 60_000);

  it('reuses the certificate on a rerun', async () => {
    const before = readFileSync(join(out, 'my-sensor.cert.pem'), 'utf8');
    const { stderr } = await provision('--thing', 'my-sensor');
    expect(stderr).toMatch(/0 certificate\(s\) issued, 1 reused/);
    expect(readFileSync(join(out, 'my-sensor.cert.pem'), 'utf8')).toBe(before);
  }, 60_000);

  it('lets the certificate connect only as its own thing and publish only on its own telemetry topic', async () => {
    const tls = { ca: readFileSync(join(out, 'ca.pem')), cert: readFileSync(join(out, 'my-sensor.cert.pem')), key: readFileSync(join(out, 'my-sensor.key.pem')) };
    const url = `mqtts://127.0.0.1:${server.mqttsPort}`;
    const impostor = await mqtt
      .connectAsync(url, { ...tls, clientId: 'other-sensor', protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 })
      .then((c) => c.endAsync().then(() => 'connected'), (err: Error) => err.message);
    expect(impostor).toMatch(/Not authorized/i);

    const device = await mqtt.connectAsync(url, { ...tls, clientId: 'my-sensor', protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
    const closed = new Promise<void>((r) => device.once('close', () => r()));
    void device.publishAsync('devices/other-sensor/telemetry', '{"temperature": 99}', { qos: 1 }).catch(() => undefined);
    await closed; // AWS IoT closes the connection on a publish outside the policy
    await device.endAsync(true);
  }, 30_000);

  it('refuses a bad thing name with exit code 2 and a message that names it', async () => {
    const failed = await provision('--thing', 'no spaces').then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toMatch(/thing name may only contain letters, digits, "_" and "-" \(1-128\), got "no spaces"/);
  }, 30_000);
});
