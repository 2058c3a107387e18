// AWS IoT Analytics datasets through the unmodified @aws-sdk/client-iotanalytics: definitions,
// asynchronous contents behind signed CSV URLs, versions, triggers, persistence.
import {
  CreateDatasetCommand,
  CreateDatasetContentCommand,
  DeleteDatasetCommand,
  DeleteDatasetContentCommand,
  DescribeDatasetCommand,
  GetDatasetContentCommand,
  IoTAnalyticsClient,
  ListDatasetContentsCommand,
  ListDatasetsCommand,
  UpdateDatasetCommand,
  type GetDatasetContentCommandOutput,
} from '@aws-sdk/client-iotanalytics';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningServer } from '../../broker/index.js';
import { awsClientConfig, caught } from '../helpers/aws.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';
import { operatorFetch } from '../helpers/operator.js';

const query = (sqlQuery: string) => [{ actionName: 'q', queryAction: { sqlQuery } }];

let tmp: ReturnType<typeof tempDataDir>;
let server: RunningServer;
let client: IoTAnalyticsClient;

async function ingest(rows: Record<string, unknown>[]): Promise<void> {
  await server.analytics.ingest('telemetry', rows.map((r) => ({ payload: Buffer.from(JSON.stringify(r)) })));
  await server.analytics.flush();
}

async function settled(datasetName: string, versionId: string): Promise<GetDatasetContentCommandOutput> {
  return eventually(async () => {
    const out = await client.send(new GetDatasetContentCommand({ datasetName, versionId }));
    return out.status?.state === 'CREATING' ? undefined : out;
  }, 10_000, `content ${versionId} of ${datasetName}`);
}

async function csvOf(out: GetDatasetContentCommandOutput): Promise<string> {
  const res = await fetch(out.entries![0].dataURI!);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
  return res.text();
}

beforeAll(async () => {
  tmp = tempDataDir();
  server = await startTestServer(tmp.dir);
  client = new IoTAnalyticsClient(awsClientConfig(server));
  await ingest([
    { deviceId: 'd1', temperature: 20, battery: 90, note: 'a, "quoted" note' },
    { deviceId: 'd2', temperature: 30, battery: 40 },
  ]);
});

afterAll(async () => {
  client.destroy();
  await server.stop();
  tmp.remove();
});

