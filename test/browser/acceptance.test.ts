// Issue 7's acceptance run: one operator, one browser page, the real server and simulated devices
// over MQTT. Signing in, a device chart moving with live rows, an injected anomaly arriving in the
// alerts view and being acknowledged, a shadow edit the device obeys, a dataset run and its CSV,
// and a dataset content made outside the page showing up — all without reloading the page.
// Every step leaves a screenshot in test-artifacts/acceptance-<step>.png.
// Needs Chromium at /usr/bin/chromium (`apt-get install -y chromium`).
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { RunningServer } from '../../broker/index.js';
import { describeIfChromium, launchChromium, ROOT, startDashboardServer } from '../helpers/browser.js';
import { parseAnomalySpec, startFleet, type AnomalyLabel, type FleetOptionsInput, type FleetRun } from '../../devices-sim/index.js';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const PASSWORD = 'acceptance-test-password';

/** per step: generous, CI shares 2 cores between the server, the simulator and Chromium */
const STEP_MS = 90_000;
/** waits for something the server or a device does */
const WAIT_MS = 30_000;

type Server = RunningServer;

/** A fleet that runs until stopped; stop() resolves with its summary. */
function runUntilStopped({ controller: given, ...input }: FleetOptionsInput & { controller?: AbortController }) {
  const controller = given ?? new AbortController();
  const run: FleetRun = startFleet({ durationS: 0, rampUpMs: 300, qos: 1, ...input, signal: controller.signal });
  return {
    run,
    stop: () => {
      controller.abort();
      return run.done;
    },
  };
}

