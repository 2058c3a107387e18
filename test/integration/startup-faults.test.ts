// Start-up with a database file the server cannot have: held by another server (in this process or
// another one), garbage, or unreadable. Each refuses with a coded error naming the file, and the
// server that holds the data directory keeps working.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, tempDataDir } from '../helpers/server.js';
import { OPERATOR_ENV } from '../helpers/operator.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/** `npm start` on a data directory; resolves with its exit code and everything it printed. */
function runServerProcess(dataDir: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'broker/main.ts'), '--data-dir', dataDir, '--http-port', '0', '--mqtt-port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    env: { ...process.env, IOT_LOG_LEVEL: 'warn', IOT_ALLOW_ANONYMOUS: 'true', IOT_MQTTS_PORT: '0', ...OPERATOR_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

async function startFailure(dataDir: string): Promise<{ code?: string; message: string }> {
  try {
    const server = await startTestServer(dataDir);
    await server.stop();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('the server started');
}

// root reads a file whatever its mode, so chmod 000 cannot make it unreadable there
const runsAsRoot = process.getuid?.() === 0;

describe('start-up with a database file it cannot have', () => {
  it('refuses a second server on the same data directory in the same process, and the first keeps serving', async () => {
    const data = tempDataDir();
    const first = await startTestServer(data.dir);
    try {
      const err = await startFailure(data.dir);
      expect(err.code).toBe('DatastoreLocked');
      expect(err.message).toContain(join(data.dir, 'iotcore.duckdb'));
      expect(err.message).toContain(`already open in this process (PID ${process.pid})`);
      expect((await fetch(`http://127.0.0.1:${first.httpPort}/health`)).status).toBe(200);
    } finally {
      await first.stop();
    }
    // and once the first has stopped, the directory opens again
    const again = await startTestServer(data.dir);
    await again.stop();
    data.remove();
  });

  it('makes npm start exit non-zero saying another process holds the database, with its PID', async () => {
    const data = tempDataDir();
    const first = await startTestServer(data.dir);
    try {
      const run = await runServerProcess(data.dir);
      expect(run.code).toBe(1);
      expect(run.output).toContain(`iotcore: failed to start: DatastoreLocked: cannot open the DuckDB database ${join(data.dir, 'iotcore.duckdb')}: another process holds its lock`);
      expect(run.output).toContain(`PID ${process.pid}`);
      expect((await fetch(`http://127.0.0.1:${first.httpPort}/health`)).status).toBe(200);
    } finally {
      await first.stop();
    }
    data.remove();
  });

  it('refuses a database file that is not a DuckDB database, naming it, and npm start exits non-zero', async () => {
    const data = tempDataDir();
    const file = join(data.dir, 'iotcore.duckdb');
    writeFileSync(file, Buffer.alloc(64 * 1024, 0x5a));
    const err = await startFailure(data.dir);
    expect(err.code).toBe('DatabaseUnreadable');
    expect(err.message).toContain(`cannot open the DuckDB database ${file}`);
    expect(err.message).toContain('not a valid DuckDB database');
    const run = await runServerProcess(data.dir);
    expect(run.code).toBe(1);
    expect(run.output).toContain(`iotcore: failed to start: DatabaseUnreadable: cannot open the DuckDB database ${file}`);
    data.remove();
  });

  it('refuses a damaged analytics definitions file, naming it, rather than starting with no channels', async () => {
    const data = tempDataDir();
    const file = join(data.dir, 'analytics-definitions.json');
    writeFileSync(file, '{"channels": {"telemetry"');
    const err = await startFailure(data.dir);
    expect(err.code).toBe('DefinitionsFileInvalid');
    expect(err.message).toContain(`${file}: not JSON`);
    data.remove();
  });

  it('replaces a damaged broker TLS key with a fresh key and certificate that MQTT over TLS serves', async () => {
    const data = tempDataDir();
    const first = await startTestServer(data.dir);
    await first.stop();
    writeFileSync(join(data.dir, 'ca', 'server-key.pem'), 'not a key\n');
    const server = await startTestServer(data.dir);
    try {
      const caPem = readFileSync(join(data.dir, 'ca', 'ca-cert.pem'), 'utf8');
      const served = await new Promise<string>((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: server.mqttsPort, ca: caPem, servername: 'localhost' }, () => {
          resolve(String(socket.getPeerCertificate().subject.CN));
          socket.destroy();
        });
        socket.on('error', reject);
      });
      expect(served).toBe('iotcore broker');
      expect(readFileSync(join(data.dir, 'ca', 'server-key.pem'), 'utf8')).toContain('PRIVATE KEY');
    } finally {
      await server.stop();
      data.remove();
    }
  });

  (runsAsRoot ? it.skip : it)('refuses a database file it may not read, naming it (skipped as root: root reads a chmod 000 file)', async () => {
    const data = tempDataDir();
    const first = await startTestServer(data.dir);
    await first.stop();
    const file = join(data.dir, 'iotcore.duckdb');
    chmodSync(file, 0o000);
    try {
      const err = await startFailure(data.dir);
      expect(err.code).toBe('DatabaseUnreadable');
      expect(err.message).toContain(file);
    } finally {
      chmodSync(file, 0o600);
      data.remove();
    }
  });
});
