// Hostile HTTP requests against a real server: malformed JSON, wrong types, bodies over each
// limit, unknown fields and path traversal in every kind of name. Each gets a coded 4xx (the AWS
// shape on AWS routes, {code, message} on ours), the server keeps serving, and nothing outside
// the data directory is read or created.
import { CreateThingCommand, DescribeThingCommand, IoTClient } from '@aws-sdk/client-iot';
import { CreateDatasetCommand, CreateDatasetContentCommand, DescribeDatasetCommand, GetDatasetContentCommand, IoTAnalyticsClient } from '@aws-sdk/client-iotanalytics';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { join } from 'node:path';
import type { RunningServer } from '../../broker/index.js';
import { awsClientConfig } from '../helpers/aws.js';
import { eventually, startTestServer } from '../helpers/server.js';
import { signIn } from '../helpers/operator.js';

const CANARY = 'canary-secret-do-not-serve';

let outer: string;
let dataDir: string;
let server: RunningServer;
let iot: IoTClient;
let analytics: IoTAnalyticsClient;
let versionId: string;

const base = () => `http://127.0.0.1:${server.httpPort}`;
const json = (body: unknown) => ({ 'content-type': 'application/json', body: JSON.stringify(body) });

/** A request sent byte for byte as given: fetch() would resolve `..` and `%2e%2e` segments
 * before they reach the server, which is exactly what must be tried here. */
function raw(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.httpPort, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function parsed(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {}; // not JSON (a CSV, a page...): callers check the text
  }
}

/** An AWS route called with SigV4 over the raw path: status, the x-amzn-ErrorType header and the body. */
async function aws(method: string, path: string, body?: string, service = 'iot') {
  const [pathname, search = ''] = path.split('?');
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(search)) query[k] = v;
  const signer = new SignatureV4({ credentials: server.adminCredentials, region: 'us-east-1', service, sha256: Hash.bind(null, 'sha256') });
  const host = `127.0.0.1:${server.httpPort}`;
  const signed = await signer.sign({ method, protocol: 'http:', hostname: '127.0.0.1', port: server.httpPort, path: pathname, query, headers: { host, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body });
  const r = await raw(method, path, signed.headers as Record<string, string>, body);
  const type = r.headers['x-amzn-errortype'];
  return { status: r.status, type: typeof type === 'string' ? type : null, text: r.text, body: parsed(r.text) };
}

let cookie: string;

/** One of our /api routes as the signed-in operator, over the raw path. */
async function api(method: string, path: string, body?: string, contentType = 'application/json') {
  cookie ??= await signIn(base());
  const r = await raw(method, path, { cookie, ...(body === undefined ? {} : { 'content-type': contentType }) }, body);
  return { status: r.status, text: r.text, body: parsed(r.text) };
}

