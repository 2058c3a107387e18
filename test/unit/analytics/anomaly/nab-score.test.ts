// The NAB scorer against small cases computed by hand from the method in ../shared/nab/README.md,
// the corpus loader on real files in a temp dir, and the threshold sweep's normalisation.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCorpus, type Corpus } from '../../../../analytics/anomaly/nab/corpus.js';
import { labelFile, probationLength, scaledSigmoid, scoreFile, type CostProfile } from '../../../../analytics/anomaly/nab/score.js';
import { prepareSweep, sweep } from '../../../../analytics/anomaly/nab/sweep.js';

const STANDARD: CostProfile = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };
const LOW_FN: CostProfile = { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 };
/** 2·sigmoid(5) − 1, the value of a detection at a window's first point */
const MAX_TP = 2 / (1 + Math.exp(-5)) - 1;

/** Scores of 1 at the given rows, 0 elsewhere. */
function detections(rows: number, at: number[]): Float64Array {
  const s = new Float64Array(rows);
  for (const i of at) s[i] = 1;
  return s;
}

// 100 rows: probation is the first 15; one window of width 10 at rows 50…59.
const labels = labelFile(100, [[50, 59]]);

describe('NAB scoring of one file', () => {
  it('has a probation of 15% of the rows, at most 750', () => {
    expect(probationLength(100)).toBe(15);
    expect(probationLength(4033)).toBe(604);
    expect(probationLength(22695)).toBe(750);
  });

  it('gives a detection at the window\'s first row the full true-positive weight', () => {
    expect(scoreFile(detections(100, [50]), labels, STANDARD, 0.5).score).toBeCloseTo(1, 12);
  });

  it('gives a late detection less than an early one, and the last row about a quarter', () => {
    const early = scoreFile(detections(100, [52]), labels, STANDARD, 0.5).score;
    const late = scoreFile(detections(100, [59]), labels, STANDARD, 0.5).score;
    // row 59: relative position −1/10 → 2·sigmoid(0.5) − 1, divided by MAX_TP
    expect(late).toBeCloseTo((2 / (1 + Math.exp(-0.5)) - 1) / MAX_TP, 12);
    // row 52: relative position −8/10 → 2·sigmoid(4) − 1
    expect(early).toBeCloseTo((2 / (1 + Math.exp(-4)) - 1) / MAX_TP, 12);
    expect(early).toBeGreaterThan(late);
  });

  it('counts only the earliest detection in a window', () => {
    expect(scoreFile(detections(100, [50, 55, 59]), labels, STANDARD, 0.5)).toMatchObject({ tp: 1, fp: 0 });
    expect(scoreFile(detections(100, [50, 55, 59]), labels, STANDARD, 0.5).score).toBeCloseTo(1, 12);
  });

  it('charges a false positive before any window the full fpWeight, and a missed window fnWeight', () => {
    const r = scoreFile(detections(100, [20]), labels, STANDARD, 0.5);
    expect(r).toMatchObject({ tp: 0, fn: 1, fp: 1 });
    expect(r.score).toBeCloseTo(-0.11 - 1, 12);
    expect(scoreFile(detections(100, []), labels, LOW_FN, 0.5).score).toBe(-2);
  });

  it('charges a false positive just after a window less than the full weight', () => {
    // row 64: 5 rows past the window's last row, window width 10 → position 5/9
    const r = scoreFile(detections(100, [50, 64]), labels, STANDARD, 0.5);
    expect(r.score).toBeCloseTo(1 + 0.11 * (2 / (1 + Math.exp(25 / 9)) - 1), 12);
    expect(scaledSigmoid(3)).toBe(-1);
    // 27 rows after (position 3): the full weight again
    expect(scoreFile(detections(100, [50, 86]), labels, STANDARD, 0.5).score).toBeCloseTo(1 - 0.11, 12);
  });

  it('ignores detections and windows inside the probation period', () => {
    expect(scoreFile(detections(100, [3, 10, 14, 50]), labels, STANDARD, 0.5).score).toBeCloseTo(1, 12);
    const early = labelFile(100, [[5, 9]]);
    expect(early.scorableWindows).toBe(0);
    expect(scoreFile(detections(100, []), early, STANDARD, 0.5).score).toBe(0);
  });

  it('treats a point as a detection when its score is at least the threshold', () => {
    const s = new Float64Array(100);
    s[50] = 0.7;
    expect(scoreFile(s, labels, STANDARD, 0.7).tp).toBe(1);
    expect(scoreFile(s, labels, STANDARD, 0.70001).tp).toBe(0);
  });
});

