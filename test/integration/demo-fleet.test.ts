// `npm run demo` with security on (no IOT_ALLOW_ANONYMOUS): the demo fleet the server spawns
// provisions its devices through the AWS IoT API, connects over TLS with their certificates, and
// its telemetry lands in the datastore; the operator signs in with the password the first start
// wrote to the credentials file, whose path the demo prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PortsFile } from '../../broker/index.js';
import { eventually, tempDataDir } from '../helpers/server.js';
import { signIn } from '../helpers/operator.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('the demo fleet', () => {
  const data = tempDataDir();
  let child: ChildProcess | undefined;
  let output = '';

  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    data.remove();
  });

  it('provisions itself and gets its telemetry into the datastore while anonymous MQTT is refused', async () => {
    const env: Record<string, string | undefined> = { ...process.env, IOT_LOG_LEVEL: 'warn', IOT_DATA_DIR: data.dir, IOT_HTTP_PORT: '0', IOT_MQTT_PORT: '0', IOT_MQTTS_PORT: '0', IOT_HOST: '127.0.0.1' };
    delete env.IOT_ALLOW_ANONYMOUS;
    delete env.IOT_OPERATOR_PASSWORD;
    child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'broker/main.ts'), '--demo', '--demo-devices', '2'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));

    const portsFile = join(data.dir, 'ports.json');
    const ports = await eventually(async () => (existsSync(portsFile) ? (JSON.parse(readFileSync(portsFile, 'utf8')) as PortsFile) : undefined), 20_000, 'ports.json');
    const credentialsFile = join(data.dir, 'operator-credentials.json');
    await eventually(async () => (output.includes(`sign in at http://localhost:${ports.http}/ with the username and password in ${credentialsFile}`) ? true : undefined), 10_000, `the sign-in hint (output so far: ${output})`);
    const cookie = await signIn(`http://127.0.0.1:${ports.http}`, JSON.parse(readFileSync(credentialsFile, 'utf8')) as { username: string; password: string });
    const messages = await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${ports.http}/api/datasets/fleet_summary/run`, { method: 'POST', headers: { cookie } });
      const body = (await res.json()) as { columns: { name: string }[]; rows: unknown[][] };
      const column = body.columns.findIndex((c) => c.name === 'messages');
      const n = Number(body.rows[0]?.[column] ?? 0);
      return n >= 4 ? n : undefined;
    }, 30_000, `demo telemetry in the datastore (output so far: ${output})`);
    expect(messages).toBeGreaterThanOrEqual(4);
    expect(output).toContain('provisioned 2 devices with policy demo-fleet-policy: 2 new certificates');
    expect(readdirSync(join(data.dir, 'demo-certs')).sort()).toEqual(['demo-1.cert.pem', 'demo-1.json', 'demo-1.key.pem', 'demo-2.cert.pem', 'demo-2.json', 'demo-2.key.pem']);

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => (child!.exitCode !== null ? resolve(child!.exitCode) : child!.once('exit', resolve)));
    expect(code).toBe(0);
  }, 60_000);
});
