// What every streaming anomaly detector must satisfy (analytics/anomaly/detector.ts), as shared
// jest tests, and the deterministic series its test files score.
import type { DetectorFactory } from '../../analytics/anomaly/detector.js';
import { AnalyticsError } from '../../analytics/errors.js';

export const STEP = 60_000;

/** A daily-ish sine with deterministic noise: what a detector should find familiar. */
export function normalSeries(n: number, seed = 7): number[] {
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: n }, (_, i) => 50 + 10 * Math.sin((2 * Math.PI * i) / 288) + (rand() - 0.5) * 2);
}

/** Scores `values` with a fresh detector, one point per STEP. */
export function scoreAll(factory: DetectorFactory, values: number[], params?: Record<string, unknown>): number[] {
  const d = factory.create(params);
  return values.map((v, i) => d.update(v, i * STEP));
}

/** Registers the contract's tests: scores in [0, 1], non-finite values score 0, no look-ahead. */
export function detectorContractTests(factory: DetectorFactory): void {
  test('every score lies in [0, 1], and NaN or infinite values score 0', () => {
    const values = normalSeries(5000);
    values[3000] = 1e9;
    values[3100] = NaN;
    values[3200] = -Infinity;
    const scores = scoreAll(factory, values);
    for (const s of scores) expect(s >= 0 && s <= 1).toBe(true);
    expect(scores[3100]).toBe(0);
    expect(scores[3200]).toBe(0);
  });

  test('a score depends only on the points before it (no look-ahead)', () => {
    const values = normalSeries(4000);
    values[2500] += 40;
    const full = scoreAll(factory, values);
    for (const cut of [100, 2500, 3333]) {
      expect(scoreAll(factory, values.slice(0, cut))).toEqual(full.slice(0, cut));
    }
  });
}

/** Registers one test per case: `create(params)` throws InvalidRequestException naming the parameter. */
export function refusesInvalidParameters(factory: DetectorFactory, cases: [Record<string, unknown>, string][]): void {
  test.each(cases)('invalid parameters %j are refused with InvalidRequestException naming %s', (params, name) => {
    let caught: unknown;
    try {
      factory.create(params);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AnalyticsError);
    expect((caught as AnalyticsError).code).toBe('InvalidRequestException');
    expect((caught as AnalyticsError).message).toContain(name);
  });
}
