// Publish-to-chart latency: simulated devices put their clock in each payload (`ts`), publish
// over MQTT (QoS 1), and the message goes rule → channel → pipeline → DuckDB → live feed →
// WebSocket → the device view's chart in Debian's Chromium (headless), one open page per watched
// device. The page reports every drawn row's `ts` and the time after the draw (CHART_DRAWN_EVENT);
// the difference is the latency an operator sees. Same machine, same clock. Steps: the demo load
// (5 devices × 1 msg/s), then a busier fleet with the same 5 pages watching 5 of its devices.
// Target (issue 7): p99 under 250 ms at the demo load.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { chromium, type Page } from 'playwright-core';
import { startServer } from '../broker/index.js';
import { runFleet } from '../devices-sim/index.js';
import type { ChartDrawnDetail } from '../dashboard/src/view.js';
import { machineHeader, table } from './machine.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 60);
const PASSWORD = 'bench-operator-password';
const WATCHED = Number(process.env.BENCH_WATCHED ?? 5);
const STEPS = [
  { name: 'demo load', devices: 5, rate: 1 },
  { name: 'busier fleet', devices: 100, rate: 10 },
];

if (!existsSync(CHROMIUM)) {
  console.log(`dashboard-latency: skipped, ${CHROMIUM} is missing (apt-get install -y chromium)`);
  process.exit(0);
}

const pct = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);

execFileSync(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'dashboard/build.ts')], { cwd: ROOT, stdio: 'pipe' });
const dataDir = mkdtempSync(join(tmpdir(), 'iotcore-latency-bench-'));
const server = await startServer({ dataDir, httpPort: 0, mqttPort: 0, mqttsPort: 0, host: '127.0.0.1', config: 'default', logLevel: 'error', env: { IOT_ALLOW_ANONYMOUS: 'true', IOT_OPERATOR_PASSWORD: PASSWORD } });
// Chromium throttles the animation frames of pages in the background to save power: each of the
// five pages stands for an operator's foreground tab, so none may be treated as hidden.
const browser = await chromium.launch({
  executablePath: CHROMIUM, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-renderer-backgrounding', '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows'],
});
const rows: Record<string, string | number>[] = [];
try {
  const base = `http://127.0.0.1:${server.httpPort}`;
  const signIn = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
  const token = signIn.headers.get('set-cookie')?.match(/iotcore_session=([^;]+)/)?.[1];
  if (!token) throw new Error(`sign-in failed: ${signIn.status}`);

  for (const step of STEPS) {
    const prefix = step.name.replace(/\W+/g, '');
    const latencies: number[] = [];
    const pages: Page[] = [];
    for (let n = 1; n <= WATCHED; n++) {
      // a browser context (a window) per page: tabs behind the active one get no animation frames
      const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
      await context.addCookies([{ name: 'iotcore_session', value: token, url: base }]);
      const page = await context.newPage();
      await page.exposeFunction('reportDrawn', (detail: ChartDrawnDetail) => {
        for (const ts of detail.ts) latencies.push(detail.drawnAt - ts);
      });
      await page.addInitScript((event) => window.addEventListener(event, (e) => (window as unknown as { reportDrawn(d: unknown): void }).reportDrawn((e as CustomEvent).detail)), 'iotcore:chart-drawn');
      await page.goto(`${base}/#/device/${prefix}-${n}`);
      pages.push(page);
    }
    const summary = await runFleet({ url: `mqtt://127.0.0.1:${server.mqttPort}`, devices: step.devices, rate: step.rate, durationS: DURATION_S, qos: 1, prefix, rampUpMs: 1000 });
    await new Promise((r) => setTimeout(r, 1000)); // the last frames in flight
    for (const page of pages) await page.context().close();
    const sorted = latencies.sort((a, b) => a - b);
    rows.push({
      load: `${step.name}: ${step.devices} devices × ${step.rate} msg/s`,
      'messages sent': summary.sent,
      'points drawn (watched)': sorted.length,
      'p50 ms': pct(sorted, 50).toFixed(0),
      'p99 ms': pct(sorted, 99).toFixed(0),
      'max ms': pct(sorted, 100).toFixed(0),
    });
  }
  console.log(machineHeader(`publish-to-chart latency (device ts in the payload → point drawn in the page; ${WATCHED} device views open in Chromium headless, ${DURATION_S} s per step)`));
  console.log(table(rows));
  console.log('target: p99 under 250 ms at the demo load');
} finally {
  await browser.close();
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