describe('the corpus and the threshold sweep', () => {
  let dir: string;
  let corpus: Corpus;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nab-'));
    await mkdir(join(dir, 'data', 'cat'), { recursive: true });
    const rows = (n: number): string =>
      'timestamp,value\n' + Array.from({ length: n }, (_, i) => `${new Date(Date.UTC(2014, 0, 1, 0, 5 * i)).toISOString().slice(0, 19).replace('T', ' ')},${i % 7}`).join('\n') + '\n';
    await writeFile(join(dir, 'data', 'cat', 'a.csv'), rows(100));
    await writeFile(join(dir, 'data', 'cat', 'b.csv'), rows(200));
    await writeFile(join(dir, 'windows.json'), JSON.stringify({
      // rows 50…59 (5-minute steps from midnight) and rows 120…139
      'cat/a.csv': [['2014-01-01 04:10:00.000000', '2014-01-01 04:55:00.000000']],
      'cat/b.csv': [['2014-01-01 10:00:00.000000', '2014-01-01 11:35:00.000000']],
    }));
    await writeFile(join(dir, 'profiles.json'), JSON.stringify({
      standard: { CostMatrix: { tpWeight: 1, fnWeight: 1, fpWeight: 0.11, tnWeight: 1 } },
      reward_low_FN_rate: { CostMatrix: { tpWeight: 1, fnWeight: 2, fpWeight: 0.11, tnWeight: 1 } },
    }));
    corpus = await loadCorpus(dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('maps window timestamps to the rows they cover', () => {
    expect(corpus.files.map((f) => [f.name, f.windows])).toEqual([['cat/a.csv', [[50, 59]]], ['cat/b.csv', [[120, 139]]]]);
    expect(Object.keys(corpus.profiles)).toEqual(['standard', 'reward_low_FN_rate']);
  });

  it('normalises a detector that never fires to 0 and a perfect one to 100', () => {
    const none = prepareSweep(corpus.files, corpus.files.map((f) => new Float64Array(f.series.values.length)));
    const perfect = prepareSweep(corpus.files, [detections(100, [50]), detections(200, [120])]);
    for (const profile of Object.values(corpus.profiles)) {
      expect(sweep(corpus.files, none, profile).normalised).toBe(0);
      const p = sweep(corpus.files, perfect, profile);
      expect(p.normalised).toBeCloseTo(100, 10);
      expect(p.threshold).toBe(1);
    }
  });

  it('picks the threshold with the best corpus total and reports that total', () => {
    // a: 0.9 at the window start, 0.8 false positives at 20 and 30; b: 0.6 late in its window
    const a = new Float64Array(100);
    a[50] = 0.9;
    a[20] = 0.8;
    a[30] = 0.8;
    const b = new Float64Array(200);
    b[138] = 0.6;
    const input = prepareSweep(corpus.files, [a, b]);
    const r = sweep(corpus.files, input, STANDARD);
    const at = (t: number): number =>
      scoreFile(a, corpus.files[0].labels, STANDARD, t).score + scoreFile(b, corpus.files[1].labels, STANDARD, t).score;
    // candidates: nothing (−2), ≥0.9 (1 − 1), ≥0.8 (1 − 0.22 − 1), ≥0.6 (… + the late hit), ≥0
    const best = Math.max(-2, at(0.9), at(0.8), at(0.6), at(0));
    expect(r.raw).toBeCloseTo(best, 12);
    expect(at(r.threshold)).toBeCloseTo(best, 12);
    expect(r.normalised).toBeCloseTo((100 * (best + 2)) / 4, 10);
  });
});
