// The three MQTT brokers the broker benchmarks compare, each started fresh as its own process on
// 127.0.0.1 and a free port, so they are measured from outside the same way:
// - iotcore: our server as shipped (broker/main.ts, embedded demo configuration: rules, channel,
//   pipeline, DuckDB datastore, detectors), anonymous development mode, logs at error level;
// - mosquitto: Debian's package, its own generated configuration (anonymous, no persistence,
//   queues and in-flight windows that never limit it);
// - aedes: aedes 1.x with its defaults on a plain net server (bare-aedes.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { debianPackageVersion, ensureDebianPackage } from './debian-package.js';
import { removeTempDir, spawnTracked, spawnTs, stderrTail, stopChild, tempDir, waitForLine } from './children.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunningBroker {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export interface BrokerKind {
  /** column value in the tables */
  name: 'iotcore' | 'mosquitto' | 'aedes';
  /** what is measured, with its version, for the header */
  describe(): string;
  /** installs what is missing (mosquitto); throws with the reason */
  prepare(): void;
  start(): Promise<RunningBroker>;
}

const STARTUP_TIMEOUT_MS = 60_000;

function packageVersion(dir: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function pidOf(child: ChildProcess): number {
  if (child.pid === undefined) throw new Error('the process did not start');
  return child.pid;
}

export const iotcore: BrokerKind = {
  name: 'iotcore',
  describe: () => `iotcore ${packageVersion('.')} (broker/main.ts as shipped: embedded demo configuration with its rules, channel, pipeline, datastore and detectors; anonymous MQTT)`,
  prepare() {},
  async start() {
    const dataDir = tempDir('iotcore-bench-broker-');
    const args = ['--data-dir', dataDir, '--http-port', '0', '--mqtt-port', '0', '--mqtts-port', '0', '--host', '127.0.0.1', '--log-level', 'error'];
    // development mode: devices connect without credentials, as the other two brokers allow
    const env = { ...process.env, IOT_ALLOW_ANONYMOUS: 'true' };
    const child = spawnTs(join(ROOT, 'broker/main.ts'), args, env);
    const tail = stderrTail(child);
    try {
      const match = await waitForLine(child, /MQTT on port (\d+)/, STARTUP_TIMEOUT_MS, () => `stderr: ${tail() || '(empty)'}`);
      return {
        port: Number(match[1]),
        pid: pidOf(child),
        // SIGTERM: main.ts flushes the datastore and stops, as an operator's stop would
        stop: async () => {
          await stopChild(child, 20_000);
          removeTempDir(dataDir);
        },
      };
    } catch (err) {
      await stopChild(child, 2000);
      removeTempDir(dataDir);
      throw err;
    }
  },
};

export const bareAedes: BrokerKind = {
  name: 'aedes',
  describe: () => `bare aedes ${packageVersion('node_modules/aedes')} (defaults: in-memory persistence and mqemitter, plain net server, no hooks)`,
  prepare() {},
  async start() {
    const child = spawnTs(join(ROOT, 'bench/peers/bare-aedes.ts'), []);
    const tail = stderrTail(child);
    try {
      const match = await waitForLine(child, /ready: port (\d+)/, STARTUP_TIMEOUT_MS, () => `stderr: ${tail() || '(empty)'}`);
      return { port: Number(match[1]), pid: pidOf(child), stop: () => stopChild(child, 5000) };
    } catch (err) {
      await stopChild(child, 2000);
      throw err;
    }
  },
};

let mosquittoBinary: string | undefined;

export const mosquitto: BrokerKind = {
  name: 'mosquitto',
  describe: () => `mosquitto ${debianPackageVersion('mosquitto')} (Debian package; anonymous, persistence off, queues and in-flight windows unlimited)`,
  prepare() {
    mosquittoBinary = ensureDebianPackage('mosquitto', 'mosquitto');
  },
  async start() {
    if (!mosquittoBinary) throw new Error('mosquitto is not installed (prepare() failed)');
    const dir = tempDir('iotcore-bench-mosquitto-');
    const port = await freePort();
    const config = join(dir, 'mosquitto.conf');
    writeFileSync(config, [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'max_connections -1',
      'persistence false',
      // never the limit: aedes has no in-flight window and no queue cap either (0 = no maximum)
      'max_inflight_messages 0',
      'max_queued_messages 0',
      'max_queued_bytes 0',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'connection_messages false',
      '',
    ].join('\n'));
    const child = spawnTracked(mosquittoBinary, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    const tail = stderrTail(child);
    try {
      await waitForPort(child, port, () => `stderr: ${tail() || '(empty)'}`);
      return {
        port,
        pid: pidOf(child),
        stop: async () => {
          await stopChild(child, 5000);
          removeTempDir(dir);
        },
      };
    } catch (err) {
      await stopChild(child, 2000);
      removeTempDir(dir);
      throw err;
    }
  },
};

export const BROKERS: readonly BrokerKind[] = [iotcore, mosquitto, bareAedes];

/** A port free right now on 127.0.0.1 (for a program that cannot report the one it took). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves once a TCP connection to the port succeeds; rejects when the process exits first. */
async function waitForPort(child: ChildProcess, port: number, describe: () => string): Promise<void> {
  const deadline = performance.now() + STARTUP_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.signalCode ?? `code ${child.exitCode}`}) before it listened; ${describe()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not listening on port ${port} after ${STARTUP_TIMEOUT_MS / 1000} s; ${describe()}`);
}

/** Prepares every broker; those that cannot be prepared are reported and left out. */
export function availableBrokers(filter: (name: string) => boolean = () => true): BrokerKind[] {
  const out: BrokerKind[] = [];
  for (const broker of BROKERS.filter((b) => filter(b.name))) {
    try {
      broker.prepare();
      out.push(broker);
    } catch (err) {
      console.log(`! ${broker.name}: cannot be installed, left out of this run: ${(err as Error).message}`);
    }
  }
  return out;
}
