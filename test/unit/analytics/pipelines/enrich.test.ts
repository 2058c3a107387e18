import { compilePipeline, compileSingleActivity, type EnrichLookups, type ThingRecord } from '../../../../analytics/pipelines/index.js';
import type { PipelineActivity } from '../../../../analytics/types.js';

const ROLE = 'arn:aws:iam::123456789012:role/MyEnrichRole';

const thing: ThingRecord = {
  defaultClientId: 'my-thing',
  thingTypeName: 'sensor',
  thingArn: 'arn:aws:iot:us-east-1:123456789012:thing/my-thing',
  version: 1,
  thingName: 'my-thing',
  attributes: { site: 'berlin' },
  thingId: 'a1b2c3',
};
const shadow = { state: { reported: { fw: '1.2' } }, metadata: { reported: { fw: { timestamp: 1 } } }, version: 3, timestamp: 2 };

const lookups: EnrichLookups = {
  describeThing: (name) => (name === 'my-thing' ? { ...thing } : undefined),
  getShadow: (name) => (name === 'my-thing' ? structuredClone(shadow) : undefined),
};

const registryEnrich = (thingName = 'device.thingName', attribute = 'metadata'): PipelineActivity => ({
  deviceRegistryEnrich: { name: 'reg', attribute, thingName, roleArn: ROLE },
});
const shadowEnrich = (thingName = 'device.thingName', attribute = 'shadow'): PipelineActivity => ({
  deviceShadowEnrich: { name: 'sh', attribute, thingName, roleArn: ROLE },
});

describe('deviceRegistryEnrich activity', () => {
  it('attaches the DescribeThing record of the thing named at the path, as the last key', () => {
    const input = { temp: 50, hum: 40, device: { thingName: 'my-thing' } };
    const out = compileSingleActivity(registryEnrich(), { enrich: lookups })(input)!;
    expect(out).toEqual({ ...input, metadata: thing });
    expect(Object.keys(out)).toEqual(['temp', 'hum', 'device', 'metadata']);
    expect(input).not.toHaveProperty('metadata');
  });

  it('passes the message on unchanged when the path is missing, not a string or names an unknown thing', () => {
    const step = compileSingleActivity(registryEnrich(), { enrich: lookups });
    for (const m of [{ temp: 1 }, { device: { thingName: 42 } }, { device: { thingName: '' } }, { device: { thingName: 'ghost' } }]) {
      expect(step(m)).toBe(m);
    }
  });

  it('overwrites an existing attribute of that name in place', () => {
    const out = compileSingleActivity(registryEnrich('id', 'meta'), { enrich: lookups })({ meta: 'old', id: 'my-thing', x: 1 })!;
    expect(Object.keys(out)).toEqual(['meta', 'id', 'x']);
    expect(out.meta).toEqual(thing);
  });

  it('refuses a missing or too short roleArn, an invalid thingName path and unknown members', () => {
    // deliberately malformed members: the API hands in whatever JSON a client sends
    const bad = [
      { deviceRegistryEnrich: { name: 'r', attribute: 'a', thingName: 'id' } },
      { deviceRegistryEnrich: { name: 'r', attribute: 'a', thingName: 'id', roleArn: 'short' } },
      { deviceRegistryEnrich: { name: 'r', attribute: 'a', thingName: 'my-thing', roleArn: ROLE } },
      { deviceRegistryEnrich: { name: 'r', attribute: '', thingName: 'id', roleArn: ROLE } },
      { deviceRegistryEnrich: { name: 'r', attribute: 'a', thingName: 'id', roleArn: ROLE, thing: 'x' } },
    ] as unknown as PipelineActivity[];
    for (const a of bad) expect(() => compileSingleActivity(a, { enrich: lookups })).toThrow(expect.objectContaining({ code: 'InvalidRequestException' }));
  });

  it('is refused where no registry was injected', () => {
    expect(() => compileSingleActivity(registryEnrich())).toThrow(/no device registry/);
  });
});

describe('deviceShadowEnrich activity', () => {
  it('attaches the classic shadow document of the thing named at the path', () => {
    const out = compileSingleActivity(shadowEnrich('device.thingName'), { enrich: lookups })({ device: { thingName: 'my-thing' } });
    expect(out).toEqual({ device: { thingName: 'my-thing' }, shadow });
  });

  it('passes the message on unchanged when the thing has no shadow', () => {
    const m = { device: { thingName: 'ghost' } };
    expect(compileSingleActivity(shadowEnrich(), { enrich: lookups })(m)).toBe(m);
  });
});

describe('enrich activities in a pipeline', () => {
  it('run on the synchronous path and count lookups that found nothing', () => {
    const p = compilePipeline(
      {
        pipelineName: 'p',
        pipelineActivities: [
          { channel: { name: 'c', channelName: 'chan', next: 'reg' } },
          { deviceRegistryEnrich: { name: 'reg', attribute: 'metadata', thingName: 'device.thingName', roleArn: ROLE, next: 'sh' } },
          { deviceShadowEnrich: { name: 'sh', attribute: 'shadow', thingName: 'device.thingName', roleArn: ROLE, next: 'd' } },
          { datastore: { name: 'd', datastoreName: 'store' } },
        ],
      },
      { enrich: lookups },
    );
    expect(p.batched).toBe(false);
    expect(p.process({ device: { thingName: 'my-thing' } })).toEqual({ device: { thingName: 'my-thing' }, metadata: thing, shadow });
    expect(p.process({ device: { thingName: 'ghost' } })).toEqual({ device: { thingName: 'ghost' } });
    expect(p.counters().reg).toMatchObject({ type: 'deviceRegistryEnrich', in: 2, out: 2, lookupMisses: 1 });
    expect(p.counters().sh).toMatchObject({ type: 'deviceShadowEnrich', in: 2, out: 2, lookupMisses: 1 });
  });
});

describe('a pipeline activity that throws', () => {
  it('drops the message, counts the error and keeps the latest failure with the activity name', () => {
    const failing: EnrichLookups = { describeThing: () => { throw new Error('registry unavailable'); }, getShadow: () => undefined };
    const p = compilePipeline({
      pipelineName: 'p',
      pipelineActivities: [
        { channel: { name: 'c', channelName: 'ch', next: 'reg' } },
        { deviceRegistryEnrich: { name: 'reg', attribute: 'metadata', thingName: 'device', roleArn: ROLE, next: 'd' } },
        { datastore: { name: 'd', datastoreName: 'store' } },
      ],
    }, { enrich: failing });
    expect(p.lastError()).toBeUndefined();
    expect(p.process({ device: 'my-thing' })).toBeNull();
    expect(p.counters().reg).toMatchObject({ in: 1, errors: 1 });
    expect(p.lastError()).toEqual({ activity: 'reg', message: 'registry unavailable', at: expect.any(Number) });
  });
});