beforeAll(async () => {
  // the data directory inside a directory of its own, with a canary beside it
  outer = mkdtempSync(join(tmpdir(), 'iotcore-hostile-'));
  dataDir = join(outer, 'data');
  mkdirSync(dataDir);
  writeFileSync(join(outer, 'canary.txt'), CANARY);
  writeFileSync(join(outer, 'canary.csv'), CANARY);
  server = await startTestServer(dataDir);
  iot = new IoTClient(awsClientConfig(server));
  analytics = new IoTAnalyticsClient(awsClientConfig(server));
  await iot.send(new CreateThingCommand({ thingName: 'good-thing' }));
  await analytics.send(new CreateDatasetCommand({ datasetName: 'good_ds', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT 1 AS one' } }] }));
  versionId = (await analytics.send(new CreateDatasetContentCommand({ datasetName: 'good_ds' }))).versionId!;
  await eventually(async () => {
    const c = await analytics.send(new GetDatasetContentCommand({ datasetName: 'good_ds', versionId }));
    return c.status?.state === 'SUCCEEDED' ? true : undefined;
  }, 10_000, 'the good content');
});

afterAll(async () => {
  iot?.destroy();
  analytics?.destroy();
  await server?.stop();
  rmSync(outer, { recursive: true, force: true });
});

describe('malformed JSON', () => {
  it.each([
    ['CreateThing', 'POST', '/things/t-malformed', 'iot'],
    ['CreateTopicRule', 'POST', '/rules/malformed', 'iot'],
    ['CreateDataset', 'POST', '/datasets', 'iotanalytics'],
    ['CreateChannel', 'POST', '/channels', 'iotanalytics'],
  ])('%s answers 400 InvalidRequestException in the AWS shape', async (_op, method, path, service) => {
    const r = await aws(method, path, '{"attributePayload": {', service);
    expect(r.status).toBe(400);
    expect(r.type).toBe('InvalidRequestException');
    expect(r.body.message).toMatch(/not valid JSON/);
  });

  it('UpdateThingShadow answers 400 with the shadow service\'s own error document', async () => {
    const r = await aws('POST', '/things/good-thing/shadow', '{"state": {"desired": ', 'iotdata');
    expect(r.status).toBe(400);
    expect(r.type).toBe('InvalidRequestException');
    expect(r.body.message).toBe('Invalid JSON');
  });

  it.each([
    ['POST', '/api/rules/test'],
    ['POST', '/api/operators'],
  ])('%s %s answers 400 {code: InvalidRequestException}', async (method, path) => {
    const r = await api(method, path, '{"sql": "SELECT');
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('InvalidRequestException');
    expect(typeof r.body.message).toBe('string');
  });

  it('an /api body that is not JSON at all is answered with a coded 4xx, not a crash', async () => {
    const r = await api('POST', '/api/rules/test', 'sql=SELECT', 'application/x-www-form-urlencoded');
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(typeof r.body.code).toBe('string');
  });
});

describe('wrong types', () => {
  it.each([
    ['CreateThing attributes not a map', 'POST', '/things/t-wrong1', { attributePayload: { attributes: 'color=red' } }, 'iot'],
    ['CreateThing attribute value not a string', 'POST', '/things/t-wrong2', { attributePayload: { attributes: { color: 5 } } }, 'iot'],
    ['CreateThing thingTypeName not a string', 'POST', '/things/t-wrong3', { thingTypeName: ['a'] }, 'iot'],
    ['CreateTopicRule sql not a string', 'POST', '/rules/wrong_sql', { sql: 42, actions: [] }, 'iot'],
    ['CreateTopicRule actions not a list', 'POST', '/rules/wrong_actions', { sql: "SELECT * FROM 't'", actions: { republish: {} } }, 'iot'],
    ['CreateDataset actions not a list', 'POST', '/datasets', { datasetName: 'wrong_ds', actions: { actionName: 'q' } }, 'iotanalytics'],
    ['CreateDataset sqlQuery not a string', 'POST', '/datasets', { datasetName: 'wrong_ds2', actions: [{ actionName: 'q', queryAction: { sqlQuery: ['SELECT 1'] } }] }, 'iotanalytics'],
    ['CreateChannel retentionPeriod not an object', 'POST', '/channels', { channelName: 'wrong_ch', retentionPeriod: 'forever' }, 'iotanalytics'],
    ['CreateDatastore datastoreName not a string', 'POST', '/datastores', { datastoreName: 7 }, 'iotanalytics'],
    ['CreatePipeline activities not a list', 'POST', '/pipelines', { pipelineName: 'wrong_pl', pipelineActivities: 'channel' }, 'iotanalytics'],
    ['a body that is a JSON array', 'POST', '/things/t-wrong4', [1, 2], 'iot'],
  ])('%s → 400 InvalidRequestException naming the member', async (_what, method, path, body, service) => {
    const r = await aws(method, path, JSON.stringify(body), service);
    expect(r.status).toBe(400);
    expect(r.type).toBe('InvalidRequestException');
    expect(typeof r.body.message).toBe('string');
  });

  it.each([
    ['state not an object', { state: 'on' }],
    ['desired not an object', { state: { desired: [1, 2] } }],
    ['version not a number', { state: { desired: { a: 1 } }, version: 'one' }],
    ['a document that is a string', 'just text'],
  ])('UpdateThingShadow with %s → 400 and the shadow is unchanged', async (_what, doc) => {
    const r = await aws('POST', '/things/good-thing/shadow', JSON.stringify(doc), 'iotdata');
    expect(r.status).toBe(400);
    expect(r.type).toBe('InvalidRequestException');
    const get = await aws('GET', '/things/good-thing/shadow', undefined, 'iotdata');
    expect(get.status).toBe(404); // still no shadow: nothing was half-applied
  });

  it.each([
    ['sql not a string', { sql: 1, topic: 't', payload: {} }],
    ['topic not a string', { sql: "SELECT * FROM 't'", topic: ['t'], payload: {} }],
    ['payloadBase64 not base64', { sql: "SELECT * FROM 't'", topic: 't', payloadBase64: '***' }],
    ['the body a list', [1]],
  ])('POST /api/rules/test with %s → 400 InvalidRequestException', async (_what, body) => {
    const r = await api('POST', '/api/rules/test', JSON.stringify(body));
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('InvalidRequestException');
  });
});

describe('bodies over the limit', () => {
  it.each([
    ['CreateTopicRule over 272 KiB', 'POST', '/rules/huge', 'iot', 300 * 1024],
    ['CreateDataset over 272 KiB', 'POST', '/datasets', 'iotanalytics', 300 * 1024],
    ['UpdateThingShadow over 128 KiB', 'POST', '/things/good-thing/shadow', 'iotdata', 129 * 1024],
    ['Publish over 128 KiB', 'POST', '/topics/a%2Fb', 'iotdata', 129 * 1024],
  ])('%s → 413 PayloadTooLarge, and the server answers the next request', async (_what, method, path, service, size) => {
    const body = JSON.stringify({ description: 'x'.repeat(size) });
    const r = await aws(method, path, body, service);
    expect(r.status).toBe(413);
    expect(r.type).toBe('PayloadTooLarge');
    const next = await iot.send(new DescribeThingCommand({ thingName: 'good-thing' }));
    expect(next.thingName).toBe('good-thing');
  });

  it('an /api body over its limit → 413 {code: PayloadTooLarge}, and the server answers the next request', async () => {
    const r = await api('POST', '/api/operators', JSON.stringify({ username: 'x', password: 'y'.repeat(200 * 1024) }));
    expect(r.status).toBe(413);
    expect(r.body.code).toBe('PayloadTooLarge');
    expect((await api('GET', '/api/operators')).status).toBe(200);
  });
});

describe('unknown fields', () => {
  it('AWS routes ignore members they do not know, as AWS does, and do not store them', async () => {
    const r = await aws('POST', '/things/t-extra', JSON.stringify({ thingTypeName: undefined, futureMember: { a: 1 }, attributePayload: { attributes: { a: 'b' } } }));
    expect(r.status).toBe(200);
    expect(r.text).not.toContain('futureMember');
    const described = await iot.send(new DescribeThingCommand({ thingName: 't-extra' }));
    expect(JSON.stringify(described)).not.toContain('futureMember');

    const ds = await aws('POST', '/datasets', JSON.stringify({ datasetName: 'extra_ds', futureMember: 1, actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT 1' }, futureAction: 2 }] }), 'iotanalytics');
    expect(ds.status).toBe(201);
    const dataset = (await analytics.send(new DescribeDatasetCommand({ datasetName: 'extra_ds' }))).dataset!;
    expect(JSON.stringify(dataset)).not.toMatch(/future/);
  });

  it.each([
    ['POST', '/api/rules/test', { sql: "SELECT * FROM 't'", topic: 't', payload: {}, paylod: {} }, 'paylod'],
    ['POST', '/api/operators', { username: 'newop', password: 'long-enough-password', role: 'root' }, 'role'],
    ['PUT', '/api/operators/nobody/password', { password: 'long-enough-password', oldPassword: 'x' }, 'oldPassword'],
  ])('%s %s refuses a member it does not know with InvalidRequestException naming it', async (method, path, body, member) => {
    const r = await api(method, path, JSON.stringify(body));
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('InvalidRequestException');
    expect(r.body.message).toContain(`"${member}"`);
  });

  it('POST /api/datastores/{name}/export (an AWS-scope extension) refuses a member it does not know, naming it', async () => {
    const r = await aws('POST', '/api/datastores/telemetry_store/export', JSON.stringify({ startTime: 0, bucket: 'x' }), 'iotanalytics');
    expect(r.status).toBe(400);
    expect(r.type).toBe('InvalidRequestException');
    expect(r.body.message).toContain('"bucket"');
  });
});

describe('path traversal in names', () => {
  const evil = ['..', '%2e%2e', '..%2f..%2fcanary.txt', '..%2F..%2Fcanary.csv', '..%5c..%5ccanary.txt', 'a%00b', '%2e%2e%2f%2e%2e%2fcanary', 'a\\..\\b'.replace(/\\/g, '%5c')];

  it.each(evil)('thing, shadow, channel, datastore, pipeline and dataset names %s → 4xx coded, never the canary', async (name) => {
    const calls: [string, string, string | undefined, string][] = [
      ['GET', `/things/${name}`, undefined, 'iot'],
      ['POST', `/things/${name}`, '{}', 'iot'],
      ['GET', `/things/${name}/shadow`, undefined, 'iotdata'],
      ['GET', `/things/good-thing/shadow?name=${name}`, undefined, 'iotdata'],
      ['POST', `/things/good-thing/shadow?name=${name}`, '{"state":{"reported":{"a":1}}}', 'iotdata'],
      ['GET', `/channels/${name}`, undefined, 'iotanalytics'],
      ['GET', `/datastores/${name}`, undefined, 'iotanalytics'],
      ['GET', `/pipelines/${name}`, undefined, 'iotanalytics'],
      ['GET', `/datasets/${name}`, undefined, 'iotanalytics'],
      ['POST', '/datasets', JSON.stringify({ datasetName: decodeURIComponent(name), actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT 1' } }] }), 'iotanalytics'],
      ['POST', '/channels', JSON.stringify({ channelName: decodeURIComponent(name) }), 'iotanalytics'],
      ['GET', `/datasets/good_ds/content?versionId=${name}`, undefined, 'iotanalytics'],
      ['GET', `/rules/${name}`, undefined, 'iot'],
    ];
    for (const [method, path, body, service] of calls) {
      const r = await aws(method, path, body, service);
      expect([400, 404]).toContain(r.status);
      expect(r.text).not.toContain(CANARY);
      // a coded error: the AWS header, or the shadow service's {code, message} document
      expect(r.type ?? String(r.body.code)).toMatch(/^(InvalidRequestException|ResourceNotFoundException|NotFound|400|404)$/);
    }
  });

  it.each(evil)('dataset content downloads with %s in the dataset or version → 4xx coded, never the canary', async (name) => {
    for (const path of [
      `/api/datasets/${name}/contents/${versionId}.csv`,
      `/api/datasets/good_ds/contents/${name}.csv`,
      `/api/datasets/good_ds/contents/${name}%2fcanary.csv`,
      `/api/datasets/${name}/contents/latest`,
      `/api/dataset-content/${name}/${versionId}.csv?expires=9999999999&signature=${'0'.repeat(64)}`,
      `/api/dataset-content/good_ds/${name}.csv?expires=9999999999&signature=${'0'.repeat(64)}`,
    ]) {
      const r = await api('GET', path);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.text).not.toContain(CANARY);
      expect(typeof r.body.code).toBe('string');
    }
  });

  it('the good CSV still downloads, and nothing was created beside the data directory', async () => {
    const ok = await api('GET', `/api/datasets/good_ds/contents/${versionId}.csv`);
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('one\r\n1\r\n');
    expect(readdirSync(outer).sort()).toEqual(['canary.csv', 'canary.txt', 'data']);
    expect((await fetch(`${base()}/health`)).status).toBe(200);
  });
});
