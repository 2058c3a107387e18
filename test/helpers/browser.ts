// What the browser tests (and the dashboard benchmarks) share: Debian's Chromium, launched the way
// this machine allows (headless, no sandbox as root, no background networking: the network is
// closed and Chromium's own connections would be refused), and a freshly built dashboard served
// by a real server with the embedded configuration.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { startServer } from '../../broker/index.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** `describe`, or `describe.skip` with a warning naming the missing browser. */
export function describeIfChromium(what: string): jest.Describe {
  if (existsSync(CHROMIUM)) return describe;
  console.warn(`skipping ${what}: ${CHROMIUM} is missing (apt-get install -y chromium)`);
  return describe.skip;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** Builds the dashboard (the server reads dashboard/dist once at start) and starts a server on
 * free ports in a new data directory, anonymous MQTT allowed, operator `admin` with `password`. */
export async function startDashboardServer(dataDirPrefix: string, password: string) {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'dashboard/build.ts')], { cwd: ROOT, stdio: 'pipe' });
  const dataDir = mkdtempSync(join(tmpdir(), dataDirPrefix));
  const server = await startServer({
    dataDir, httpPort: 0, mqttPort: 0, mqttsPort: 0, config: 'default', logLevel: 'silent',
    env: { IOT_ALLOW_ANONYMOUS: 'true', IOT_OPERATOR_PASSWORD: password },
  });
  return { dataDir, server };
}
