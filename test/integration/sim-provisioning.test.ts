// The simulator keeps working with security on: against the real server (anonymous MQTT refused),
// `--provision` creates things, certificates and the fleet policy through the AWS IoT API, each
// device connects over TLS with its own certificate, and its telemetry reaches the datastore. A
// second run with the same certificates directory issues no new certificate.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GetPolicyCommand, IoTClient, ListCertificatesCommand, ListThingPrincipalsCommand } from '@aws-sdk/client-iot';
import mqtt from 'mqtt';
import { DEFAULT_RESOURCES, type RunningServer } from '../../broker/index.js';
import { runFleet, SimError, type FleetOptionsInput } from '../../devices-sim/index.js';
import { awsClientConfig } from '../helpers/aws.js';
import { startTestServer, tempDataDir } from '../helpers/server.js';
import { OPERATOR_ENV, operatorJson } from '../helpers/operator.js';

const COUNT_BY_DEVICE = {
  datasetName: 'rows_by_device',
  actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT deviceId, count(*) AS n FROM telemetry_store GROUP BY deviceId ORDER BY deviceId' } }],
};

describe('the simulator provisioning its own credentials', () => {
  const data = tempDataDir();
  const certsDir = join(data.dir, 'sim-certs');
  let server: RunningServer;
  let iot: IoTClient;

  const fleet = (extra: Partial<FleetOptionsInput> = {}): FleetOptionsInput => ({
    url: `mqtts://127.0.0.1:${server.mqttsPort}`,
    devices: 3,
    rate: 5,
    durationS: 2,
    qos: 1,
    prefix: 'prov',
    rampUpMs: 0,
    provision: { endpoint: `http://127.0.0.1:${server.httpPort}`, credentials: server.adminCredentials, region: 'us-east-1', certsDir, concurrency: 8 },
    ...extra,
  });
  const certificateCount = async () => (await iot.send(new ListCertificatesCommand({ pageSize: 250 }))).certificates?.length ?? 0;
  const rowsByDevice = async () => {
    await server.analytics.flush();
    const res = await operatorJson<{ rows: [string, number | string][] }>(`http://127.0.0.1:${server.httpPort}`, '/api/datasets/rows_by_device/run', { method: 'POST' });
    return Object.fromEntries(res.body.rows.map(([device, n]) => [device, Number(n)]));
  };

  beforeAll(async () => {
    // env {}: no IOT_ALLOW_ANONYMOUS, so MQTT requires a certificate or a password
    server = await startTestServer(data.dir, { env: { ...OPERATOR_ENV }, config: { ...DEFAULT_RESOURCES, datasets: [...DEFAULT_RESOURCES.datasets, COUNT_BY_DEVICE] } });
    iot = new IoTClient(awsClientConfig(server));
  });

  afterAll(async () => {
    iot?.destroy();
    await server?.stop();
    data.remove();
  });

  it('refuses an anonymous device, so the fleet really needs its own credentials', async () => {
    const refused = await mqtt
      .connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'prov-1', protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 })
      .then((c) => c.endAsync().then(() => 'connected'), (err: Error) => err.message);
    expect(refused).not.toBe('connected');
  });

  it('provisions 3 devices, connects each over TLS with its certificate and gets their telemetry into the datastore', async () => {
    const before = await certificateCount();
    const lines: string[] = [];
    const summary = await runFleet(fleet({ log: (line) => lines.push(line) }));

    expect(summary.connected).toBe(3);
    expect(summary.errors).toBe(0);
    expect(summary.sent).toBeGreaterThanOrEqual(3 * 5);
    expect(summary.acknowledged).toBe(summary.sent);
    expect(await certificateCount()).toBe(before + 3);
    expect(lines).toEqual([expect.stringMatching(/provisioned 3 devices with policy prov-fleet-policy: 3 new certificates, 0 reused/)]);

    const rows = await rowsByDevice();
    expect(Object.keys(rows).sort()).toEqual(['prov-1', 'prov-2', 'prov-3']);
    expect(Object.values(rows).reduce((a, b) => a + b, 0)).toBe(summary.acknowledged);

    // each thing has its certificate; the fleet policy exists; the cached files are private
    for (const thingName of ['prov-1', 'prov-2', 'prov-3']) {
      expect((await iot.send(new ListThingPrincipalsCommand({ thingName }))).principals).toHaveLength(1);
    }
    expect((await iot.send(new GetPolicyCommand({ policyName: 'prov-fleet-policy' }))).policyName).toBe('prov-fleet-policy');
    const files = readdirSync(certsDir).sort();
    expect(files).toEqual(['prov-1.cert.pem', 'prov-1.json', 'prov-1.key.pem', 'prov-2.cert.pem', 'prov-2.json', 'prov-2.key.pem', 'prov-3.cert.pem', 'prov-3.json', 'prov-3.key.pem']);
    for (const f of files) expect(statSync(join(certsDir, f)).mode & 0o777).toBe(0o600);
  }, 30_000);

  it('reuses the cached certificates on a second run instead of issuing new ones', async () => {
    const before = await certificateCount();
    const rowsBefore = await rowsByDevice();
    const lines: string[] = [];
    const summary = await runFleet(fleet({ durationS: 1, log: (line) => lines.push(line) }));

    expect(summary.connected).toBe(3);
    expect(summary.acknowledged).toBe(summary.sent);
    expect(summary.sent).toBeGreaterThan(0);
    expect(await certificateCount()).toBe(before);
    expect(lines).toEqual([expect.stringMatching(/0 new certificates, 3 reused/)]);
    const rowsAfter = await rowsByDevice();
    expect(Object.values(rowsAfter).reduce((a, b) => a + b, 0)).toBe(Object.values(rowsBefore).reduce((a, b) => a + b, 0) + summary.acknowledged);
  }, 30_000);

  it('fails with a coded error naming the operation when the access key is wrong', async () => {
    const wrongKey = { accessKeyId: server.adminCredentials.accessKeyId, secretAccessKey: 'not-the-secret-at-all' };
    const error = await runFleet(fleet({ prefix: 'bad', provision: { ...fleet().provision!, credentials: wrongKey } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SimError);
    expect((error as SimError).code).toBe('ProvisioningFailedException');
    expect((error as SimError).message).toMatch(/provisioning bad-1 failed at CreateThing: InvalidSignatureException/);
  }, 30_000);
});
