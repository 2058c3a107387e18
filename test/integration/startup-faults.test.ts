// Start-up with a data directory or a database file the server cannot have: held by another server
// (in this process or another one), garbage, or unreadable. Each refuses with a coded error naming
// the directory or file, and the server that holds the data directory keeps working. A lock left
// by a server that was killed does not keep the next one out.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, realpathSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PortsFile } from '../../broker/index.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';
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

/** `npm start` on a data directory, left running: resolves once it listens (its ports.json). */
async function startServerProcess(dataDir: string): Promise<{ child: ChildProcess; exited: Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'broker/main.ts'), '--data-dir', dataDir, '--http-port', '0', '--mqtt-port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    env: { ...process.env, IOT_LOG_LEVEL: 'warn', IOT_ALLOW_ANONYMOUS: 'true', IOT_MQTTS_PORT: '0', ...OPERATOR_ENV },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const portsFile = join(dataDir, 'ports.json');
  await eventually(async () => (existsSync(portsFile) && (JSON.parse(readFileSync(portsFile, 'utf8')) as PortsFile).pid === child.pid ? true : undefined), 60_000, 'the server process to listen');
  return { child, exited };
}

/** Every file under `dir` with its size, modification time and inode: equal snapshots mean that
 * nothing was created, removed, rewritten or appended to. (An idle server writes nothing.) */
function snapshot(dir: string, out = new Map<string, string>(), base = dir): Map<string, string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) snapshot(path, out, base);
    else {
      const s = statSync(path);
      out.set(path.slice(base.length + 1), `${s.size} bytes, mtime ${s.mtimeMs}, inode ${s.ino}`);
    }
  }
  return out;
}

const lockFile = (dir: string): string => join(realpathSync(dir), 'server.lock');
const lockHolder = (dir: string): { pid: number } => JSON.parse(readFileSync(lockFile(dir), 'utf8')) as { pid: number };

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

describe('one server per data directory', () => {
  it('refuses a second server in the same process with DataDirLocked before it opens any file, and the first keeps serving', async () => {
    const data = tempDataDir();
    const first = await startTestServer(data.dir);
    try {
      expect(lockHolder(data.dir).pid).toBe(process.pid);
      const before = snapshot(data.dir);
      const err = await startFailure(data.dir);
      expect(err.code).toBe('DataDirLocked');
      expect(err.message).toContain(`cannot use the data directory ${data.dir}: another server in this process (PID ${process.pid}) holds its lock ${lockFile(data.dir)}`);
      // no store was opened: no journal compacted, no audit entry, no file created or touched
      expect(snapshot(data.dir)).toEqual(before);
      expect((await fetch(`http://127.0.0.1:${first.httpPort}/health`)).status).toBe(200);
    } finally {
      await first.stop();
    }
    // a stopped server gives the directory back
    expect(existsSync(lockFile(data.dir))).toBe(false);
    const again = await startTestServer(data.dir);
    await again.stop();
    data.remove();
  });

  it('makes npm start on a directory another process holds exit non-zero with DataDirLocked and the holder PID, touching nothing', async () => {
    const data = tempDataDir();
    const first = await startTestServer(data.dir);
    try {
      const before = snapshot(data.dir);
      const run = await runServerProcess(data.dir);
      expect(run.code).toBe(1);
      expect(run.output).toContain(`iotcore: failed to start: DataDirLocked: cannot use the data directory ${data.dir}: another process (PID ${process.pid}) holds its lock ${lockFile(data.dir)}`);
      expect(snapshot(data.dir)).toEqual(before);
      expect((await fetch(`http://127.0.0.1:${first.httpPort}/health`)).status).toBe(200);
      expect(lockHolder(data.dir).pid).toBe(process.pid);
    } finally {
      await first.stop();
    }
    data.remove();
  });

  it('takes over the lock a server killed with SIGKILL left behind', async () => {
    const data = tempDataDir();
    const killed = await startServerProcess(data.dir);
    expect(lockHolder(data.dir).pid).toBe(killed.child.pid);
    killed.child.kill('SIGKILL');
    await killed.exited;
    expect(lockHolder(data.dir).pid).toBe(killed.child.pid); // the dead process's file is still there
    const server = await startTestServer(data.dir);
    try {
      expect(lockHolder(data.dir).pid).toBe(process.pid);
      expect((await fetch(`http://127.0.0.1:${server.httpPort}/health`)).status).toBe(200);
    } finally {
      await server.stop();
      data.remove();
    }
  });

  it('takes over a lock naming this process\'s PID that this process does not hold (a restarted container gets its old PID back)', async () => {
    const data = tempDataDir();
    writeFileSync(lockFile(data.dir), JSON.stringify({ pid: process.pid, startTime: '1', token: 'left-by-an-earlier-process', since: '2020-01-01T00:00:00.000Z' }));
    const server = await startTestServer(data.dir);
    try {
      expect(lockHolder(data.dir)).toMatchObject({ pid: process.pid });
      expect(lockHolder(data.dir)).not.toMatchObject({ token: 'left-by-an-earlier-process' });
    } finally {
      await server.stop();
      data.remove();
    }
  });

  it('still refuses through DuckDB\'s own lock (DatastoreLocked) when server.lock was deleted under a running server', async () => {
    const data = tempDataDir();
    const first = await startTestServer(data.dir);
    try {
      unlinkSync(lockFile(data.dir));
      // this process remembers what it holds, whatever became of the file
      expect((await startFailure(data.dir)).code).toBe('DataDirLocked');
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
});

describe('start-up with a database file it cannot have', () => {
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
