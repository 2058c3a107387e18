// Publish-to-row latency in the simulator's summary and report, the real CLI against the real
// server: the simulator reads the server's row-lag histogram on /metrics before and after the
// run, so every row its devices' messages became is counted, and a server whose /metrics cannot
// be read costs the figure, never the run.
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { RunningServer } from '../../broker/index.js';
import type { RunReport } from '../../devices-sim/index.js';
import { metricValue } from '../helpers/metrics.js';
import { sim } from '../helpers/sim-cli.js';
import { startTestServer, tempDataDir } from '../helpers/server.js';

/** A port nothing listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('the simulator\'s publish-to-row latency', () => {
  const data = tempDataDir();
  let server: RunningServer;
  const fleet = (prefix: string) => ['--url', `mqtt://127.0.0.1:${server.mqttPort}`, '--devices', '4', '--rate', '20', '--duration', '2', '--qos', '1', '--prefix', prefix, '--ramp-up', '0', '--json'];

  beforeAll(async () => {
    server = await startTestServer(data.dir);
  });

  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('counts every row the run stored, with ordered percentiles, in the summary and the report', async () => {
    const metricsUrl = `http://127.0.0.1:${server.httpPort}/metrics`;
    const before = (await metricValue(server.httpPort, 'iotcore_datastore_row_lag_seconds_count', { datastore: 'telemetry_store' })) ?? 0;
    const report = join(data.dir, 'row-latency');
    const { code, summary, stderr } = await sim([...fleet('lag'), '--metrics-url', metricsUrl, '--datastore', 'telemetry_store', '--report', report]).done;
    expect(code).toBe(0);
    expect(summary.acknowledged).toBe(summary.sent);
    const lag = summary.rowLatencyMs!;
    expect(lag).toMatchObject({ count: summary.acknowledged, datastores: ['telemetry_store'], settled: true });
    expect(lag.p50).toBeGreaterThan(0);
    expect(lag.p50!).toBeLessThanOrEqual(lag.p90!);
    expect(lag.p90!).toBeLessThanOrEqual(lag.p99!);
    expect(lag.meanMs).toBeGreaterThan(0);
    // the server's own count moved by exactly the run's rows
    expect(await metricValue(server.httpPort, 'iotcore_datastore_row_lag_seconds_count', { datastore: 'telemetry_store' })).toBe(before + summary.acknowledged);
    expect(stderr).toContain('waiting for the last rows to be committed');
    const written = JSON.parse(readFileSync(`${report}.json`, 'utf8')) as RunReport;
    expect(written.rowLatencyMs).toEqual({ p50: lag.p50, p90: lag.p90, p99: lag.p99, mean: lag.meanMs, count: lag.count, settled: true, datastores: 'telemetry_store' });
    expect(readFileSync(`${report}.csv`, 'utf8').split('\r\n')[0]).toContain('rowLatencyMs.p99');
  });

  it('runs without the figure, saying why, when /metrics cannot be read or lacks the datastore', async () => {
    const closed = await closedPort();
    const unreachable = await sim([...fleet('nolag'), '--metrics-url', `http://127.0.0.1:${closed}/metrics`]).done;
    expect(unreachable.code).toBe(0);
    expect(unreachable.summary.acknowledged).toBe(unreachable.summary.sent);
    expect(unreachable.summary.rowLatencyMs).toBeNull();
    expect(unreachable.stderr).toMatch(/publish-to-row latency will not be measured: reading http:\/\/127\.0\.0\.1:\d+\/metrics failed: ECONNREFUSED/);

    const unknown = await sim([...fleet('nostore'), '--metrics-url', `http://127.0.0.1:${server.httpPort}/metrics`, '--datastore', 'no_such_store']).done;
    expect(unknown.code).toBe(0);
    expect(unknown.summary.rowLatencyMs).toBeNull();
    expect(unknown.stderr).toMatch(/reports no datastore "no_such_store" \(it has: .*telemetry_store/);

    const off = await sim([...fleet('off'), '--metrics-url', 'none']).done;
    expect(off.code).toBe(0);
    expect(off.summary).not.toHaveProperty('rowLatencyMs');
  });
});
