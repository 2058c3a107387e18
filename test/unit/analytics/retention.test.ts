// Retention with a fake clock: channel day partitions and datastore rows wholly older than
// numberOfDays go, today's never do, and each removal is counted.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAnalytics, type Analytics } from '../../../analytics/index.js';

let dir: string;
let a: Analytics | null = null;
let now = Date.parse('2024-03-10T12:00:00Z');

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iotcore-retention-'));
  now = Date.parse('2024-03-10T12:00:00Z');
});
afterEach(async () => {
  await a?.close().catch(() => undefined);
  a = null;
  await rm(dir, { recursive: true, force: true });
});

async function open(days: number): Promise<Analytics> {
  const x = await openAnalytics({ dataDir: dir, now: () => now, channel: { flushDelayMs: 1 }, database: { flushDelayMs: 1 } });
  await x.putChannel({ channelName: 'c', retentionPeriod: { numberOfDays: days } });
  await x.putDatastore({ datastoreName: 'd', retentionPeriod: { numberOfDays: days } });
  await x.putPipeline({ pipelineName: 'p', pipelineActivities: [{ channel: { name: 'in', channelName: 'c', next: 'out' } }, { datastore: { name: 'out', datastoreName: 'd' } }] });
  await x.putDataset({ datasetName: 'rows', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT n FROM d ORDER BY n' } }] });
  return x;
}

const put = (x: Analytics, n: number) => x.ingest('c', [{ payload: Buffer.from(JSON.stringify({ n })) }]);
const partitions = async () => (await readdir(join(dir, 'channels', 'c'))).filter((f) => f.startsWith('__dt=')).sort();

describe('retention', () => {
  it('removes channel partitions and datastore rows of days wholly older than numberOfDays, with counters', async () => {
    a = await open(2);
    await put(a, 1); // 2024-03-10
    now = Date.parse('2024-03-11T08:00:00Z');
    await put(a, 2); // 2024-03-11
    now = Date.parse('2024-03-13T01:00:00Z');
    await put(a, 3); // 2024-03-13
    await a.flush();
    expect(await partitions()).toEqual(['__dt=2024-03-10 00:00:00', '__dt=2024-03-11 00:00:00', '__dt=2024-03-13 00:00:00']);

    await a.sweepRetention(); // cutoff 2024-03-11T01:00: only the 10th lies wholly before it
    expect(await partitions()).toEqual(['__dt=2024-03-11 00:00:00', '__dt=2024-03-13 00:00:00']);
    expect((await a.runDataset('rows')).rows).toEqual([[2], [3]]);
    const c = a.counters();
    expect(c.channels.c.retentionDeletedDays).toBe(1);
    expect(c.datastores.d.retentionDeletedRows).toBe(1);
    const sampled = await a.sampleChannel('c', 10);
    expect(sampled.map((m) => m.payload.toString())).toEqual(['{"n":2}', '{"n":3}']);
  });

  it('never touches the current day, even at its last minute with a one-day retention', async () => {
    a = await open(1);
    now = Date.parse('2024-03-10T00:00:01Z');
    await put(a, 1);
    now = Date.parse('2024-03-10T23:59:59Z');
    await a.flush();
    await a.sweepRetention();
    expect(await partitions()).toEqual(['__dt=2024-03-10 00:00:00']);
    expect((await a.runDataset('rows')).rows).toEqual([[1]]);
  });

  it('keeps everything with an unlimited retention', async () => {
    a = await open(1);
    await put(a, 1);
    await a.flush();
    await a.updateChannel({ channelName: 'c', retentionPeriod: { unlimited: true } });
    await a.updateDatastore({ datastoreName: 'd', retentionPeriod: { unlimited: true } });
    now += 30 * 86_400_000;
    await a.sweepRetention();
    expect(await partitions()).toHaveLength(1);
    expect((await a.runDataset('rows')).rows).toEqual([[1]]);
  });
});
