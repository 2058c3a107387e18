// Starts the real server (ephemeral ports, a fresh temp data directory) for integration tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type StartOptions } from '../../broker/index.js';
import { OPERATOR_ENV } from './operator.js';

export function tempDataDir(prefix = 'iotcore-test-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function startTestServer(dataDir: string, extra: StartOptions = {}): Promise<RunningServer> {
  // Integration tests of other features use the development mode (anonymous MQTT clients may do
  // everything); security tests pass their own `env` (e.g. `{}`) and get authentication and policies.
  // The operator TEST_OPERATOR (helpers/operator.ts) may sign in.
  return startServer({ dataDir, httpPort: 0, mqttPort: 0, mqttsPort: 0, host: '127.0.0.1', logLevel: 'silent', env: { IOT_ALLOW_ANONYMOUS: 'true', ...OPERATOR_ENV }, ...extra });
}

/** Polls until `check` returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function getJson<T = unknown>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as T };
}
