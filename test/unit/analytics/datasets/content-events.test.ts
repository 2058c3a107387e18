// Dataset contents as the dashboard sees them through the facade: an event when each finishes,
// a wait for one, and its rows read back from the CSV with their types.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAnalytics, type Analytics, type DatasetContentEvent } from '../../../../analytics/index.js';

let dir: string;
let a: Analytics;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iotcore-content-events-'));
  a = await openAnalytics({ dataDir: dir, database: { flushDelayMs: 5 } });
  await a.putDataset({ datasetName: 'typed', actions: [{ actionName: 'q', queryAction: { sqlQuery: "SELECT range AS n, 'a,\"b\"' AS s, NULL AS z, range % 2 = 0 AS even, range / 2 AS half FROM range(5)" } }] });
  await a.putDataset({ datasetName: 'broken', actions: [{ actionName: 'q', queryAction: { sqlQuery: "SELECT error('boom')" } }] });
});

afterAll(async () => {
  await a.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('dataset content events', () => {
  it('tells subscribers when a content succeeds or fails, and lets a caller wait for one', async () => {
    const events: DatasetContentEvent[] = [];
    const unsubscribe = a.datasets.subscribe((e) => events.push(e));
    const ok = a.datasets.createContent('typed');
    const bad = a.datasets.createContent('broken');
    const [okVersion, badVersion] = await Promise.all([a.datasets.finished('typed', ok), a.datasets.finished('broken', bad)]);
    unsubscribe();
    expect(okVersion).toMatchObject({ versionId: ok, state: 'SUCCEEDED', rows: 5 });
    expect(badVersion).toMatchObject({ versionId: bad, state: 'FAILED', reason: expect.stringContaining('boom') });
    expect(events).toHaveLength(2);
    expect(events).toContainEqual({ datasetName: 'typed', versionId: ok, state: 'SUCCEEDED', completedAt: okVersion.completionTime });
    expect(events).toContainEqual({ datasetName: 'broken', versionId: bad, state: 'FAILED', completedAt: badVersion.completionTime, reason: badVersion.reason });
    // a finished version answers at once
    await expect(a.datasets.finished('typed', ok)).resolves.toMatchObject({ state: 'SUCCEEDED' });
    await expect(a.datasets.finished('typed', 'no-such-version')).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
  });

  it('reads a content\'s rows back from its CSV typed by the query\'s columns, up to a limit', async () => {
    const { table, version } = await a.datasets.contentTable('typed', '$LATEST_SUCCEEDED', 3);
    expect(version.state).toBe('SUCCEEDED');
    expect(table.columns.map((c) => c.name)).toEqual(['n', 's', 'z', 'even', 'half']);
    expect(table.rows).toEqual([
      [0, 'a,"b"', null, true, 0],
      [1, 'a,"b"', null, false, 0.5],
      [2, 'a,"b"', null, true, 1],
    ]);
    expect(table.truncated).toBe(true);
    expect((await a.datasets.contentTable('typed', '$LATEST_SUCCEEDED', 5)).table.truncated).toBe(false);
  });
});