describeIfChromium('the acceptance browser test')('the dashboard acceptance run (issue 7)', () => {
  let dataDir: string;
  let server: Server;
  let browser: Browser;
  let page: Page;
  let base: string;
  const pageErrors: string[] = [];
  const fleets: { stop: () => Promise<unknown> }[] = [];

  /** The page's session cookie, for requests made from outside the page. */
  async function cookieHeader(): Promise<string> {
    const cookies = await page.context().cookies(base);
    return cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** A request to the server from outside the page, authenticated with the page's session. */
  async function outside<T>(method: 'GET' | 'POST', path: string): Promise<{ status: number; body: T }> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { cookie: await cookieHeader(), ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      body: method === 'POST' ? '{}' : undefined,
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  /** true while the document the test started with is still the one shown (no reload happened) */
  function samePage(): Promise<boolean> {
    return page.evaluate(() => (window as unknown as { acceptanceMarker?: number }).acceptanceMarker === 1);
  }

  function shot(step: string): Promise<Buffer> {
    return page.screenshot({ path: join(ARTIFACTS, `acceptance-${step}.png`) });
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ({ dataDir, server } = await startDashboardServer('iotcore-acceptance-', PASSWORD));
    base = `http://127.0.0.1:${server.httpPort}`;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 }, acceptDownloads: true }); // a laptop screen
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, STEP_MS);

  afterAll(async () => {
    await Promise.all(fleets.map((f) => f.stop().catch(() => undefined)));
    await browser?.close();
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, STEP_MS);

  afterEach(() => {
    // no uncaught exception in the page during any step
    expect(pageErrors).toEqual([]);
  });

  it('an operator signs in through the form, which is all there is before, after a wrong password is refused', async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector('#signin-form', { state: 'visible', timeout: WAIT_MS });
    expect(await page.locator('#app').isHidden()).toBe(true);
    expect(await page.locator('#nav').isVisible()).toBe(false);
    // marks this document: a reload later on would lose it
    await page.evaluate(() => {
      (window as unknown as { acceptanceMarker?: number }).acceptanceMarker = 1;
    });

    await page.fill('#signin-username', 'admin');
    await page.fill('#signin-password', 'not-the-password');
    await page.click('#signin-submit');
    await page.waitForSelector('#signin-error:not([hidden])', { timeout: WAIT_MS });
    expect(await page.textContent('#signin-error')).toMatch(/wrong username or password/i);
    expect(await page.locator('#app').isHidden()).toBe(true);
    await shot('1-signin');

    await page.fill('#signin-password', PASSWORD);
    await page.click('#signin-submit');
    await page.waitForSelector('#app:not([hidden])', { timeout: WAIT_MS });
    expect(await page.textContent('#operator-name')).toBe('admin');
    expect(await page.locator('#signin').isHidden()).toBe(true);
    await page.waitForSelector('#connection-state[data-state="live"]', { timeout: WAIT_MS });
    expect(await samePage()).toBe(true);
  }, STEP_MS);

  it("a simulated device's temperature chart moves as its telemetry arrives", async () => {
    const fleet = runUntilStopped({ url: `mqtt://127.0.0.1:${server.mqttPort}`, devices: 3, rate: 2, prefix: 'env', profile: 'environment' });
    fleets.push(fleet);

    // from the fleet view (GET /api/fleet every 5 s) into the device view
    await page.click('#nav a[data-nav="fleet"]');
    const link = page.locator('#fleet-body tr[data-device-id="env-2"] a[data-testid="fleet-device-link"]');
    await link.waitFor({ timeout: WAIT_MS });
    await link.click();
    await page.waitForSelector('[data-testid="device-view"]:not([hidden])', { timeout: WAIT_MS });
    expect(page.url()).toMatch(/#\/device\/env-2$/);

    const chart = '[data-testid="metric-chart"][data-metric="temperature"]';
    await page.waitForSelector(`${chart} canvas`, { timeout: WAIT_MS });
    const pointsNow = () => page.$eval(chart, (figure) => Number((figure as HTMLElement).dataset.points));
    await page.waitForFunction((sel) => Number(document.querySelector<HTMLElement>(sel)?.dataset.points) > 0, chart, { timeout: WAIT_MS });
    const first = await pointsNow();
    // the device publishes twice a second: several new points, each drawn without a reload
    await page.waitForFunction(([sel, n]) => Number(document.querySelector<HTMLElement>(sel as string)?.dataset.points) >= (n as number) + 4, [chart, first] as const, {
      timeout: WAIT_MS,
    });
    expect(await pointsNow()).toBeGreaterThanOrEqual(first + 4);
    await page.waitForSelector('[data-testid="device-state"][data-connected="true"]', { timeout: WAIT_MS });
    await page.waitForSelector('#shadow-status:not(:empty)', { timeout: WAIT_MS });
    await shot('2-device');

    const summary = await fleet.stop();
    fleets.splice(fleets.indexOf(fleet), 1);
    expect(summary.errors).toBe(0);
    expect(summary.acknowledged).toBe(summary.sent);
    expect(await samePage()).toBe(true);
  }, STEP_MS);

  it('an injected temperature spike raises an alert that appears live in the alerts view, and the operator acknowledges it', async () => {
    await page.click('#nav a[data-nav="alerts"]');
    await page.waitForSelector('[data-testid="alerts-view"]', { state: 'visible', timeout: WAIT_MS });
    await page.waitForFunction(() => !/Loading/.test(document.querySelector('[data-testid="alerts-status"]')?.textContent ?? 'Loading'), undefined, { timeout: WAIT_MS });
    expect(await page.locator('tr[data-alert-id]').count()).toBe(0);

    // The default ewma detector scores a device only after 100 readings: 20 msg/s puts the spike at
    // 7 s past that. The fleet stops at the spike, so no normal readings follow to clear the alert
    // (3 are needed) before the operator gets to it.
    const labels: AnomalyLabel[] = [];
    const stopAtSpike = new AbortController();
    const fleet = runUntilStopped({
      url: `mqtt://127.0.0.1:${server.mqttPort}`,
      devices: 2,
      rate: 20,
      prefix: 'spike',
      controller: stopAtSpike,
      anomalies: {
        specs: [parseAnomalySpec('spike:temperature@7:+15')],
        devices: 1,
        onLabel: (label) => {
          labels.push(label);
          stopAtSpike.abort();
        },
      },
    });
    fleets.push(fleet);

    const row = page.locator('tr[data-alert-id][data-device-id="spike-1"][data-state="ACTIVE"]');
    await row.waitFor({ timeout: WAIT_MS });
    const summary = await fleet.stop();
    fleets.splice(fleets.indexOf(fleet), 1);
    expect(labels).toEqual([expect.objectContaining({ deviceId: 'spike-1', kind: 'spike', metric: 'temperature' })]);
    expect(summary.errors).toBe(0);
    const alertId = (await row.getAttribute('data-alert-id'))!;
    const alertRow = page.locator(`tr[data-alert-id="${alertId}"]`);
    expect(await alertRow.locator('[data-field="source"]').textContent()).toMatch(/temperature_anomalies \/ temperature/);
    expect(await samePage()).toBe(true); // it came over the live feed

    await alertRow.locator('button[data-action="acknowledge"]').click();
    await page.waitForSelector(`tr[data-alert-id="${alertId}"][data-state="ACKNOWLEDGED"]`, { timeout: WAIT_MS });
    expect(await alertRow.locator('button[data-action="acknowledge"]').isDisabled()).toBe(true);
    const stored = await outside<{ id: string; state: string; deviceId: string }>('GET', `/api/alerts/${encodeURIComponent(alertId)}`);
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ id: alertId, state: 'ACKNOWLEDGED', deviceId: 'spike-1' });
    // the click scrolled the wide table to the buttons: back to its first columns for the picture
    await page.$eval('[data-testid="alerts-table"]', (table) => table.parentElement?.scrollTo(0, 0));
    await shot('3-alert');
  }, STEP_MS);

  it("editing a plug's desired state in its shadow makes the plug switch and report it", async () => {
    const fleet = runUntilStopped({ url: `mqtt://127.0.0.1:${server.mqttPort}`, devices: 1, rate: 1, prefix: 'plug', profile: 'plug' });
    fleets.push(fleet);

    await page.click('#nav a[data-nav="fleet"]');
    const link = page.locator('#fleet-body tr[data-device-id="plug-1"] a[data-testid="fleet-device-link"]');
    await link.waitFor({ timeout: WAIT_MS });
    await link.click();
    await page.waitForSelector('[data-testid="device-view"]:not([hidden])', { timeout: WAIT_MS });
    await page.waitForSelector('[data-testid="shadow-panel"]', { state: 'visible', timeout: WAIT_MS });

    // a plug starts on and reports so at connect (the panel re-reads the shadow every 2 s)
    const reportedSays = (power: string) =>
      page.waitForFunction((p) => (document.querySelector('#shadow-reported')?.textContent ?? '').includes(`"power": "${p}"`), power, { timeout: WAIT_MS });
    await reportedSays('on');

    await page.fill('#shadow-editor', '{"power": "off"}');
    expect(await page.locator('#shadow-error').isHidden()).toBe(true);
    await page.click('#shadow-save');
    await page.waitForFunction(() => (document.querySelector('#shadow-desired')?.textContent ?? '').includes('"power": "off"'), undefined, { timeout: WAIT_MS });
    await reportedSays('off');
    await page.waitForFunction(() => /in sync/.test(document.querySelector('#shadow-status')?.textContent ?? ''), undefined, { timeout: WAIT_MS });
    await shot('4-shadow');

    const summary = await fleet.stop();
    fleets.splice(fleets.indexOf(fleet), 1);
    expect(summary.shadow?.applied).toBeGreaterThanOrEqual(1);
    expect(summary.errors).toBe(0);
    expect(await samePage()).toBe(true);
  }, STEP_MS);

  it('running a dataset shows its content as a table and downloads it as CSV', async () => {
    await server.analytics.flush(); // every acknowledged reading is in the datastore
    await page.click('#nav a[data-nav="datasets"]');
    await page.click('a[data-dataset="fleet_summary"]');
    await page.waitForSelector('a[data-dataset="fleet_summary"][aria-current="true"]', { timeout: WAIT_MS });
    const run = page.locator('[data-testid="dataset-run"]');
    await run.waitFor({ state: 'visible', timeout: WAIT_MS });
    await run.click();
    await page.waitForFunction(() => /^Ran at/.test(document.querySelector('[data-testid="dataset-status"]')?.textContent ?? ''), undefined, { timeout: WAIT_MS });

    // one row per device that stored telemetry (plug readings have no battery: the pipeline's filter drops them)
    const devices = ['env-1', 'env-2', 'env-3', 'spike-1', 'spike-2'];
    const table = page.locator('[data-testid="dataset-table"]');
    expect(await table.getAttribute('data-rows')).toBe(String(devices.length));
    const tableText = (await table.textContent()) ?? '';
    for (const id of devices) expect(tableText).toContain(id);
    const versionId = await page.getAttribute('[data-testid="dataset-content"]', 'data-version-id');
    expect(versionId).toBeTruthy();

    const [download] = await Promise.all([page.waitForEvent('download', { timeout: WAIT_MS }), page.click('a[data-testid="dataset-csv"]')]);
    expect(download.suggestedFilename()).toBe(`fleet_summary-${versionId}.csv`);
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv.trim().split(/\r?\n/);
    expect(lines[0].split(',')).toEqual(['deviceId', 'messages', 'avg_temperature', 'min_battery', 'last_seen']);
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(devices);
    await shot('5-dataset');
    expect(await samePage()).toBe(true);
  }, STEP_MS);

  it('contents of a new dataset made outside the page show in the open datasets view without a reload', async () => {
    const name = 'hottest_readings';
    await server.analytics.putDataset({
      datasetName: name,
      actions: [
        {
          actionName: 'hottest',
          queryAction: { sqlQuery: 'SELECT deviceId, max(temperature) AS max_temperature, count(*) AS readings FROM telemetry_store GROUP BY deviceId ORDER BY deviceId' },
        },
      ],
    });

    // a content made while another dataset is shown: the live feed brings the new name into the list
    const first = await outside<{ versionId: string; state: string }>('POST', `/api/datasets/${name}/contents`);
    expect(first).toMatchObject({ status: 200, body: { state: 'SUCCEEDED' } });
    const link = page.locator(`a[data-dataset="${name}"][data-updated="true"]`); // marked as new content
    await link.waitFor({ timeout: WAIT_MS });
    await link.click();
    await page.waitForSelector(`[data-testid="dataset-content"][data-version-id="${first.body.versionId}"]`, { timeout: WAIT_MS });

    // the next content, made while this dataset is shown, replaces it in place
    const second = await outside<{ versionId: string; state: string }>('POST', `/api/datasets/${name}/contents`);
    expect(second).toMatchObject({ status: 200, body: { state: 'SUCCEEDED' } });
    expect(second.body.versionId).not.toBe(first.body.versionId);
    await page.waitForSelector(`[data-testid="dataset-content"][data-version-id="${second.body.versionId}"]`, { timeout: WAIT_MS });
    await page.waitForFunction(() => /^New content at/.test(document.querySelector('[data-testid="dataset-status"]')?.textContent ?? ''), undefined, { timeout: WAIT_MS });
    expect(await page.getAttribute('[data-testid="dataset-table"]', 'data-rows')).toBe('5');
    await shot('6-dataset-live');
    expect(await samePage()).toBe(true);
  }, STEP_MS);
});
