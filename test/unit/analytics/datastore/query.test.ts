// Dataset SQL through Database.query: read-only, one SELECT, no host files, a time limit, JSON-safe values.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../../analytics/datastore/index.js';
import type { Database } from '../../../../analytics/datastore/index.js';

let dir: string;
let db: Database;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iotcore-query-'));
  writeFileSync(join(dir, 'secret.csv'), 'a,b\n1,2\n');
  db = await openDatabase(join(dir, 'analytics.duckdb'), { flushDelayMs: 5, maxResultRows: 1000 });
  await db.ensureDatastore({ datastoreName: 'telemetry' });
  await db.writer('telemetry').append([{ device: 'd1', t: 20 }, { device: 'd2', t: 22 }], Date.UTC(2024, 0, 1));
});

afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('dataset query path', () => {
  it.each([
    ['INSERT', 'INSERT INTO telemetry (device) VALUES (\'x\')'],
    ['UPDATE', 'UPDATE telemetry SET t = 0'],
    ['DELETE', 'DELETE FROM telemetry'],
    ['COPY', 'COPY telemetry TO \'out.csv\''],
    ['ATTACH', 'ATTACH \'other.duckdb\' AS other'],
    ['CREATE', 'CREATE TABLE x AS SELECT 1'],
    ['SET', 'SET threads = 1'],
    ['multiple statements', 'SELECT 1; SELECT 2'],
    ['a SELECT followed by DROP', 'SELECT 1; DROP TABLE telemetry'],
  ])('refuses %s with InvalidRequestException', async (_label, sql) => {
    await expect(db.query(sql)).rejects.toMatchObject({ code: 'InvalidRequestException', statusCode: 400 });
    expect((await db.query('SELECT count(*) FROM telemetry')).rows[0][0]).toBe(2);
  });

  it('refuses to read host files even from a SELECT', async () => {
    await expect(db.query(`SELECT * FROM read_csv('/etc/passwd')`)).rejects.toMatchObject({ code: 'InvalidRequestException' });
    await expect(db.query(`SELECT * FROM '${join(dir, 'secret.csv')}'`)).rejects.toMatchObject({ code: 'InvalidRequestException' });
    await expect(db.query(`SELECT * FROM read_text('${join(dir, 'secret.csv')}')`)).rejects.toThrow(/disabled/);
  });

  it('reports bad SQL with DuckDB\'s message', async () => {
    await expect(db.query('SELEC 1')).rejects.toMatchObject({ code: 'InvalidRequestException', message: expect.stringMatching(/syntax error/i) });
    await expect(db.query('SELECT * FROM nowhere')).rejects.toMatchObject({ message: expect.stringMatching(/nowhere/) });
    await expect(db.query('   ')).rejects.toMatchObject({ code: 'InvalidRequestException' });
  });

  it('interrupts a query that runs longer than its time limit with QueryTimeoutException', async () => {
    const started = Date.now();
    await expect(db.query('SELECT count(*) FROM range(1000000000) a, range(1000000000) b', { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'QueryTimeoutException',
      message: expect.stringMatching(/took too long/),
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([[1]]); // the database is still usable
  });

  it('converts results to JSON-safe values', async () => {
    const r = await db.query(`SELECT 42::BIGINT AS safe, 9007199254740993::BIGINT AS unsafe, TIMESTAMP '2024-05-06 07:08:09.123' AS ts,
      '{"a":[1,2]}'::JSON AS j, [1, 2] AS l, {'k': 5::BIGINT} AS s, 'NaN'::DOUBLE AS nan, NULL AS nothing`);
    expect(r.rows).toEqual([[42, '9007199254740993', '2024-05-06T07:08:09.123Z', { a: [1, 2] }, [1, 2], { k: 5 }, 'NaN', null]]);
    expect(JSON.parse(JSON.stringify(r.rows))).toEqual(r.rows);
    expect(r.columns.find((c) => c.name === 'j')?.type).toBe('JSON');
  });

  it('refuses a result larger than the row limit with LimitExceededException', async () => {
    await expect(db.query('SELECT * FROM range(5000)')).rejects.toMatchObject({ code: 'LimitExceededException' });
    expect((await db.query('SELECT * FROM range(5000) LIMIT 10')).rows).toHaveLength(10);
  });

  it('accepts FROM-first and WITH queries, which DuckDB types as SELECT', async () => {
    expect((await db.query('FROM telemetry SELECT device ORDER BY device')).rows).toEqual([['d1'], ['d2']]);
    expect((await db.query('WITH x AS (SELECT max(t) AS m FROM telemetry) SELECT m FROM x')).rows).toEqual([[22]]);
  });
});
