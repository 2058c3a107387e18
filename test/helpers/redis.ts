// A throw-away redis-server for cluster tests: a free port, no persistence, its own temporary
// directory, killed afterwards. The binary comes from the Debian package (`apt-get install
// redis-server`; .ci/run installs it). Without it the suites skip with a message, except in CI
// (process.env.CI set), where they fail: CI must run them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const INSTALL_HINT = 'install it with `apt-get install redis-server` (Debian; it is not started as a service by the tests)';

function hasBinary(name: string): boolean {
  return spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** describe() when redis-server is installed; otherwise a skip (a failure in CI) that says why. */
export function describeWithRedis(name: string, body: () => void): void {
  if (hasBinary('redis-server') && hasBinary('redis-cli')) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      it('has redis-server and redis-cli installed', () => {
        throw new Error(`redis-server or redis-cli not found on PATH: ${INSTALL_HINT}`);
      });
    });
  } else {
    console.warn(`skipping "${name}": redis-server or redis-cli not found on PATH; ${INSTALL_HINT}`);
    describe.skip(name, body);
  }
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** runs a command with redis-cli and answers its output, trimmed */
  cli(...args: string[]): string;
  /** kills the server (SIGKILL: an outage, not a shutdown); resolves once it has exited */
  kill(): Promise<void>;
}

/** A port nothing listens on (just freed). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'iotcore-redis-'));
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => rmSync(dir, { recursive: true, force: true }));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server on port ${port} did not start: ${out}`)), 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${out}`));
    });
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cli(...args) {
      const r = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.trim();
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
