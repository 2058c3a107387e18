// `npm run sim -- --shards 2`, the real CLI in a child process against the real server: the
// fleet runs in two shard processes, and the one summary the parent prints (and its --report)
// adds up to exactly the rows stored; every device of the fleet ran, in exactly one shard. On
// SIGINT the parent stops both shards and still prints the merged summary and writes the report.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_RESOURCES, type RunningServer } from '../../broker/index.js';
import type { RunReport } from '../../devices-sim/index.js';
import { connect, type Inbox } from '../helpers/mqtt.js';
import { operatorJson } from '../helpers/operator.js';
import { sim } from '../helpers/sim-cli.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';

const ROWS = {
  datasetName: 'shard_rows',
  actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT deviceId, seq FROM telemetry_store ORDER BY deviceId, seq' } }],
};

describe('a sharded simulator run against the real server', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let watcher: Inbox;

  /** device id -> its stored seqs, in order */
  const storedSeqs = async (prefix: string) => {
    await server.analytics.flush();
    const res = await operatorJson<{ rows: [string, number | string][] }>(`http://127.0.0.1:${server.httpPort}`, '/api/datasets/shard_rows/run', { method: 'POST' });
    const byDevice = new Map<string, number[]>();
    for (const [deviceId, seq] of res.body.rows) if (deviceId.startsWith(`${prefix}-`)) byDevice.set(deviceId, [...(byDevice.get(deviceId) ?? []), Number(seq)]);
    return byDevice;
  };
  const total = (byDevice: Map<string, number[]>) => [...byDevice.values()].reduce((n, seqs) => n + seqs.length, 0);
  const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, k) => `${prefix}-${k + 1}`).sort();

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: { ...DEFAULT_RESOURCES, datasets: [...DEFAULT_RESOURCES.datasets, ROWS] } });
    watcher = await connect(server, 'shard-watcher', ['devices/+/telemetry']);
  });

  afterAll(async () => {
    await watcher?.client.endAsync(true);
    await server?.stop();
    data.remove();
  });

  it('reports the totals of both shards as the rows stored, every device run by exactly one shard', async () => {
    const report = join(data.dir, 'sharded');
    const { code, summary } = await sim([
      '--url', `mqtt://127.0.0.1:${server.mqttPort}`, '--devices', '6', '--rate', '10', '--duration', '2', '--qos', '1',
      '--prefix', 'shard', '--ramp-up', '0', '--shards', '2', '--json', '--report', report,
    ]).done;
    expect(code).toBe(0);
    expect(summary).toMatchObject({ devices: 6, connected: 6, qos: 1, errors: 0 });
    expect(summary.sent).toBeGreaterThan(60);
    expect(summary.acknowledged).toBe(summary.sent);
    expect(summary.latencyMs!.count).toBe(summary.acknowledged); // every PUBACK of both shards measured
    expect(summary.shards!.map((s) => s.devices)).toEqual([3, 3]);
    expect(summary.shards!.reduce((n, s) => n + s.sent, 0)).toBe(summary.sent);

    const stored = await storedSeqs('shard');
    expect(total(stored)).toBe(summary.acknowledged);
    // complete: every device of the fleet published; disjoint: no device ran in both shards,
    // which would have stored its seq 1, 2, ... twice
    expect([...stored.keys()].sort()).toEqual(ids('shard', 6));
    for (const seqs of stored.values()) expect(seqs).toEqual(seqs.map((_, k) => k + 1));

    const written = JSON.parse(readFileSync(`${report}.json`, 'utf8')) as RunReport;
    expect(written).toMatchObject({ outcome: 'completed', options: { devices: 6, shards: 2 }, counts: { sent: summary.sent, acknowledged: summary.acknowledged } });
    expect(readFileSync(`${report}.csv`, 'utf8')).toContain('options.shards');
  }, 90_000);

  it('stops every shard on SIGINT, and still prints the merged summary and writes the report', async () => {
    const report = join(data.dir, 'interrupted');
    const mark = watcher.messages.length;
    const run = sim([
      '--url', `mqtt://127.0.0.1:${server.mqttPort}`, '--devices', '4', '--rate', '5', '--duration', '0', '--qos', '1',
      '--prefix', 'stop', '--ramp-up', '0', '--shards', '2', '--json', '--report', report,
    ]);
    // both shards are publishing once every device has been heard from
    await eventually(async () => {
      const heard = new Set(watcher.messages.slice(mark).map((m) => (m.body as { deviceId: string }).deviceId));
      return ids('stop', 4).every((id) => heard.has(id)) ? true : undefined;
    }, 60_000, 'telemetry from all four devices');
    run.child.kill('SIGINT'); // the parent only: it must stop the shards itself
    const { code, summary, stderr } = await run.done;
    expect(code).toBe(0);
    expect(stderr).toContain('SIGINT, stopping and draining');
    expect(summary).toMatchObject({ devices: 4, connected: 4 });
    expect(summary.acknowledged).toBe(summary.sent);
    expect(total(await storedSeqs('stop'))).toBe(summary.acknowledged);
    const written = JSON.parse(readFileSync(`${report}.json`, 'utf8')) as RunReport;
    expect(written).toMatchObject({ outcome: 'interrupted', options: { shards: 2 }, counts: { sent: summary.sent } });
  }, 90_000);
});
