// The dashboard in a real browser against the real server: an operator signs in through the form,
// a simulated fleet publishes over MQTT, the fleet view lists the devices with live values, a
// device's charts grow with its live rows, its shadow is edited, and an outage shows in the live
// status. Needs Chromium at /usr/bin/chromium (`apt-get install -y chromium`).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { RunningServer } from '../../broker/index.js';
import { describeIfChromium, launchChromium, ROOT, startDashboardServer } from '../helpers/browser.js';
import { startFleet, type Summary } from '../../devices-sim/index.js';

const DEVICES = ['browser-1', 'browser-2', 'browser-3'];
const PASSWORD = 'browser-test-password';

const TIMEOUT_MS = 120_000;

type Server = RunningServer;

function pointsOf(page: Page, metric: string): Promise<number> {
  return page.$eval(`[data-testid="metric-chart"][data-metric="${metric}"]`, (figure) => Number((figure as HTMLElement).dataset.points));
}

async function signIn(page: Page, password: string): Promise<void> {
  await page.fill('#signin-username', 'admin');
  await page.fill('#signin-password', password);
  await page.press('#signin-password', 'Enter');
}

describeIfChromium('the browser test')('dashboard in a browser', () => {
  let dataDir: string;
  let server: Server;
  let browser: Browser;
  let page: Page;
  let stopped = false;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ({ dataDir, server } = await startDashboardServer('iotcore-browser-', PASSWORD));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } }); // a laptop screen
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    if (!stopped) await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, TIMEOUT_MS);

  it('signs in, lists the live fleet, charts a device as its rows arrive and edits its shadow', async () => {
    const apiRequests: string[] = [];
    const recordApi = (request: { url(): string }) => {
      const path = new URL(request.url()).pathname;
      if (path.startsWith('/api/') || path.startsWith('/things/')) apiRequests.push(path);
    };
    page.on('request', recordApi);
    await page.goto(`http://127.0.0.1:${server.httpPort}/`);
    await expect(page.title()).resolves.toBe('iotcore dashboard');

    // Signed out: the form and nothing else, and nothing fetched but the session check.
    await page.waitForSelector('#signin-form', { state: 'visible', timeout: 10_000 });
    expect(await page.locator('#app').isHidden()).toBe(true);
    expect(apiRequests).toEqual(['/api/session']);
    expect(await page.getAttribute('#connection-state', 'data-state')).toBe('stopped');
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-artifacts', 'dashboard-signin.png') });

    // A wrong password is refused on the form.
    await signIn(page, 'not-the-password');
    await page.waitForSelector('#signin-error:not([hidden])', { timeout: 10_000 });
    expect(await page.textContent('#signin-error')).toBe('Wrong username or password.');
    page.off('request', recordApi);

    await signIn(page, PASSWORD);
    await page.waitForSelector('#app:not([hidden])', { timeout: 10_000 });
    expect(await page.textContent('#operator-name')).toBe('admin');
    expect(await page.locator('#signin').isHidden()).toBe(true);
    await page.waitForSelector('#connection-state[data-state="live"]', { timeout: 10_000 });
    expect(await page.textContent('#connection-state')).toContain('telemetry_store');
    expect(page.url()).toMatch(/#\/fleet$/);
    expect(await page.getAttribute('#nav a[href="#/fleet"]', 'aria-current')).toBe('page');

    const fleet = startFleet({
      url: `mqtt://127.0.0.1:${server.mqttPort}`,
      devices: DEVICES.length,
      rate: 4,
      durationS: 25,
      qos: 1,
      prefix: 'browser',
      rampUpMs: 300,
    });

    // Every simulated device gets a row (GET /api/fleet every 5 s), connected, with live values.
    for (const id of DEVICES) {
      await page.waitForSelector(`[data-testid="fleet-table"] tr[data-device-id="${id}"] [data-field="state"] [data-connected="true"]`, { timeout: 20_000 });
    }
    await page.waitForFunction(
      (ids) => ids.every((id) => /temperature \d+\.\d\d/.test(document.querySelector(`tr[data-device-id="${id}"] [data-field="latest"]`)?.textContent ?? '')),
      DEVICES,
      { timeout: 15_000 },
    );

    // The search narrows the table; clearing it brings the rows back.
    await page.fill('#fleet-search', 'browser-2');
    await page.waitForFunction(() => document.querySelectorAll('#fleet-body tr[data-device-id]').length === 1);
    expect(await page.getAttribute('#fleet-body tr[data-device-id]', 'data-device-id')).toBe('browser-2');
    await page.fill('#fleet-search', '');
    await page.waitForFunction((n) => document.querySelectorAll('#fleet-body tr[data-device-id]').length === n, DEVICES.length);

    // Details expand with the keyboard.
    const toggle = page.locator('tr[data-device-id="browser-1"] [data-testid="fleet-details-toggle"]');
    await toggle.focus();
    await page.keyboard.press('Enter');
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    expect(await page.locator('tr[data-details-for="browser-1"]').isVisible()).toBe(true);
    await page.screenshot({ path: join(ROOT, 'test-artifacts', 'dashboard-fleet.png'), fullPage: true });

    // Open the device with the keyboard: its link, then Enter.
    const drawn = page.evaluate(
      () =>
        new Promise<{ deviceId: string; ts: number[] }>((resolve) => {
          window.addEventListener('iotcore:chart-drawn', (event) => {
            const detail = (event as CustomEvent<{ deviceId: string; ts: number[] }>).detail;
            if (detail.ts.length > 0) resolve(detail);
          });
        }),
    );
    await page.locator('tr[data-device-id="browser-1"] a[data-testid="fleet-device-link"]').focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="device-view"]:not([hidden])', { timeout: 10_000 });
    expect(page.url()).toMatch(/#\/device\/browser-1$/);
    expect(await page.textContent('#device-title')).toBe('browser-1');
    await page.waitForSelector('[data-testid="device-state"][data-connected="true"]', { timeout: 10_000 });
    await page.waitForSelector('[data-testid="metric-chart"][data-metric="temperature"] canvas', { timeout: 15_000 });
    for (const metric of ['humidity', 'battery']) {
      await page.waitForSelector(`[data-testid="metric-chart"][data-metric="${metric}"]`, { timeout: 10_000 });
    }
    expect(await page.locator('[data-testid="metric-chart"][data-metric="seq"], [data-testid="metric-chart"][data-metric="ts"]').count()).toBe(0);
    expect(await page.getAttribute('[data-testid="device-view"]', 'data-following')).toBe('true');

    // The chart grows with live rows, and says so with the chart-drawn event.
    const before = await pointsOf(page, 'temperature');
    await page.waitForFunction(
      (n) => Number(document.querySelector<HTMLElement>('[data-testid="metric-chart"][data-metric="temperature"]')?.dataset.points) > n,
      before,
      { timeout: 15_000 },
    );
    const detail = await drawn;
    expect(detail.deviceId).toBe('browser-1');
    expect(detail.ts.every((t) => Number.isFinite(t) && t > 0)).toBe(true);

    // Shadow: an invalid document is refused on the page; a valid desired state is saved and shown.
    await page.waitForSelector('#shadow-status:not(:empty)', { timeout: 10_000 });
    await page.fill('#shadow-editor', '[1, 2]');
    await page.waitForSelector('#shadow-error:not([hidden])');
    expect(await page.textContent('#shadow-error')).toMatch(/must be a JSON object/);
    await page.fill('#shadow-editor', '{"led": "on"}');
    expect(await page.locator('#shadow-error').isHidden()).toBe(true);
    await page.click('#shadow-save');
    await page.waitForFunction(() => (document.querySelector('#shadow-desired')?.textContent ?? '').includes('"led": "on"'), undefined, { timeout: 10_000 });

    // A preset leaves and returns to live; a pan leaves live until "Back to live".
    await page.click('[data-range="1h"]');
    expect(await page.getAttribute('[data-range="1h"]', 'aria-pressed')).toBe('true');
    await page.click('#device-pan-back');
    await page.waitForSelector('[data-testid="device-view"][data-following="false"]');
    await page.click('#device-live');
    await page.waitForSelector('[data-testid="device-view"][data-following="true"]');

    // Dragging across a chart zooms into that range (fetched again, decimated) and leaves live.
    const plot = await page.locator('[data-testid="metric-chart"][data-metric="temperature"] .u-over').boundingBox();
    expect(plot).not.toBeNull();
    await page.mouse.move(plot!.x + plot!.width * 0.3, plot!.y + plot!.height / 2);
    await page.mouse.down();
    await page.mouse.move(plot!.x + plot!.width * 0.7, plot!.y + plot!.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForSelector('[data-testid="device-view"][data-following="false"]', { timeout: 5_000 });
    expect(await page.textContent('#device-range')).toMatch(/–/);
    await page.click('#device-live');
    await page.waitForSelector('[data-testid="device-view"][data-following="true"]');

    await page.screenshot({ path: join(ROOT, 'test-artifacts', 'dashboard-device.png'), fullPage: true });

    const summary: Summary = await fleet.done;
    expect(summary.connected).toBe(DEVICES.length);
    expect(summary.acknowledged).toBe(summary.sent);
    expect(summary.errors).toBe(0);

    // Signing out shows the form again and stops the live socket.
    await page.click('#signout');
    await page.waitForSelector('#signin-form', { state: 'visible', timeout: 10_000 });
    expect(await page.locator('#app').isHidden()).toBe(true);
    expect(await page.getAttribute('#connection-state', 'data-state')).toBe('stopped');
    expect(pageErrors).toEqual([]);
  }, TIMEOUT_MS);

  it('goes back to the form when the session ends, and shows an outage in the live status and the fleet view', async () => {
    await page.goto(`http://127.0.0.1:${server.httpPort}/#/fleet`);
    await page.waitForSelector('#signin-form', { state: 'visible', timeout: 10_000 });
    await signIn(page, PASSWORD);
    await page.waitForSelector('#connection-state[data-state="live"]', { timeout: 10_000 });
    await page.waitForSelector('#fleet-body tr[data-device-id]', { timeout: 10_000 });

    // The session cookie gone: the next fleet refresh is answered 401 and the form comes back.
    await page.context().clearCookies();
    await page.waitForSelector('#signin-form', { state: 'visible', timeout: 15_000 });
    expect(await page.textContent('#signin-error')).toMatch(/session has ended/);
    expect(await page.getAttribute('#connection-state', 'data-state')).toBe('stopped');
    await signIn(page, PASSWORD);
    await page.waitForSelector('#connection-state[data-state="live"]', { timeout: 10_000 });
    expect(await page.locator('#fleet-body tr[data-device-id]').count()).toBe(DEVICES.length);

    await server.stop();
    stopped = true;
    await page.waitForSelector('#connection-state[data-state="reconnecting"], #connection-state[data-state="connecting"]', { timeout: 10_000 });
    expect(await page.textContent('#connection-state')).toMatch(/retrying|connecting/);
    await page.waitForSelector('#fleet-error:not([hidden])', { timeout: 15_000 });
    expect(await page.textContent('#fleet-error')).toMatch(/^Cannot load the fleet: NetworkError/);
    expect(pageErrors).toEqual([]);
  }, TIMEOUT_MS);
});
