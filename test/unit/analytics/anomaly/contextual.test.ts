import { contextualDetector } from '../../../../analytics/anomaly/detectors/contextual.js';
import { detectorContractTests, refusesInvalidParameters, normalSeries, scoreAll as scoreWith, STEP } from '../../../helpers/detector-contract.js';


const scoreAll = (values: number[], params?: Record<string, unknown>): number[] => scoreWith(contextualDetector, values, params);

describe('contextual detector', () => {
  detectorContractTests(contextualDetector);

  test('its state does not grow with the stream: same typed arrays, same sizes after 200,000 points', () => {
    const d = contextualDetector.create({ tableSize: 1024, order: 4 });
    const arrays = () => Object.values(d as unknown as Record<string, unknown>).filter(ArrayBuffer.isView) as Float32Array[];
    d.update(1, 0);
    const before = arrays().map((a) => [a, a.length] as const);
    const values = normalSeries(200_000);
    for (let i = 0; i < values.length; i++) d.update(values[i], i * STEP);
    const after = arrays();
    expect(after).toHaveLength(before.length);
    before.forEach(([a, len], i) => {
      expect(after[i]).toBe(a);
      expect(after[i].length).toBe(len);
    });
    expect(Object.keys(d as object).length).toBeLessThan(20);
  });

  test('a spike in a familiar pattern scores at least the anomaly threshold, the pattern around it does not', () => {
    const values = normalSeries(6000);
    values[5000] += 60;
    const scores = scoreAll(values);
    expect(scores[5000]).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...scores.slice(3000, 4990))).toBeLessThan(0.5);
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

  refusesInvalidParameters(contextualDetector, [
    [{ order: 0 }, 'order'],
    [{ tableSize: 1000 }, 'tableSize'],
    [{ levelWidth: -1 }, 'levelWidth'],
    [{ alpha: 2 }, 'alpha'],
    [{ restPeriod: 1.5 }, 'restPeriod'],
    [{ bogus: 1 }, 'bogus'],
  ]);
});
