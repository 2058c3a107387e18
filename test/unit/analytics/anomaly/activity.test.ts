// The detectAnomalies pipeline activity (our extension): compiled once with the pipeline, one
// detector state per device, score and flag added, non-numeric messages passed unchanged, coded
// validation errors; RunPipelineActivity through the facade with real DuckDB.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePipeline, compileSingleActivity, openAnalytics, type Analytics, type PipelineActivity, type PipelineMessage } from '../../../../analytics/index.js';
import { compileDetectAnomaliesActivity } from '../../../../analytics/pipelines/activities/detectAnomalies.js';

const detect = (extra: Record<string, unknown> = {}): PipelineActivity => ({ detectAnomalies: { name: 'detect', attribute: 'temp', detector: 'mad', next: 'out', ...extra } });
const pipeline = (activity: PipelineActivity) =>
  compilePipeline({
    pipelineName: 'p',
    pipelineActivities: [{ channel: { name: 'in', channelName: 'c', next: 'detect' } }, activity, { datastore: { name: 'out', datastoreName: 'd' } }],
  });
/** a calm signal around `level`, point i */
const calm = (level: number, i: number) => level + Math.sin(i) * 0.5;

describe('the detectAnomalies activity', () => {
  it('adds anomaly_score in [0, 1] and is_anomaly to every numeric message, flagging a spike after a calm stretch', () => {
    const p = pipeline(detect());
    const out: PipelineMessage[] = [];
    for (let i = 0; i < 100; i++) out.push(p.process({ deviceId: 'a', temp: calm(20, i) })!);
    const spike = p.process({ deviceId: 'a', temp: 80 })!;
    for (const m of out) {
      expect(m.anomaly_score).toBeGreaterThanOrEqual(0);
      expect(m.anomaly_score).toBeLessThanOrEqual(1);
    }
    expect(out.slice(50).every((m) => m.is_anomaly === false)).toBe(true);
    expect(spike).toMatchObject({ deviceId: 'a', temp: 80, is_anomaly: true });
    expect(spike.anomaly_score).toBeGreaterThanOrEqual(0.5);
  });

  it('keeps one detector state per device, so two devices at different levels do not disturb each other', () => {
    // mad at threshold 0.5 ("z0 deviations"): the subject here is the per-device state
    const perDevice = pipeline(detect({ threshold: 0.5 }));
    const shared = pipeline(detect({ deviceAttribute: 'site', threshold: 0.5 })); // no such attribute: one series
    let perDeviceFlags = 0;
    let sharedFlags = 0;
    for (let i = 0; i < 200; i++) {
      for (const [deviceId, level] of [['a', 20], ['b', 1000]] as const) {
        if (perDevice.process({ deviceId, temp: calm(level, i) })!.is_anomaly) perDeviceFlags++;
        if (i >= 100 && shared.process({ deviceId, temp: calm(level, i) })!.is_anomaly) sharedFlags++;
      }
    }
    expect(perDeviceFlags).toBe(0);
    // the same messages scored as one series look like a signal jumping between two levels
    expect(sharedFlags).toBeGreaterThan(0);
  });

  it('passes messages without a finite numeric value unchanged and counts them', () => {
    const p = pipeline(detect());
    const inputs = [{ deviceId: 'a' }, { deviceId: 'a', temp: 'hot' }, { deviceId: 'a', temp: null }];
    for (const m of inputs) expect(p.process(m)).toEqual(m);
    expect(p.counters().detect).toMatchObject({ type: 'detectAnomalies', in: 3, out: 3, undefinedResults: 3 });
  });

  it('writes the score and flag under the configured names and flags everything at threshold 0', () => {
    const p = pipeline(detect({ threshold: 0, scoreAttribute: 'score', flagAttribute: 'odd' }));
    const m = p.process({ deviceId: 'a', temp: 1, Score: 'old' })!;
    expect(Object.keys(m)).toEqual(['deviceId', 'temp', 'score', 'odd']);
    expect(m.odd).toBe(true);
  });

  it('reads a nested attribute path and a numeric device attribute', () => {
    const p = pipeline(detect({ attribute: 'sensor.temp', deviceAttribute: 'unit' }));
    const m = p.process({ unit: 7, sensor: { temp: 3 } })!;
    expect(typeof m.anomaly_score).toBe('number');
  });

  it('tracks at most maxDevices series and counts the evictions', () => {
    let evicted = 0;
    const step = compileDetectAnomaliesActivity({ name: 'd', attribute: 'v', detector: 'mad', maxDevices: 2 }, { onSeriesEvicted: () => evicted++ });
    for (const dev of ['a', 'b', 'a', 'c', 'a', 'b']) step({ deviceId: dev, v: 1 });
    // a, b; a touched; c evicts b; a touched; b evicts c
    expect(evicted).toBe(2);
  });

  it("counts the pipeline's anomalies and evicted series in the activity's counters", () => {
    const p = pipeline(detect({ maxDevices: 1, threshold: 0 }));
    for (const deviceId of ['a', 'b', 'a']) p.process({ deviceId, temp: 20 });
    expect(p.counters().detect).toMatchObject({ type: 'detectAnomalies', in: 3, out: 3, anomalies: 3, seriesEvicted: 2 });
  });

  it.each([
    ['an unknown detector', { detector: 'nope' }, /unknown detector/],
    ['invalid detector parameters', { params: { nonsense: 1 } }, /nonsense/],
    ['a threshold outside [0, 1]', { threshold: 2 }, /threshold/],
    ['an unknown member', { atribute: 'x' }, /unknown member "atribute"/],
    ['the same score and flag attribute', { scoreAttribute: 'x', flagAttribute: 'X' }, /must differ/],
    ['a bad maxDevices', { maxDevices: 0 }, /maxDevices/],
    ['a missing attribute', { attribute: undefined }, /attribute/],
  ])('refuses %s with InvalidRequestException when the pipeline is compiled', (_what, extra, message) => {
    expect(() => pipeline(detect(extra))).toThrow(expect.objectContaining({ code: 'InvalidRequestException', message: expect.stringMatching(message) }));
  });

  it('compiles on its own for RunPipelineActivity', () => {
    const step = compileSingleActivity(detect({ threshold: 0 }));
    expect(step({ deviceId: 'a', temp: 5 })).toMatchObject({ is_anomaly: true });
  });
});

