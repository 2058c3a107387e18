// Hostile SQL through the real AWS SDK clients against a real server: dataset SQL that tries to
// read host files or the server's own files, to attach, copy, export, install, load or change
// settings, to write, to run several statements or to run forever; rule SQL that tries the same.
// Each is refused with a coded error naming the reason (or its content FAILED with one), and the
// server goes on serving with the datastore intact.
import {
  CreateDatasetCommand,
  CreateDatasetContentCommand,
  GetDatasetContentCommand,
  IoTAnalyticsClient,
  UpdateDatasetCommand,
  type GetDatasetContentCommandOutput,
} from '@aws-sdk/client-iotanalytics';
import { CreateTopicRuleCommand, IoTClient } from '@aws-sdk/client-iot';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_RESOURCES, type RunningServer } from '../../broker/index.js';
import { awsClientConfig, caught } from '../helpers/aws.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';
import { OPERATOR_ENV, operatorJson } from '../helpers/operator.js';

const COUNT_ROWS = { datasetName: 'row_count', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT count(*) AS n FROM telemetry_store' } }] };
const query = (sqlQuery: string) => [{ actionName: 'q', queryAction: { sqlQuery } }];

let tmp: ReturnType<typeof tempDataDir>;
let server: RunningServer;
let analytics: IoTAnalyticsClient;
let iot: IoTClient;
let canary: string;
let seq = 0;
const SERVER_OPTIONS = {
  config: { ...DEFAULT_RESOURCES, datasets: [...DEFAULT_RESOURCES.datasets, COUNT_ROWS] },
  // a short time limit so the queries that run forever are stopped within the test
  env: { IOT_ALLOW_ANONYMOUS: 'true', ...OPERATOR_ENV, IOT_DATASET_QUERY_TIMEOUT_SECONDS: '2' },
};

async function rowCount(): Promise<number> {
  return Number((await server.analytics.runDataset('row_count')).rows[0][0]);
}

async function settled(datasetName: string, versionId: string): Promise<GetDatasetContentCommandOutput> {
  return eventually(async () => {
    const out = await analytics.send(new GetDatasetContentCommand({ datasetName, versionId }));
    return out.status?.state === 'CREATING' ? undefined : out;
  }, 20_000, `content ${versionId} of ${datasetName}`);
}

/** Files directly under a directory, to show nothing new appeared there. */
const listing = (dir: string) => readdirSync(dir).sort();

beforeAll(async () => {
  tmp = tempDataDir();
  // a file next to the data directory that no query may read
  canary = join(dirname(tmp.dir), `${tmp.dir.split('/').pop()}-canary.txt`);
  writeFileSync(canary, 'canary-secret\n');
  server = await startTestServer(tmp.dir, SERVER_OPTIONS);
  analytics = new IoTAnalyticsClient(awsClientConfig(server));
  iot = new IoTClient(awsClientConfig(server));
  await server.analytics.ingest('telemetry', [1, 2, 3].map((n) => ({ payload: Buffer.from(JSON.stringify({ deviceId: `d${n}`, temperature: 20 + n, battery: 80 })) })));
  await server.analytics.flush();
});

afterAll(async () => {
  analytics?.destroy();
  iot?.destroy();
  await server?.stop();
  tmp?.remove();
  rmSync(canary, { force: true });
});

describe('dataset SQL that reaches outside its datastores', () => {
  const dbFile = () => join(tmp.dir, 'iotcore.duckdb');
  const attempts: [string, () => string, RegExp][] = [
    ['read_csv of /etc/passwd', () => "SELECT * FROM read_csv('/etc/passwd')", /read_csv\(\): it reads files/],
    ['read_text of a file next to the data directory', () => `SELECT * FROM read_text('${canary}')`, /read_text\(\): it reads files/],
    ['read_blob of the database file itself', () => `SELECT * FROM read_blob('${dbFile()}')`, /read_blob\(\): it reads files/],
    ['read_blob of the write-ahead log', () => `SELECT * FROM read_blob('${dbFile()}.wal')`, /read_blob\(\): it reads files/],
    ['read_parquet through the export directory and ..', () => `SELECT * FROM read_parquet('${tmp.dir}/exports/../iotcore.duckdb')`, /read_parquet\(\): it reads files/],
    ['read_json of the admin credentials', () => `SELECT * FROM read_json('${tmp.dir}/admin-credentials.json')`, /read_json\(\): it reads files/],
    ['glob of the data directory', () => `SELECT * FROM glob('${tmp.dir}/*')`, /glob\(\): it reads files/],
    ['a file path where a table goes', () => "SELECT * FROM '/etc/passwd.csv'", /cannot read files: "\/etc\/passwd.csv"/],
    ['a file read hidden in a CTE and a subquery', () => `WITH c AS (SELECT 1 AS x) SELECT * FROM c WHERE x IN (SELECT 1 FROM read_text('${canary}'))`, /read_text\(\): it reads files/],
    ['query() running other SQL', () => "SELECT * FROM query('SELECT * FROM read_text(''/etc/passwd'')')", /query\(\): it reads files/],
    ['a table function that changes the database', () => 'SELECT * FROM checkpoint()', /checkpoint\(\): it is not one of the table functions/],
    ['ATTACH', () => `ATTACH '${tmp.dir}/other.duckdb' AS other`, /exactly one SELECT statement/],
    ['COPY ... TO', () => `COPY telemetry_store TO '${tmp.dir}/stolen.csv'`, /exactly one SELECT statement/],
    ['EXPORT DATABASE', () => `EXPORT DATABASE '${tmp.dir}/dump'`, /exactly one SELECT statement/],
    ['INSTALL', () => 'INSTALL httpfs', /exactly one SELECT statement/],
    ['LOAD', () => 'LOAD httpfs', /exactly one SELECT statement/],
    ['PRAGMA', () => 'PRAGMA database_list', /exactly one SELECT statement/],
    ['SET', () => 'SET enable_external_access = true', /exactly one SELECT statement/],
    ['CALL', () => 'CALL pragma_version()', /exactly one SELECT statement/],
    ['CREATE TABLE', () => 'CREATE TABLE evil (x INTEGER)', /exactly one SELECT statement/],
    ['DROP TABLE', () => 'DROP TABLE telemetry_store', /exactly one SELECT statement/],
    ['INSERT', () => "INSERT INTO telemetry_store (deviceId) VALUES ('evil')", /exactly one SELECT statement/],
    ['UPDATE', () => 'UPDATE telemetry_store SET temperature = 0', /exactly one SELECT statement/],
    ['DELETE', () => 'DELETE FROM telemetry_store', /exactly one SELECT statement/],
    ['two statements', () => 'SELECT 1; DROP TABLE telemetry_store', /exactly one SELECT statement.*nor is a second statement/],
    ['two SELECT statements', () => 'SELECT 1; SELECT 2', /exactly one SELECT statement; got 2 statements/],
    ['a NUL character', () => 'SELECT 1 AS x\u0000; DROP TABLE telemetry_store', /NUL character/],
  ];

  it.each(attempts)('refuses %s at CreateDataset with InvalidRequestException naming the reason', async (_what, sql, reason) => {
    const before = await rowCount();
    const datasetsBefore = listing(tmp.dir);
    const err = await caught(analytics.send(new CreateDatasetCommand({ datasetName: `hostile_${++seq}`, actions: query(sql()) })));
    expect(err.name).toBe('InvalidRequestException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.message).toMatch(reason);
    expect(server.analytics.listDatasets()).not.toContain(`hostile_${seq}`);
    expect(await rowCount()).toBe(before);
    expect(listing(tmp.dir)).toEqual(datasetsBefore);
  });

  it('refuses the same SQL at UpdateDataset and keeps the working definition', async () => {
    await analytics.send(new CreateDatasetCommand({ datasetName: 'kept', actions: query('SELECT 1 AS one') }));
    const err = await caught(analytics.send(new UpdateDatasetCommand({ datasetName: 'kept', actions: query(`SELECT * FROM read_text('${canary}')`) })));
    expect(err.name).toBe('InvalidRequestException');
    expect(err.message).toMatch(/dataset kept: dataset SQL cannot call read_text\(\)/);
    expect(server.analytics.getDataset('kept')!.actions[0].queryAction.sqlQuery).toBe('SELECT 1 AS one');
  });

  it('still runs plain SELECTs over datastores with CTEs, range() and unnest()', async () => {
    const sql = 'WITH r AS (SELECT range AS i FROM range(3)) SELECT (SELECT count(*) FROM telemetry_store) AS n, (SELECT sum(i) FROM r) AS s, (SELECT count(*) FROM unnest([1, 2])) AS u';
    await analytics.send(new CreateDatasetCommand({ datasetName: 'plain', actions: query(sql) }));
    const versionId = (await analytics.send(new CreateDatasetContentCommand({ datasetName: 'plain' }))).versionId!;
    const out = await settled('plain', versionId);
    expect(out.status!.state).toBe('SUCCEEDED');
    const csv = await (await fetch(out.entries![0].dataURI!)).text();
    expect(csv).toBe(`n,s,u\r\n${await rowCount()},3,2\r\n`);
  });

  it('fails the content of a definition stored on disk before the check, at run time, with the reason', async () => {
    await analytics.send(new CreateDatasetCommand({ datasetName: 'smuggled', actions: query('SELECT 1 AS x') }));
    // the definitions file edited while the server is down (or written by an older version)
    await server.stop();
    const file = join(tmp.dir, 'analytics-definitions.json');
    const defs = JSON.parse(readFileSync(file, 'utf8')) as { datasets: Record<string, { actions: { queryAction: { sqlQuery: string } }[] }> };
    defs.datasets.smuggled.actions[0].queryAction.sqlQuery = `SELECT * FROM read_blob('${tmp.dir}/iotcore.duckdb')`;
    writeFileSync(file, JSON.stringify(defs));
    server = await startTestServer(tmp.dir, SERVER_OPTIONS);
    analytics.destroy();
    iot.destroy();
    analytics = new IoTAnalyticsClient(awsClientConfig(server));
    iot = new IoTClient(awsClientConfig(server));

    const versionId = (await analytics.send(new CreateDatasetContentCommand({ datasetName: 'smuggled' }))).versionId!;
    const out = await settled('smuggled', versionId);
    expect(out.status!.state).toBe('FAILED');
    expect(out.status!.reason).toMatch(/^InvalidRequestException: dataset SQL cannot call read_blob\(\): it reads files/);
    const run = await operatorJson<{ code: string; message: string }>(`http://127.0.0.1:${server.httpPort}`, '/api/datasets/smuggled/run', { method: 'POST' });
    expect(run.status).toBe(400);
    expect(run.body).toMatchObject({ code: 'InvalidRequestException', message: expect.stringMatching(/read_blob\(\): it reads files/) });
  });

  it.each([
    ['a recursive CTE without end', 'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r'],
    ['a huge cross join of range()', 'SELECT count(*) FROM range(100000000) a, range(100000000) b'],
  ])('stops %s at the time limit: the content FAILED with QueryTimeoutException, and the server goes on', async (_what, sql) => {
    const before = await rowCount();
    const name = `forever_${++seq}`;
    await analytics.send(new CreateDatasetCommand({ datasetName: name, actions: query(sql) }));
    const versionId = (await analytics.send(new CreateDatasetContentCommand({ datasetName: name }))).versionId!;
    const out = await settled(name, versionId);
    expect(out.status!.state).toBe('FAILED');
    expect(out.status!.reason).toMatch(/^QueryTimeoutException: the query took too long: interrupted after 2000 ms/);
    // new rows still arrive and are counted
    await server.analytics.ingest('telemetry', [{ payload: Buffer.from(JSON.stringify({ deviceId: 'after', temperature: 1, battery: 50 })) }]);
    await server.analytics.flush();
    expect(await rowCount()).toBe(before + 1);
    expect((await fetch(`http://127.0.0.1:${server.httpPort}/health`)).status).toBe(200);
  });

  it('left nothing behind: no file written outside or inside the data directory by any attempt', () => {
    expect(existsSync(join(tmp.dir, 'stolen.csv'))).toBe(false);
    expect(existsSync(join(tmp.dir, 'dump'))).toBe(false);
    expect(existsSync(join(tmp.dir, 'other.duckdb'))).toBe(false);
  });
});

describe('rule SQL that is not AWS IoT SQL', () => {
  const attempts: [string, RegExp][] = [
    ["SELECT read_csv('/etc/passwd') FROM 't'", /unknown function read_csv\(\)/],
    ["SELECT * FROM read_csv('/etc/passwd')", /FROM expects a topic filter in single quotes/],
    ["SELECT glob('/etc/*') AS files FROM 't'", /unknown function glob\(\)/],
    ["SELECT getenv('HOME') AS home FROM 't'", /unknown function getenv\(\)/],
    ["ATTACH '/tmp/x.duckdb' AS x", /expected SELECT but found 'ATTACH'/],
    ["COPY x TO '/tmp/x.csv'", /expected SELECT but found 'COPY'/],
    ['INSTALL httpfs', /expected SELECT but found 'INSTALL'/],
    ['LOAD httpfs', /expected SELECT but found 'LOAD'/],
    ['PRAGMA database_list', /expected SELECT but found 'PRAGMA'/],
    ['CALL f()', /expected SELECT but found 'CALL'/],
    ['DROP TABLE telemetry_store', /expected SELECT but found 'DROP'/],
    ["INSERT INTO x VALUES (1)", /expected SELECT but found 'INSERT'/],
    ["SELECT * FROM 't'; DROP TABLE telemetry_store", /unexpected character ';'/],
    ["SELECT * FROM 't' UNION SELECT * FROM 'u'", /expected end of statement but found 'UNION'/],
  ];

  it.each(attempts)('CreateTopicRule refuses %s with SqlParseException naming the position and reason', async (sql, reason) => {
    const err = await caught(iot.send(new CreateTopicRuleCommand({ ruleName: `hostile_${++seq}`, topicRulePayload: { sql, actions: [] } })));
    expect(err.name).toBe('SqlParseException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.message).toMatch(/position \d+/);
    expect(err.message).toMatch(reason);
    expect(server.rules.getRule(`hostile_${seq}`)).toBeUndefined();
  });

  it.each(attempts)('POST /api/rules/test refuses %s with a coded 400', async (sql, reason) => {
    const res = await operatorJson<{ code: string; message: string }>(`http://127.0.0.1:${server.httpPort}`, '/api/rules/test', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql, topic: 't', payload: {} }),
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('SqlParseException');
    expect(res.body.message).toMatch(reason);
  });
});
