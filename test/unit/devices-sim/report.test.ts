import { buildSummary, formatSummary, LatencyRecorder, percentile } from '../../../devices-sim/report.js';
import { createRandom } from '../../../devices-sim/random.js';

const counters = { devices: 4, connected: 4, sent: 1000, acknowledged: 990, errors: 1, skipped: 2, reconnects: 0 };

describe('percentile', () => {
  const oneToHundred = Float64Array.from({ length: 100 }, (_, i) => i + 1);

  it('uses the nearest rank', () => {
    expect(percentile(oneToHundred, 50)).toBe(50);
    expect(percentile(oneToHundred, 99)).toBe(99);
    expect(percentile(oneToHundred, 100)).toBe(100);
    expect(percentile(oneToHundred, 0)).toBe(1);
    expect(percentile([3, 8, 20], 50)).toBe(8);
    expect(percentile([3, 8, 20], 99)).toBe(20);
  });

  it('is null for no values', () => {
    expect(percentile([], 50)).toBeNull();
  });
});

describe('LatencyRecorder', () => {
  it('summarizes recorded latencies with p50, p90, p99, max and count', () => {
    const recorder = new LatencyRecorder(createRandom(1));
    for (let i = 1000; i >= 1; i--) recorder.record(i); // recorded out of order on purpose
    expect(recorder.summarize()).toEqual({ p50: 500, p90: 900, p99: 990, max: 1000, count: 1000 });
    expect(recorder.dropped).toBe(0);
  });

  it('stays bounded, counts what it does not keep and keeps percentiles representative', () => {
    const recorder = new LatencyRecorder(createRandom(3), 1000);
    const random = createRandom(9);
    for (let i = 0; i < 100_000; i++) recorder.record(random() * 100); // uniform 0..100 ms
    expect(recorder.dropped).toBe(99_000);
    const summary = recorder.summarize()!;
    expect(summary.count).toBe(100_000);
    expect(summary.p50).toBeGreaterThan(45);
    expect(summary.p50).toBeLessThan(55);
    expect(summary.p99).toBeGreaterThan(97);
    expect(summary.max).toBeGreaterThanOrEqual(summary.p99);
  });

  it('returns null when nothing was recorded', () => {
    expect(new LatencyRecorder(createRandom(1)).summarize()).toBeNull();
  });
});

describe('buildSummary', () => {
  it('computes the achieved rate from sent messages and duration', () => {
    const summary = buildSummary({ ...counters, qos: 0 }, 4000, null);
    expect(summary.msgPerSec).toBe(250);
    expect(summary.durationS).toBe(4);
    expect(summary.latencyMs).toBeNull();
  });

  it('reports a zero rate rather than dividing by zero when nothing ran', () => {
    expect(buildSummary({ ...counters, sent: 0, qos: 1 }, 0, null).msgPerSec).toBe(0);
  });

  it('includes PUBACK latency for QoS 1 and prints it', () => {
    const recorder = new LatencyRecorder(createRandom(1));
    [1, 2, 3, 4].forEach((ms) => recorder.record(ms));
    const summary = buildSummary({ ...counters, qos: 1 }, 1000, recorder);
    expect(summary.latencyMs).toEqual({ p50: 2, p90: 4, p99: 4, max: 4, count: 4 });
    const text = formatSummary(summary);
    expect(text).toContain('acknowledged 990');
    expect(text).toMatch(/p50 2\.00 ms, p99 4\.00 ms/);
  });

  it('survives a JSON round trip unchanged (the bench script parses it)', () => {
    const summary = buildSummary({ ...counters, qos: 0 }, 1234, null);
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
  });
});

describe('the shadow line of a plug fleet', () => {
  it('counts deltas applied and ignored and reports sent, and is absent for profiles without a shadow', () => {
    const summary = buildSummary({ ...counters, qos: 1 }, 1000, null, undefined, { reported: 12, applied: 2, ignored: 1 });
    expect(summary.shadow).toEqual({ reported: 12, applied: 2, ignored: 1 });
    expect(formatSummary(summary).split('\n').at(-1)).toBe('shadow       2 deltas applied, 1 ignored, 12 reports sent');
    expect(buildSummary({ ...counters, qos: 1 }, 1000, null)).not.toHaveProperty('shadow');
  });
});

describe('the row latency line', () => {
  const base = () => buildSummary({ ...counters, qos: 1 }, 1000, null);
  const line = (summary: ReturnType<typeof base>) => formatSummary(summary).split('\n').find((l) => l.startsWith('row latency'));

  it('prints percentiles with the rows and datastores counted, and says when rows were still coming', () => {
    const measured = { p50: 41.26, p90: 70, p99: 95.5, meanMs: 45, count: 990, datastores: ['telemetry_store'], settled: true };
    expect(line({ ...base(), rowLatencyMs: measured })).toBe('row latency  p50 41.3 ms, p99 95.5 ms (990 rows in telemetry_store, broker receipt to commit)');
    expect(line({ ...base(), rowLatencyMs: { ...measured, settled: false } })).toMatch(/, still committing when the wait ended\)$/);
  });

  it('says why there is no figure, and is absent when the measurement was turned off', () => {
    expect(line({ ...base(), rowLatencyMs: null })).toBe('row latency  not measured (/metrics could not be read)');
    const empty = { p50: null, p90: null, p99: null, meanMs: null, count: 0, datastores: ['a', 'b'], settled: true };
    expect(line({ ...base(), rowLatencyMs: empty })).toBe('row latency  no rows committed during the run (a, b)');
    expect(line(base())).toBeUndefined();
  });
});