describe('detectAnomalies through the analytics facade', () => {
  let dir: string;
  let a: Analytics | null = null;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iotcore-detect-'));
  });
  afterEach(async () => {
    await a?.close().catch(() => undefined);
    a = null;
    await rm(dir, { recursive: true, force: true });
  });

  it('runs RunPipelineActivity on a fresh state each call', async () => {
    a = await openAnalytics({ dataDir: dir, channel: { flushDelayMs: 1 }, database: { flushDelayMs: 1 } });
    const payloads = Array.from({ length: 10 }, (_, i) => Buffer.from(JSON.stringify({ deviceId: 'a', temp: i === 9 ? 500 : calm(20, i) })));
    const first = await a.runPipelineActivity(detect(), payloads);
    const second = await a.runPipelineActivity(detect(), payloads);
    expect(first.logResult).toBe('');
    expect(first.payloads).toHaveLength(10);
    expect(second.payloads.map(String)).toEqual(first.payloads.map(String));
  });

  it('refuses an invalid activity at CreatePipeline and stores scored rows from a valid one', async () => {
    a = await openAnalytics({ dataDir: dir, channel: { flushDelayMs: 1 }, database: { flushDelayMs: 1 } });
    await a.createChannel({ channelName: 'c' });
    await a.createDatastore({ datastoreName: 'd' });
    const def = (activity: PipelineActivity) => ({
      pipelineName: 'p',
      pipelineActivities: [{ channel: { name: 'in', channelName: 'c', next: 'detect' } }, activity, { datastore: { name: 'out', datastoreName: 'd' } }],
    });
    await expect(a.createPipeline(def(detect({ detector: 'nope' })))).rejects.toMatchObject({ code: 'InvalidRequestException', statusCode: 400 });
    expect(a.listPipelines()).toEqual([]);
    await a.createPipeline(def(detect()));
    await a.ingest('c', Array.from({ length: 5 }, (_, i) => ({ payload: Buffer.from(JSON.stringify({ deviceId: 'a', temp: i })) })));
    await a.flush();
    await a.putDataset({ datasetName: 'q', actions: [{ actionName: 'a', queryAction: { sqlQuery: 'SELECT count(*) AS n, count(anomaly_score) AS s, count(is_anomaly) AS f FROM d' } }] });
    const r = await a.runDataset('q');
    expect(r.rows).toEqual([[5, 5, 5]]);
  });
});

describe("a detector's own threshold", () => {
  it('is what a definition without a threshold uses, and every registered detector has one in (0, 1]', async () => {
    const { resolveDetector, checkThreshold } = await import('../../../../analytics/anomaly/spec.js');
    const { DETECTORS } = await import('../../../../analytics/anomaly/registry.js');
    for (const factory of Object.values(DETECTORS)) {
      expect(factory.threshold).toBeGreaterThan(0);
      expect(factory.threshold).toBeLessThanOrEqual(1);
      const resolved = resolveDetector(factory.name, undefined, 'test');
      expect(checkThreshold(undefined, 'test', resolved.threshold)).toBe(factory.threshold);
      expect(checkThreshold(0.3, 'test', resolved.threshold)).toBe(0.3);
    }
  });
});