describe('IoT Analytics datasets through the AWS SDK', () => {
  test('create, describe, list, update and delete a dataset, with the defaults AWS echoes', async () => {
    const created = await client.send(new CreateDatasetCommand({ datasetName: 'crud', actions: query('SELECT 1 AS one') }));
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(created.datasetArn).toBe('arn:aws:iotanalytics:us-east-1:000000000000:dataset/crud'.replace('000000000000', server.config.server.accountId));
    expect(created.retentionPeriod).toEqual({ numberOfDays: 90, unlimited: false });

    const { dataset } = await client.send(new DescribeDatasetCommand({ datasetName: 'crud' }));
    expect(dataset).toMatchObject({ name: 'crud', status: 'ACTIVE', triggers: [], contentDeliveryRules: [], actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT 1 AS one', filters: [] } }] });
    expect(dataset!.creationTime).toBeInstanceOf(Date);
    expect(Math.abs(dataset!.creationTime!.getTime() - Date.now())).toBeLessThan(60_000);

    await client.send(new UpdateDatasetCommand({ datasetName: 'crud', actions: query('SELECT 2 AS two'), triggers: [{ schedule: { expression: 'rate(1 hour)' } }], versioningConfiguration: { maxVersions: 3 } }));
    const after = (await client.send(new DescribeDatasetCommand({ datasetName: 'crud' }))).dataset!;
    expect(after.actions![0].queryAction!.sqlQuery).toBe('SELECT 2 AS two');
    expect(after.triggers).toEqual([{ schedule: { expression: 'rate(1 hour)' } }]);
    expect(after.versioningConfiguration).toEqual({ unlimited: false, maxVersions: 3 });

    const list = await client.send(new ListDatasetsCommand({ maxResults: 1 }));
    expect(list.datasetSummaries).toHaveLength(1);
    expect(list.nextToken).toBeDefined();
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListDatasetsCommand({ maxResults: 1, nextToken }));
      names.push(...page.datasetSummaries!.map((s) => s.datasetName!));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(names).toEqual(expect.arrayContaining(['crud', 'fleet_summary']));
    const crud = (await client.send(new ListDatasetsCommand({}))).datasetSummaries!.find((s) => s.datasetName === 'crud');
    expect(crud).toMatchObject({ status: 'ACTIVE', actions: [{ actionName: 'q', actionType: 'QUERY' }] });

    const del = await client.send(new DeleteDatasetCommand({ datasetName: 'crud' }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    expect((await caught(client.send(new DescribeDatasetCommand({ datasetName: 'crud' })))).name).toBe('ResourceNotFoundException');
  });

  test('errors come back as the SDK exception classes', async () => {
    await client.send(new CreateDatasetCommand({ datasetName: 'dup', actions: query('SELECT 1') }));
    const dup = await caught(client.send(new CreateDatasetCommand({ datasetName: 'dup', actions: query('SELECT 1') })));
    expect(dup.name).toBe('ResourceAlreadyExistsException');
    expect((dup as unknown as { resourceArn?: string }).resourceArn).toMatch(/:dataset\/dup$/);
    const container = await caught(client.send(new CreateDatasetCommand({
      datasetName: 'boxed',
      actions: [{ actionName: 'c', containerAction: { image: 'x', executionRoleArn: 'arn:aws:iam::1:role/r', resourceConfiguration: { computeType: 'ACU_1', volumeSizeInGB: 1 } } }],
    })));
    expect(container.name).toBe('InvalidRequestException');
    expect(container.message).toMatch(/container datasets are not available here/);
    expect((await caught(client.send(new CreateDatasetCommand({ datasetName: 'fast', actions: query('SELECT 1'), triggers: [{ schedule: { expression: 'rate(0 minutes)' } }] })))).name).toBe('InvalidRequestException');
    expect((await caught(client.send(new CreateDatasetCommand({ datasetName: 'badcron', actions: query('SELECT 1'), triggers: [{ schedule: { expression: 'cron(0 * * * * *)' } }] })))).name).toBe('InvalidRequestException');
    expect((await caught(client.send(new CreateDatasetContentCommand({ datasetName: 'nope' })))).name).toBe('ResourceNotFoundException');
    expect((await caught(client.send(new GetDatasetContentCommand({ datasetName: 'dup' })))).name).toBe('ResourceNotFoundException');
    expect((await caught(client.send(new CreateDatasetContentCommand({ datasetName: 'dup', versionId: '11111111-1111-1111-1111-111111111111' })))).name).toBe('InvalidRequestException');
  });

  test('a content is created asynchronously and its CSV behind the signed URL holds the ingested rows', async () => {
    await client.send(new CreateDatasetCommand({ datasetName: 'rows_csv', actions: query('SELECT deviceId, temperature, `note` FROM telemetry_store ORDER BY deviceId') }));
    const { versionId } = await client.send(new CreateDatasetContentCommand({ datasetName: 'rows_csv' }));
    expect(versionId).toMatch(/^[0-9a-f-]{36}$/);
    const out = await settled('rows_csv', versionId!);
    expect(out.status).toEqual({ state: 'SUCCEEDED' });
    expect(out.timestamp).toBeInstanceOf(Date);
    expect(out.entries![0].dataURI).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.httpPort}/api/dataset-content/rows_csv/${versionId}\\.csv\\?expires=\\d+&signature=[0-9a-f]{64}$`));
    expect(await csvOf(out)).toBe('deviceId,temperature,note\r\nd1,20,"a, ""quoted"" note"\r\nd2,30,\r\n');

    // $LATEST_SUCCEEDED is the default selector
    const dflt = await client.send(new GetDatasetContentCommand({ datasetName: 'rows_csv' }));
    expect(dflt.entries![0].dataURI).toContain(versionId!);

    const summaries = (await client.send(new ListDatasetContentsCommand({ datasetName: 'rows_csv' }))).datasetContentSummaries!;
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ version: versionId, status: { state: 'SUCCEEDED' } });
    expect(summaries[0].completionTime!.getTime()).toBeGreaterThanOrEqual(summaries[0].creationTime!.getTime());
    const none = await client.send(new ListDatasetContentsCommand({ datasetName: 'rows_csv', scheduledBefore: new Date(Date.now() - 3_600_000) }));
    expect(none.datasetContentSummaries).toEqual([]);
  });

  test('a tampered URL is refused with 403 and a deleted version with 404', async () => {
    await client.send(new CreateDatasetCommand({ datasetName: 'signed', actions: query('SELECT 42 AS answer') }));
    const { versionId } = await client.send(new CreateDatasetContentCommand({ datasetName: 'signed' }));
    const uri = (await settled('signed', versionId!)).entries![0].dataURI!;
    const url = new URL(uri);
    url.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
    const tampered = await fetch(url);
    expect(tampered.status).toBe(403);
    expect(await tampered.json()).toMatchObject({ code: 'DatasetContentUrlInvalid' });
    const unsigned = await fetch(uri.replace(/\?.*$/, ''));
    expect(unsigned.status).toBe(403);

    await client.send(new DeleteDatasetContentCommand({ datasetName: 'signed', versionId }));
    expect((await fetch(uri)).status).toBe(404);
  });

  test('$LATEST shows a failed version while $LATEST_SUCCEEDED keeps the last good one', async () => {
    await client.send(new CreateDatasetCommand({ datasetName: 'flaky', actions: query('SELECT count(*) AS n FROM telemetry_store') }));
    const good = (await client.send(new CreateDatasetContentCommand({ datasetName: 'flaky' }))).versionId!;
    await settled('flaky', good);
    await client.send(new UpdateDatasetCommand({ datasetName: 'flaky', actions: query('SELECT no_such_column FROM telemetry_store') }));
    const bad = (await client.send(new CreateDatasetContentCommand({ datasetName: 'flaky' }))).versionId!;
    const failed = await settled('flaky', bad);
    expect(failed.status!.state).toBe('FAILED');
    expect(failed.status!.reason).toMatch(/no_such_column/);
    expect(failed.entries).toEqual([]);

    expect((await client.send(new GetDatasetContentCommand({ datasetName: 'flaky', versionId: '$LATEST' }))).status!.state).toBe('FAILED');
    const latestGood = await client.send(new GetDatasetContentCommand({ datasetName: 'flaky', versionId: '$LATEST_SUCCEEDED' }));
    expect(latestGood.entries![0].dataURI).toContain(good);
    expect(await csvOf(latestGood)).toBe('n\r\n2\r\n');
  });

  test('without versioning only the latest and the latest succeeded versions are kept; maxVersions keeps that many', async () => {
    await client.send(new CreateDatasetCommand({ datasetName: 'versions_default', actions: query('SELECT 1 AS x') }));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { versionId } = await client.send(new CreateDatasetContentCommand({ datasetName: 'versions_default' }));
      await settled('versions_default', versionId!);
      ids.push(versionId!);
    }
    const kept = (await client.send(new ListDatasetContentsCommand({ datasetName: 'versions_default' }))).datasetContentSummaries!.map((s) => s.version);
    expect(kept).toEqual([ids[2]]);
    expect(readdirSync(join(server.dataDir, 'datasets', 'versions_default')).filter((f) => f.endsWith('.csv'))).toEqual([`${ids[2]}.csv`]);

    await client.send(new CreateDatasetCommand({ datasetName: 'versions_two', actions: query('SELECT 1 AS x'), versioningConfiguration: { maxVersions: 2 } }));
    const two: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { versionId } = await client.send(new CreateDatasetContentCommand({ datasetName: 'versions_two' }));
      await settled('versions_two', versionId!);
      two.push(versionId!);
    }
    const page1 = await client.send(new ListDatasetContentsCommand({ datasetName: 'versions_two', maxResults: 1 }));
    const page2 = await client.send(new ListDatasetContentsCommand({ datasetName: 'versions_two', maxResults: 1, nextToken: page1.nextToken }));
    expect([...page1.datasetContentSummaries!, ...page2.datasetContentSummaries!].map((s) => s.version)).toEqual([two[2], two[1]]);
    expect(page2.nextToken).toBeUndefined();
  });

  test('a dataset trigger runs a dataset after the named one SUCCEEDED, and delivery writes the local copy', async () => {
    await client.send(new CreateDatasetCommand({ datasetName: 'first', actions: query('SELECT 1 AS a') }));
    await client.send(new CreateDatasetCommand({
      datasetName: 'second',
      actions: query('SELECT 2 AS b'),
      triggers: [{ dataset: { name: 'first' } }],
      contentDeliveryRules: [{ entryName: 'out', destination: { s3DestinationConfiguration: { bucket: 'my-bucket', key: 'exports/second/!{iotanalytics:versionId}.csv', roleArn: 'arn:aws:iam::123456789012:role/r' } } }],
    }));
    const { versionId } = await client.send(new CreateDatasetContentCommand({ datasetName: 'first' }));
    await settled('first', versionId!);
    const chained = await eventually(async () => {
      const s = (await client.send(new ListDatasetContentsCommand({ datasetName: 'second' }))).datasetContentSummaries!;
      return s.length === 1 && s[0].status!.state === 'SUCCEEDED' ? s[0] : undefined;
    }, 10_000, 'the chained dataset content');
    const delivered = join(server.dataDir, 'deliveries', 'my-bucket', 'exports', 'second', `${chained.version}.csv`);
    await eventually(async () => (existsSync(delivered) ? true : undefined), 5_000, 'the delivered file');
    expect(readFileSync(delivered, 'utf8')).toBe('b\r\n2\r\n');
  });

  test('Presto SQL runs: from_unixtime, back-quoted names and json_extract_scalar are translated', async () => {
    await client.send(new CreateDatasetCommand({
      datasetName: 'presto',
      actions: query("SELECT from_unixtime(0) AS t, json_extract_scalar('{\"a\": \"x\"}', '$.a') AS j, 'from_unixtime(1)' AS s, `deviceId` FROM telemetry_store WHERE regexp_like(deviceId, '^d1$')"),
    }));
    const { versionId } = await client.send(new CreateDatasetContentCommand({ datasetName: 'presto' }));
    const out = await settled('presto', versionId!);
    expect(out.status).toEqual({ state: 'SUCCEEDED' });
    const [header, row] = (await csvOf(out)).split('\r\n');
    expect(header).toBe('t,j,s,deviceId');
    expect(row).toMatch(/^1970-01-01.*,x,from_unixtime\(1\),d1$/);
  });

  test('a deltaTime dataset reads only rows of its window: a second manual run starts where the first ended', async () => {
    await client.send(new CreateDatasetCommand({
      datasetName: 'incremental',
      actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT deviceId FROM telemetry_store ORDER BY deviceId', filters: [{ deltaTime: { offsetSeconds: 0, timeExpression: '__dt' } }] } }],
      lateDataRules: [{ ruleName: 'late', ruleConfiguration: { deltaTimeSessionWindowConfiguration: { timeoutInMinutes: 5 } } }],
    }));
    const first = (await client.send(new CreateDatasetContentCommand({ datasetName: 'incremental' }))).versionId!;
    expect(await csvOf(await settled('incremental', first))).toBe('deviceId\r\nd1\r\nd2\r\n');
    await new Promise((r) => setTimeout(r, 20));
    await ingest([{ deviceId: 'd3', temperature: 1, battery: 1 }]);
    const second = (await client.send(new CreateDatasetContentCommand({ datasetName: 'incremental' }))).versionId!;
    expect(await csvOf(await settled('incremental', second))).toBe('deviceId\r\nd3\r\n');
    const { dataset } = await client.send(new DescribeDatasetCommand({ datasetName: 'incremental' }));
    expect(dataset!.lateDataRules).toEqual([{ ruleName: 'late', ruleConfiguration: { deltaTimeSessionWindowConfiguration: { timeoutInMinutes: 5 } } }]);
  });

  test('definitions and contents survive a restart; the dashboard run route still works', async () => {
    await client.send(new CreateDatasetCommand({ datasetName: 'durable', actions: query('SELECT 7 AS seven'), retentionPeriod: { numberOfDays: 3 } }));
    const { versionId } = await client.send(new CreateDatasetContentCommand({ datasetName: 'durable' }));
    await settled('durable', versionId!);
    client.destroy();
    await server.stop();
    server = await startTestServer(tmp.dir);
    client = new IoTAnalyticsClient(awsClientConfig(server));
    const { dataset } = await client.send(new DescribeDatasetCommand({ datasetName: 'durable' }));
    expect(dataset!.retentionPeriod).toEqual({ numberOfDays: 3, unlimited: false });
    const out = await client.send(new GetDatasetContentCommand({ datasetName: 'durable' }));
    expect(out.entries![0].dataURI).toContain(`:${server.httpPort}/`);
    expect(await csvOf(out)).toBe('seven\r\n7\r\n');
    const run = await operatorFetch(`http://127.0.0.1:${server.httpPort}`, '/api/datasets/durable/run', { method: 'POST' });
    expect(await run.json()).toMatchObject({ datasetName: 'durable', rows: [[7]] });
  });
});
