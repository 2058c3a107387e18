import { likelihoodDetector } from '../../../../analytics/anomaly/detectors/likelihood.js';
import { DEFAULT_DETECTOR_NAME } from '../../../../analytics/anomaly/registry.js';
import { detectorContractTests, refusesInvalidParameters, normalSeries, scoreAll as scoreWith, STEP } from '../../../helpers/detector-contract.js';


/** 300 readings of a slowly wandering temperature (AR(1) noise, 0.01 °C resolution), then one +15 °C above it. */
function quietSensorWithSpike(): number[] {
  let s = 11;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  let drift = 0;
  const values = Array.from({ length: 301 }, () => {
    drift = 0.9 * drift + 0.1 * (rand() + rand() + rand() - 1.5) * 2;
    return Math.round((21 + drift) * 100) / 100;
  });
  values[300] += 15;
  return values;
}

const scoreAll = (values: number[], params?: Record<string, unknown>): number[] => scoreWith(likelihoodDetector, values, params);

/** Every typed array reachable from the detector (its own and its contextual part's). */
function typedArrays(d: object): ArrayBufferView[] {
  const out: ArrayBufferView[] = [];
  for (const v of Object.values(d as Record<string, unknown>)) {
    if (ArrayBuffer.isView(v)) out.push(v);
    else if (typeof v === 'object' && v !== null) out.push(...typedArrays(v));
  }
  return out;
}

describe('likelihood detector (the default)', () => {
  detectorContractTests(likelihoodDetector);

  test('is the default detector', () => {
    expect(DEFAULT_DETECTOR_NAME).toBe('likelihood');
  });

  test('its state does not grow with the stream: same typed arrays, same sizes, same fields after 200,000 points', () => {
    const d = likelihoodDetector.create();
    d.update(1, 0);
    const before = typedArrays(d).map((a) => [a, a.byteLength] as const);
    const keys = Object.keys(d as object).length;
    const values = normalSeries(200_000);
    for (let i = 0; i < values.length; i++) d.update(values[i], i * STEP);
    const after = typedArrays(d);
    expect(after).toHaveLength(before.length);
    before.forEach(([a, len], i) => {
      expect(after[i]).toBe(a);
      expect(after[i].byteLength).toBe(len);
    });
    expect(Object.keys(d as object).length).toBe(keys);
  });

  test('a spike in a familiar pattern scores at least the anomaly threshold, the pattern around it does not', () => {
    const values = normalSeries(6000);
    values[5000] += 60;
    const scores = scoreAll(values);
    expect(scores[5000]).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...scores.slice(3000, 4990))).toBeLessThan(0.5);
  });

  test('a single extreme point on a quiet sensor fires at its own threshold on that point, the points before it do not', () => {
    const values = quietSensorWithSpike();
    const scores = scoreAll(values);
    expect(scores[300]).toBeGreaterThanOrEqual(likelihoodDetector.threshold);
    expect(Math.max(...scores.slice(0, 300))).toBeLessThan(likelihoodDetector.threshold);
  });

  test('without the extreme-value term (zExtreme 0) the same isolated point stays below the threshold', () => {
    const values = quietSensorWithSpike();
    expect(scoreAll(values, { zExtreme: 0 })[300]).toBeLessThan(likelihoodDetector.threshold);
  });

  test('a level shift fires once near its start and then rests instead of firing on every point', () => {
    const values = normalSeries(8000).map((v, i) => (i >= 5000 ? v + 40 : v));
    const scores = scoreAll(values);
    const fired = scores.map((s, i) => (s >= 0.5 ? i : -1)).filter((i) => i >= 3000);
    expect(fired.length).toBeGreaterThan(0);
    expect(fired[0]).toBeGreaterThanOrEqual(5000);
    expect(fired[0]).toBeLessThan(5010);
    expect(fired.filter((i) => i < 5200)).toHaveLength(1);
  });

  test('nothing scores above 0 during the warmup', () => {
    const values = normalSeries(300);
    values[50] += 100;
    expect(Math.max(...scoreAll(values, { warmup: 200 }).slice(0, 200))).toBe(0);
  });

  refusesInvalidParameters(likelihoodDetector, [
    [{ alpha: 0 }, 'alpha'],
    [{ shortAlpha: 1.5 }, 'shortAlpha'],
    [{ z0: -1 }, 'z0'],
    [{ zExtreme: -1 }, 'zExtreme'],
    [{ fireScore: 0 }, 'fireScore'],
    [{ restPeriod: 1.5 }, 'restPeriod'],
    [{ warmup: 'soon' }, 'warmup'],
    [{ bogus: 1 }, 'bogus'],
  ]);
});
