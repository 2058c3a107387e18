// The real entry point as a user runs it: flags, ports.json, /health, and a clean stop on SIGTERM
// that flushes buffered rows so a restart finds them.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import type { PortsFile } from '../../broker/index.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';
import { OPERATOR_ENV, operatorJson } from '../helpers/operator.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

function startProcess(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'broker/main.ts'), ...args], {
    cwd: ROOT,
    // development mode (anonymous MQTT clients) and any free TLS port, like the other integration tests
    env: { ...process.env, IOT_LOG_LEVEL: 'warn', IOT_ALLOW_ANONYMOUS: 'true', IOT_MQTTS_PORT: '0', ...OPERATOR_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return { child, output: () => output };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

describe('the server process', () => {
  it('writes the chosen ports, answers /health, and on SIGTERM flushes rows and exits 0', async () => {
    const data = tempDataDir();
    const proc = startProcess(['--http-port', '0', '--mqtt-port', '0', '--host', '127.0.0.1'], { IOT_DATA_DIR: data.dir });
    const portsFile = join(data.dir, 'ports.json');
    const ports = await eventually(async () => (existsSync(portsFile) ? (JSON.parse(readFileSync(portsFile, 'utf8')) as PortsFile) : undefined), 20000, 'ports.json');
    expect(ports.pid).toBe(proc.child.pid);
    expect((await fetch(`http://127.0.0.1:${ports.http}/health`)).status).toBe(200);
    expect(proc.output()).toContain(`MQTT on port ${ports.mqtt}`);
    await eventually(async () => (proc.output().includes(`sign in at http://localhost:${ports.http}/ as "admin" with the password in IOT_OPERATOR_PASSWORD`) ? true : undefined), 5000, 'the sign-in hint');

    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { clientId: 'proc-test', protocolVersion: 4 });
    for (let seq = 0; seq < 20; seq++) {
      await client.publishAsync('devices/p1/telemetry', JSON.stringify({ deviceId: 'p1', ts: Date.now(), seq, temperature: 20, humidity: 50, battery: 70 }), { qos: 1 });
    }
    await client.endAsync();
    proc.child.kill('SIGTERM'); // immediately: rows may still be buffered, the stop must flush them
    expect(await exited(proc.child)).toBe(0);

    const server = await startTestServer(data.dir);
    const summary = await operatorJson<{ columns: { name: string }[]; rows: unknown[][] }>(`http://127.0.0.1:${server.httpPort}`, '/api/datasets/fleet_summary/run', { method: 'POST' });
    await server.stop();
    data.remove();
    const messages = summary.body.columns.findIndex((c) => c.name === 'messages');
    expect(Number(summary.body.rows[0][messages])).toBe(20);
  });

  it('exits with a clear message naming the flag when a flag is invalid', async () => {
    const proc = startProcess(['--mqtt-port', 'abc']);
    expect(await exited(proc.child)).toBe(2);
    expect(proc.output()).toContain('--mqtt-port must be a whole number');
  });

  it('exits non-zero naming the file when the configuration file is broken', async () => {
    const data = tempDataDir();
    const proc = startProcess(['--config', join(data.dir, 'missing.json'), '--data-dir', data.dir, '--http-port', '0', '--mqtt-port', '0']);
    expect(await exited(proc.child)).toBe(1);
    expect(proc.output()).toMatch(/ConfigFileUnreadable: config file .*missing\.json: cannot be read/);
    data.remove();
  });
});
