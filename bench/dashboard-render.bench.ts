// One million history points in the dashboard, in Debian's Chromium (headless):
// - "through the app": one device with 1,000,000 rows in the datastore (a week of readings, one
//   every 0.6 s); the device view asks for the whole week, the server decimates it to the
//   chart's width (min/avg/max per bucket), and the chart draws it. Timed by the page itself
//   (HISTORY_DRAWN_EVENT: from the request to the drawn chart).
// - "raw in the browser": the dashboard's chart module given 1,000,000 points as they are, from
//   setData to the next animation frame after the draw, without any decimation.
// Each is repeated; the median and the worst are reported. Target (issue 7): under 500 ms.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { startServer } from '../broker/index.js';
import type { HistoryDrawnDetail } from '../dashboard/src/view.js';
import { machineHeader, table } from './machine.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const POINTS = Number(process.env.BENCH_POINTS ?? 1_000_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const DEVICE = 'render-1';
const PASSWORD = 'bench-operator-password';
const WEEK_MS = 7 * 24 * 3600 * 1000;
const BATCH = 10_000;

if (!existsSync(CHROMIUM)) {
  console.log(`dashboard-render: skipped, ${CHROMIUM} is missing (apt-get install -y chromium)`);
  process.exit(0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The chart module alone, bundled for a blank page (window.createTimeChart). */
async function chartBundle(): Promise<string> {
  const out = await build({
    stdin: { contents: "import { createTimeChart } from '../dashboard/src/chart.ts'; (window as any).createTimeChart = createTimeChart;", resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'ts' },
    bundle: true, write: false, format: 'iife', target: 'es2020', minify: true, logLevel: 'silent',
  });
  return out.outputFiles[0].text;
}

execFileSync(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'dashboard/build.ts')], { cwd: ROOT, stdio: 'pipe' });
const dataDir = mkdtempSync(join(tmpdir(), 'iotcore-render-bench-'));
const server = await startServer({ dataDir, httpPort: 0, mqttPort: 0, mqttsPort: 0, host: '127.0.0.1', config: 'default', logLevel: 'error', env: { IOT_OPERATOR_PASSWORD: PASSWORD } });
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
const rows: Record<string, string | number>[] = [];
try {
  // a week of one device's readings through the real channel → pipeline → datastore path
  const loadStart = performance.now();
  const end = Date.now();
  const step = WEEK_MS / POINTS;
  for (let first = 0; first < POINTS; first += BATCH) {
    const batch = [];
    for (let i = first; i < Math.min(POINTS, first + BATCH); i++) {
      const at = Math.round(end - WEEK_MS + i * step);
      const temperature = 21 + 4 * Math.sin(i / 5000);
      batch.push({ payload: Buffer.from(JSON.stringify({ deviceId: DEVICE, ts: at, seq: i, temperature, humidity: 40 + (i % 20), battery: 100 - i / POINTS * 50 })), receivedAt: at });
    }
    await server.analytics.ingest('telemetry', batch);
  }
  await server.analytics.flush();
  const loadS = (performance.now() - loadStart) / 1000;

  const base = `http://127.0.0.1:${server.httpPort}`;
  const signIn = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
  const token = signIn.headers.get('set-cookie')?.match(/iotcore_session=([^;]+)/)?.[1];
  if (!token) throw new Error(`sign-in failed: ${signIn.status}`);
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  await context.addCookies([{ name: 'iotcore_session', value: token, url: base }]);

  // through the app: each visit of the device view with the week preset draws the whole week
  const page = await context.newPage();
  const appMs: number[] = [];
  let drawn: HistoryDrawnDetail | undefined;
  for (let i = 0; i < REPEATS; i++) {
    await page.goto(`${base}/#/device/${DEVICE}`);
    await page.waitForSelector('button[data-range="7d"]');
    // the week preset's draw, not the first hour's that opening the view starts
    const detail = page.evaluate(({ event, minRows }) => new Promise<HistoryDrawnDetail>((resolve) => {
      window.addEventListener(event, (e) => {
        const d = (e as CustomEvent<HistoryDrawnDetail>).detail;
        if (d.rowsInRange >= minRows) resolve(d);
      });
    }), { event: 'iotcore:history-drawn', minRows: 0.9 * POINTS });
    await page.click('button[data-range="7d"]');
    drawn = await detail;
    appMs.push(drawn.ms);
  }
  rows.push({ path: 'through the app (server decimation)', 'rows in range': drawn?.rowsInRange ?? 0, 'points drawn': drawn?.points ?? 0, 'median ms': median(appMs).toFixed(0), 'worst ms': Math.max(...appMs).toFixed(0) });

  // raw: the chart module alone with every point
  const raw = await context.newPage();
  await raw.setContent(`<!doctype html><html><body><div id="chart" style="width:1366px"></div><script>${await chartBundle()}</script></body></html>`);
  const rawMs: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    rawMs.push(await raw.evaluate((n) => new Promise<number>((resolve) => {
      const xs = new Array<number>(n);
      const ys = new Array<number>(n);
      const start = Date.now() - 7 * 24 * 3600 * 1000;
      for (let k = 0; k < n; k++) {
        xs[k] = start + k * 600;
        ys[k] = 21 + 4 * Math.sin(k / 5000);
      }
      const container = document.getElementById('chart')!;
      container.replaceChildren();
      const t0 = performance.now();
      const chart = (window as unknown as { createTimeChart(c: HTMLElement, o: object): { setData(d: number[][]): void } }).createTimeChart(container, { seriesLabels: ['temperature'] });
      chart.setData([xs, ys]);
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0)));
    }), POINTS));
  }
  rows.push({ path: 'raw in the browser (no decimation)', 'rows in range': POINTS, 'points drawn': POINTS, 'median ms': median(rawMs).toFixed(0), 'worst ms': Math.max(...rawMs).toFixed(0) });
  console.log(machineHeader(`one million history points in the dashboard (Chromium headless, 1366×900; ${REPEATS} runs each; loading the rows took ${loadS.toFixed(1)} s)`));
  console.log(table(rows));
  console.log('target: under 500 ms');
} finally {
  await browser.close();
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
