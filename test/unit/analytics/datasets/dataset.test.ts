import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../../analytics/datastore/index.js';
import type { Database } from '../../../../analytics/datastore/index.js';
import { runDataset, validateDataset } from '../../../../analytics/datasets/index.js';
import type { DatasetDefinition } from '../../../../analytics/types.js';

const dataset = (sqlQuery: string, datasetName = 'daily_avg'): DatasetDefinition => ({
  datasetName,
  actions: [{ actionName: 'query_action', queryAction: { sqlQuery } }],
});

describe('validateDataset', () => {
  it('accepts a named dataset with exactly one SQL query action', () => {
    expect(() => validateDataset(dataset('SELECT 1'))).not.toThrow();
  });

  it.each([
    ['a bad dataset name', { ...dataset('SELECT 1'), datasetName: 'bad-name' }],
    ['a name starting with __', { ...dataset('SELECT 1'), datasetName: '__x' }],
    ['no action', { datasetName: 'd', actions: [] }],
    ['two actions', { datasetName: 'd', actions: [dataset('SELECT 1').actions[0], dataset('SELECT 2').actions[0]] }],
    ['a bad action name', { datasetName: 'd', actions: [{ actionName: 'a b', queryAction: { sqlQuery: 'SELECT 1' } }] }],
    ['no queryAction', { datasetName: 'd', actions: [{ actionName: 'a' }] }],
    ['a container action', { datasetName: 'd', actions: [{ actionName: 'a', containerAction: { image: 'x' } }] }],
    ['empty SQL', dataset('  ')],
  ])('refuses %s with InvalidRequestException', (_label, def) => {
    expect(() => validateDataset(def as DatasetDefinition)).toThrow(expect.objectContaining({ code: 'InvalidRequestException', statusCode: 400 }));
  });
});

describe('runDataset', () => {
  let dir: string;
  let db: Database;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iotcore-dataset-'));
    db = await openDatabase(join(dir, 'analytics.duckdb'), { flushDelayMs: 5 });
    await db.ensureDatastore({ datastoreName: 'telemetry' });
    await db.writer('telemetry').append(
      [
        { device: 'a', t: 20 },
        { device: 'a', t: 22 },
        { device: 'b', t: 30 },
      ],
      Date.UTC(2024, 0, 1),
    );
  });

  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns the columns and rows of the query action', async () => {
    const before = Date.now();
    const result = await runDataset(dataset('SELECT device, avg(t) AS avg_t, count(*) AS n FROM telemetry GROUP BY device ORDER BY device'), db);
    expect(result.datasetName).toBe('daily_avg');
    expect(result.columns).toEqual([
      { name: 'device', type: 'VARCHAR' },
      { name: 'avg_t', type: 'DOUBLE' },
      { name: 'n', type: 'BIGINT' },
    ]);
    expect(result.rows).toEqual([
      ['a', 21, 2],
      ['b', 30, 1],
    ]);
    expect(result.ranAt).toBeGreaterThanOrEqual(before);
  });

  it('fails with the coded query error when the SQL is not a single SELECT', async () => {
    await expect(runDataset(dataset('DELETE FROM telemetry'), db)).rejects.toMatchObject({ code: 'InvalidRequestException' });
  });
});
