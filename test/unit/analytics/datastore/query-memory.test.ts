// A dataset query that needs more memory than the database may use fails with its own coded
// error (not a 500), and the database keeps serving ingest and smaller queries.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAnalytics, type Analytics } from '../../../../analytics/index.js';

describe('the database memory limit', () => {
  let dir: string;
  let analytics: Analytics;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'query-memory-'));
    analytics = await openAnalytics({ dataDir: dir, database: { memoryLimit: '64MB' } });
    await analytics.putChannel({ channelName: 'c' });
    await analytics.putDatastore({ datastoreName: 'd' });
    await analytics.putPipeline({ pipelineName: 'p', pipelineActivities: [{ channel: { name: 'in', channelName: 'c', next: 'out' } }, { datastore: { name: 'out', datastoreName: 'd' } }] });
  });
  afterAll(async () => {
    await analytics.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops a query that needs more with QueryMemoryExceededException and keeps taking rows and queries', async () => {
    // a list aggregate cannot spill to disk: 100 million BIGINTs need ~800 MB
    await analytics.putDataset({ datasetName: 'huge', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT length(list(i)) AS n FROM range(100000000) t(i)' } }] });
    const error = await analytics.runDataset('huge').then(() => undefined, (e: unknown) => e as { code: string; statusCode: number; message: string });
    expect(error).toMatchObject({ code: 'QueryMemoryExceededException', statusCode: 400 });
    expect(error?.message).toMatch(/^the query needs more memory than the database may use \(Out of Memory Error: .*\); narrow it/);
    expect(error?.message).not.toMatch(/SET threads/);

    await analytics.ingest('c', [{ payload: Buffer.from(JSON.stringify({ v: 1 })) }]);
    await analytics.flush();
    await analytics.putDataset({ datasetName: 'small', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT v FROM d' } }] });
    expect((await analytics.runDataset('small')).rows).toEqual([[1]]);
  });
});
