// The facade's control plane (create/update/delete/describe, quotas, metadata, tags) with the real
// archive and DuckDB; the HTTP wire is covered by test/integration/iotanalytics-api.test.ts.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAnalytics, type Analytics, type AnalyticsOptions, type PipelineDefinition } from '../../../analytics/index.js';

let dir: string;
let a: Analytics | null = null;
let now = 1_700_000_000_000;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iotcore-control-'));
});
afterEach(async () => {
  await a?.close().catch(() => undefined);
  a = null;
  await rm(dir, { recursive: true, force: true });
});

const open = (extra: Partial<AnalyticsOptions> = {}) =>
  openAnalytics({ dataDir: dir, region: 'eu-west-1', accountId: '111122223333', now: () => now, channel: { flushDelayMs: 1 }, database: { flushDelayMs: 1 }, ...extra });
const pipeline = (name: string, channelName = 'c', datastoreName = 'd'): PipelineDefinition => ({
  pipelineName: name,
  pipelineActivities: [{ channel: { name: 'in', channelName, next: 'out' } }, { datastore: { name: 'out', datastoreName } }],
});
const exists = async (p: string) => stat(p).then(() => true, () => false);

describe('the analytics control plane', () => {
  it('names resources with ARNs of the configured region and account', async () => {
    a = await open();
    const c = await a.createChannel({ channelName: 'c' });
    expect(c.arn).toBe('arn:aws:iotanalytics:eu-west-1:111122223333:channel/c');
    expect(a.resourceArn('dataset', 'x')).toBe('arn:aws:iotanalytics:eu-west-1:111122223333:dataset/x');
  });

  it('refuses to create an existing name with resourceId and resourceArn, while put stays an idempotent upsert', async () => {
    a = await open();
    await a.createChannel({ channelName: 'c', retentionPeriod: { numberOfDays: 3 } });
    await expect(a.createChannel({ channelName: 'c' })).rejects.toMatchObject({
      code: 'ResourceAlreadyExistsException', statusCode: 409, details: { resourceId: 'c', resourceArn: 'arn:aws:iotanalytics:eu-west-1:111122223333:channel/c' },
    });
    now += 1000;
    await a.putChannel({ channelName: 'c', retentionPeriod: { numberOfDays: 3 } });
    const { channel } = await a.describeChannel('c');
    expect(channel.lastUpdateTime).toBe(channel.creationTime); // nothing changed
    now += 1000;
    await a.putChannel({ channelName: 'c', retentionPeriod: { numberOfDays: 4 } });
    expect((await a.describeChannel('c')).channel).toMatchObject({ lastUpdateTime: channel.creationTime + 2000, retentionPeriod: { numberOfDays: 4, unlimited: false } });
  });

  it('keeps members an update does not give', async () => {
    a = await open();
    await a.createChannel({ channelName: 'c', retentionPeriod: { numberOfDays: 3 } });
    await a.updateChannel({ channelName: 'c' });
    expect((await a.describeChannel('c')).channel.retentionPeriod).toEqual({ numberOfDays: 3, unlimited: false });
    await expect(a.updateChannel({ channelName: 'none' })).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
  });

  it('answers LimitExceededException (410) past 25 datastores and past 25 activities', async () => {
    a = await open();
    for (let i = 0; i < 25; i++) await a.createDatastore({ datastoreName: `d${i}` });
    await expect(a.createDatastore({ datastoreName: 'd25' })).rejects.toMatchObject({ code: 'LimitExceededException', statusCode: 410 });
    await a.createChannel({ channelName: 'c' });
    const def = pipeline('p', 'c', 'd0');
    const filters = Array.from({ length: 24 }, (_, i) => ({ filter: { name: `f${i}`, filter: 'x > 0', next: i === 23 ? 'out' : `f${i + 1}` } }));
    def.pipelineActivities = [{ channel: { name: 'in', channelName: 'c', next: 'f0' } }, ...filters, def.pipelineActivities[1]];
    await expect(a.createPipeline(def)).rejects.toMatchObject({ code: 'LimitExceededException', statusCode: 410 });
  });

  it('refuses to delete a channel or datastore a pipeline uses, and deletes them cleanly once free', async () => {
    a = await open();
    await a.createChannel({ channelName: 'c' });
    await a.createDatastore({ datastoreName: 'd' });
    await a.createPipeline(pipeline('p'));
    await a.ingest('c', [{ payload: Buffer.from('{"x":1}') }]);
    await a.flush();
    await expect(a.deleteChannel('c')).rejects.toMatchObject({ code: 'InvalidRequestException', message: expect.stringMatching(/pipeline\(s\) p/) });
    await expect(a.deleteDatastore('d')).rejects.toMatchObject({ code: 'InvalidRequestException' });

    await a.deletePipeline('p');
    await a.deleteChannel('c');
    await a.deleteDatastore('d');
    expect(await exists(join(dir, 'channels', 'c'))).toBe(false);
    expect(a.listChannels()).toEqual([]);
    expect(a.listDatastores()).toEqual([]);
    await expect(a.ingest('c', [{ payload: Buffer.from('{}') }])).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
    await expect(a.deletePipeline('p')).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
  });

  it('keeps creation times, tags, the last arrival and the logging options across a reopen', async () => {
    a = await open();
    await a.createChannel({ channelName: 'c', tags: [{ key: 'k', value: 'v' }] });
    await a.createDatastore({ datastoreName: 'd' });
    await a.createPipeline(pipeline('p'));
    await a.ingest('c', [{ payload: Buffer.from('{"x":1}') }]);
    await a.flush();
    await a.putLoggingOptions({ roleArn: 'arn:aws:iam::111122223333:role/log', level: 'ERROR', enabled: false });
    const before = (await a.describeChannel('c')).channel;
    const ds = (await a.describeDatastore('d')).datastore;
    expect(before.lastMessageArrivalTime).toBe(now);
    await a.close();

    now += 60_000;
    a = await open();
    expect((await a.describeChannel('c')).channel).toEqual(before);
    expect((await a.describeDatastore('d')).datastore.lastMessageArrivalTime).toBe(ds.lastMessageArrivalTime);
    expect(a.listTagsForResource(before.arn)).toEqual([{ key: 'k', value: 'v' }]);
    expect(a.getLoggingOptions()).toEqual({ roleArn: 'arn:aws:iam::111122223333:role/log', level: 'ERROR', enabled: false });
  });

  it('tags by ARN, up to 50 tags, and refuses unknown or foreign ARNs', async () => {
    a = await open();
    await a.createDatastore({ datastoreName: 'd' });
    const arn = a.resourceArn('datastore', 'd');
    await a.tagResource(arn, [{ key: 'a', value: '1' }]);
    await a.untagResource(arn, ['a']);
    expect(a.listTagsForResource(arn)).toEqual([]);
    await a.tagResource(arn, Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v' })));
    await expect(a.tagResource(arn, [{ key: 'one_more', value: 'v' }])).rejects.toMatchObject({ code: 'LimitExceededException' });
    await expect(a.tagResource(a.resourceArn('channel', 'none'), [{ key: 'a', value: '1' }])).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
    await expect(a.tagResource('arn:aws:iotanalytics:us-east-1:111122223333:datastore/d', [{ key: 'a', value: '1' }])).rejects.toMatchObject({ code: 'InvalidRequestException' });
  });
});
