// The server as its own process (broker/main.ts), for tests that kill -9 it and restart it on the
// same data directory, and the packet-id provider those tests' devices resend with.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { PortsFile } from '../../broker/index.js';
import { eventually } from './server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildServer {
  child: ChildProcess;
  ports: PortsFile;
  /** its exit code (null when killed by a signal) */
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();

/** Kills every child server still running (call it in afterAll). */
export function killChildServers(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Starts `broker/main.ts` on free loopback ports, anonymous MQTT, and waits for its ports.json. */
export async function startChildServer(dataDir: string, configFile: string, env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ChildServer> {
  const portsFile = join(dataDir, 'ports.json');
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'broker/main.ts'), '--http-port', '0', '--mqtt-port', '0', '--host', '127.0.0.1', '--config', configFile], {
    cwd: ROOT,
    env: { ...process.env, IOT_LOG_LEVEL: 'warn', IOT_ALLOW_ANONYMOUS: 'true', IOT_MQTTS_PORT: '0', IOT_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // ports.json of a killed or earlier server names another pid: wait for this child's
  const ports = await eventually(
    async () => {
      if (!existsSync(portsFile)) return undefined;
      const p = JSON.parse(readFileSync(portsFile, 'utf8')) as PortsFile;
      return p.pid === child.pid ? p : undefined;
    },
    timeoutMs,
    'ports.json of the new server process',
  );
  return { child, ports, exited };
}

/** Hands mqtt.js the packet identifier the device chose, so a resend carries the original's. */
export class ChosenIds implements NonNullable<IClientOptions['messageIdProvider']> {
  next = 1;
  allocate(): number {
    return this.next;
  }
  getLastAllocated(): number {
    return this.next;
  }
  register(): boolean {
    return true;
  }
  deallocate(): void {}
  clear(): void {}
}

/** The server now running; devices wait on `ready` while it is down (killed, not yet restarted). */
export class Incarnation {
  server!: ChildServer;
  ready!: Promise<ChildServer>;
  /** counts the servers brought up: which run a connection (and its PUBACKs) belongs to */
  generation = 0;
  private resolveReady!: (s: ChildServer) => void;
  down(): void {
    this.ready = new Promise((r) => (this.resolveReady = r));
  }
  up(s: ChildServer): void {
    this.server = s;
    this.generation++;
    this.resolveReady(s);
  }
}

/** Connects a device to the server now running, with packet ids it chooses itself (ChosenIds);
 * undefined when that server was killed before the CONNACK (wait for the next and try again). */
export async function connectToCurrent(inc: Incarnation, options: IClientOptions): Promise<{ client: MqttClient; ids: ChosenIds; generation: number } | undefined> {
  const server = await inc.ready;
  const generation = inc.generation;
  const ids = new ChosenIds();
  try {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.ports.mqtt}`, { reconnectPeriod: 0, ...options, messageIdProvider: ids });
    return { client, ids, generation };
  } catch {
    await new Promise((r) => setTimeout(r, 100)); // killed between ports.json and connect
    return undefined;
  }
}
