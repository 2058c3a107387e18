// The basic detectors (gaussian, ewma, mad) keep the Detector contract: scores in [0, 1], 0
// while warming up, NaN ignored, no look-ahead, and they react to steps, spikes and noise.
import { describe, expect, it } from '@jest/globals';
import type { Detector } from '../../../../analytics/anomaly/detector.js';
import { SortedWindow } from '../../../../analytics/anomaly/detectors/mad.js';
import { DEFAULT_DETECTOR_NAME, DETECTORS, detectorFactory } from '../../../../analytics/anomaly/registry.js';
import { AnalyticsError } from '../../../../analytics/errors.js';

/** Deterministic standard-normal noise (mulberry32 + Box–Muller) so the tests never flake. */
function noise(seed: number, n: number): number[] {
  let a = seed >>> 0;
  const rand = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand()));
}

function run(d: Detector, values: readonly number[]): number[] {
  return values.map((v, i) => d.update(v, 1_400_000_000_000 + i * 300_000));
}

const NAMES = ['gaussian', 'ewma', 'mad'] as const;
const SMALL = { gaussian: { window: 300, warmup: 50 }, ewma: { alpha: 0.02, warmup: 50 }, mad: { window: 301, warmup: 50 } };

describe.each(NAMES)('detector %s', (name) => {
  const make = (): Detector => detectorFactory(name).create(SMALL[name]);

  it('scores a step change far above the noise before it', () => {
    const values = [...noise(1, 400), ...noise(2, 50).map((x) => x + 12)];
    const s = run(make(), values);
    const before = Math.max(...s.slice(60, 400));
    expect(s[400]).toBeGreaterThan(0.9);
    expect(s[400]).toBeGreaterThan(before);
  });

  it('scores a single spike high', () => {
    const values = noise(3, 400);
    values[300] = 25;
    const s = run(make(), values);
    expect(s[300]).toBeGreaterThan(0.9);
    expect(s[300]).toBe(Math.max(...s));
  });

  it('scores a flat series 0 and the first noise after it high', () => {
    const values = [...new Array(200).fill(5), ...noise(4, 100).map((x) => 5 + x)];
    const s = run(make(), values);
    expect(s.slice(0, 200).every((x) => x === 0)).toBe(true);
    expect(Math.max(...s.slice(200, 210))).toBeGreaterThan(0.5);
  });

  it('scores 0 while warming up and keeps every score in [0, 1]', () => {
    const values = noise(5, 2000).map((x, i) => (i % 97 === 0 ? x * 1e6 : i % 13 === 0 ? -x * 50 : x));
    const s = run(make(), values);
    expect(s.slice(0, 50).every((x) => x === 0)).toBe(true);
    expect(s.every((x) => x >= 0 && x <= 1)).toBe(true);
  });

  it('scores NaN and infinities 0 and lets them change nothing', () => {
    const values = noise(6, 500);
    const withGaps = [...values.slice(0, 250), NaN, Infinity, -Infinity, ...values.slice(250)];
    const plain = run(make(), values);
    const gapped = run(make(), withGaps);
    expect(gapped.slice(250, 253)).toEqual([0, 0, 0]);
    expect([...gapped.slice(0, 250), ...gapped.slice(253)]).toEqual(plain);
  });

  it('never looks ahead: scoring a prefix gives the full run\'s prefix', () => {
    const values = [...noise(7, 600), 40, ...noise(8, 300)];
    const full = run(make(), values);
    expect(run(make(), values.slice(0, 450))).toEqual(full.slice(0, 450));
    expect(run(make(), values.slice(0, 601))).toEqual(full.slice(0, 601));
  });

  it('refuses unknown and out-of-range parameters naming them', () => {
    const f = detectorFactory(name);
    expect(() => f.create({ nope: 1 })).toThrow(/unknown parameter nope/);
    const bad = name === 'ewma' ? { alpha: 0 } : { window: 1 };
    const param = Object.keys(bad)[0];
    let caught: unknown;
    try {
      f.create(bad);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AnalyticsError);
    expect((caught as AnalyticsError).code).toBe('InvalidRequestException');
    expect((caught as AnalyticsError).message).toContain(`parameter ${param}`);
    expect(() => f.create({ warmup: 'ten' })).toThrow(/parameter warmup/);
  });

  it('accepts numeric strings as CLI flags give them', () => {
    expect(() => detectorFactory(name).create({ warmup: '20' })).not.toThrow();
  });
});

describe('the registry', () => {
  it('holds the three basic detectors and a default that is one of them', () => {
    for (const n of NAMES) expect(DETECTORS[n].name).toBe(n);
    expect(Object.keys(DETECTORS)).toContain(DEFAULT_DETECTOR_NAME);
  });

  it('refuses an unknown detector listing the known names', () => {
    expect(() => detectorFactory('nope')).toThrow(/unknown detector "nope" \(known: .*gaussian.*ewma.*mad/);
    expect(() => detectorFactory('toString')).toThrow(AnalyticsError);
  });
});

describe('the MAD sorted window', () => {
  it('gives the same median and MAD as sorting the window, at every size and with ties', () => {
    const w = new SortedWindow(8);
    const seen: number[] = [];
    const values = noise(9, 500).map((x) => Math.round(x * 3) + 0); // + 0: no -0 to trip toBe
    for (const x of values) {
      w.push(x);
      seen.push(x);
      const win = seen.slice(-8).sort((a, b) => a - b);
      const mid = (a: number[]): number => (a.length % 2 ? a[a.length >> 1] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2);
      const med = mid(win);
      expect(w.median()).toBe(med);
      expect(w.mad()).toBe(mid(win.map((v) => Math.abs(v - med)).sort((a, b) => a - b)));
    }
  });
});
