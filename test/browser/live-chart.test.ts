// The dashboard in a real browser against the real server: a simulated fleet publishes over MQTT,
// rows reach the datastore and the live feed, and the page charts and tabulates them; a dataset
// is run from the panel. Needs Chromium at /usr/bin/chromium (`apt-get install -y chromium`).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer } from '../../broker/index.js';
import { startFleet, type Summary } from '../../devices-sim/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const DEVICES = ['browser-1', 'browser-2', 'browser-3'];
const describeIfChromium = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) console.warn(`skipping the browser test: ${CHROMIUM} is missing (apt-get install -y chromium)`);

const TIMEOUT_MS = 90_000;

type Server = Awaited<ReturnType<typeof startServer>>;

/** The text of every device row's temperature and humidity cells, keyed by device id. */
function readingsOnPage(page: Page): Promise<Record<string, string>> {
  return page.$$eval('#devices-body tr', (rows) =>
    Object.fromEntries(
      rows.map((row) => [
        (row as HTMLElement).dataset.deviceId ?? '',
        ['temperature', 'humidity'].map((f) => row.querySelector(`[data-field="${f}"]`)?.textContent ?? '').join(' | '),
      ]),
    ),
  );
}

describeIfChromium('dashboard in a browser', () => {
  let dataDir: string;
  let server: Server;
  let browser: Browser;
  let page: Page;
  let stopped = false;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // The server reads dashboard/dist once at start: build first so the page is current.
    execFileSync(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'dashboard/build.ts')], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    dataDir = mkdtempSync(join(tmpdir(), 'iotcore-browser-'));
    server = await startServer({ dataDir, httpPort: 0, mqttPort: 0, mqttsPort: 0, config: 'default', logLevel: 'silent', env: { IOT_ALLOW_ANONYMOUS: 'true' } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1366, height: 900 } }); // a laptop screen
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    if (!stopped) await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, TIMEOUT_MS);

  it('charts and tabulates a live fleet, and runs a dataset from the panel', async () => {
    await page.goto(`http://127.0.0.1:${server.httpPort}/`);
    await expect(page.title()).resolves.toBe('iotcore dashboard');
    await page.waitForSelector('#connection-state[data-state="live"]', { timeout: 10_000 });
    expect(await page.textContent('#connection-state')).toContain('telemetry_store');

    const fleet = startFleet({
      url: `mqtt://127.0.0.1:${server.mqttPort}`,
      devices: DEVICES.length,
      rate: 4,
      durationS: 6,
      qos: 1,
      prefix: 'browser',
      rampUpMs: 300,
    });

    // Every simulated device gets a row in the table, with a temperature in a plausible range.
    for (const id of DEVICES) {
      await page.waitForSelector(`#devices-body tr[data-device-id="${id}"]`, { timeout: 15_000 });
    }
    const first = await readingsOnPage(page);
    expect(Object.keys(first).sort()).toEqual(DEVICES);
    for (const text of Object.values(first)) expect(text).toMatch(/^\d+\.\d\d °C \| \d+\.\d %$/);

    // The chart is drawn on a canvas, with one series per device in its legend.
    expect(await page.locator('#chart canvas').count()).toBeGreaterThan(0);
    await page.waitForFunction(
      (ids) => ids.every((id) => document.querySelector('#chart .u-legend')?.textContent?.includes(id)),
      DEVICES,
      { timeout: 10_000 },
    );

    // Values move as new rows arrive.
    await page.waitForFunction(
      ({ before }) =>
        [...document.querySelectorAll('#devices-body tr')].some((row) => {
          const id = (row as HTMLElement).dataset.deviceId ?? '';
          const now = ['temperature', 'humidity'].map((f) => row.querySelector(`[data-field="${f}"]`)?.textContent ?? '').join(' | ');
          return now !== before[id];
        }),
      { before: first },
      { timeout: 15_000 },
    );

    const summary: Summary = await fleet.done;
    expect(summary.connected).toBe(DEVICES.length);
    expect(summary.acknowledged).toBe(summary.sent);
    expect(summary.errors).toBe(0);

    // Run the first dataset with the keyboard: focus its Run button and press Enter.
    const run = page.locator('#datasets-list button').first();
    await run.waitFor({ timeout: 10_000 });
    await run.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('#dataset-result table tbody tr, #datasets-error:not([hidden])', { timeout: 15_000 });
    expect(await page.locator('#datasets-error').isHidden()).toBe(true);
    expect(await page.locator('#dataset-result table thead th').count()).toBeGreaterThan(0);
    const resultText = (await page.textContent('#dataset-result table tbody')) ?? '';
    for (const id of DEVICES) expect(resultText).toContain(id);

    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-artifacts', 'dashboard.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, TIMEOUT_MS);

  it('shows the outage: the live state turns to reconnecting and a dataset run reports the error', async () => {
    await server.stop();
    stopped = true;
    await page.waitForSelector('#connection-state[data-state="reconnecting"], #connection-state[data-state="connecting"]', {
      timeout: 10_000,
    });
    expect(await page.textContent('#connection-state')).toMatch(/retrying|connecting/);
    await page.locator('#datasets-list button').first().click();
    await page.waitForSelector('#datasets-error:not([hidden])', { timeout: 10_000 });
    expect(await page.textContent('#datasets-error')).toMatch(/^NetworkError: cannot reach the server/);
  }, TIMEOUT_MS);
});
