// NAB scoring of one file (Lavin & Ahmad, "Evaluating Real-time Anomaly Detection Algorithms —
// the Numenta Anomaly Benchmark", 2015), from the method in ../shared/nab/README.md:
// - the first 15% of the file (at most 750 points) is probation: nothing there counts;
// - a detection inside a window is worth scaledSigmoid of its relative position, scaled so the
//   window's first point is worth exactly tpWeight and its last about 0; only the best (= the
//   earliest) detection of a window counts; a window without one costs fnWeight;
// - a detection outside every window costs fpWeight × (−scaledSigmoid of its distance after the
//   previous window in window widths), i.e. the full fpWeight before the first window or 3
//   widths after one, less just after a window (a late but near detection).

export interface CostProfile {
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
}

/** A labelled window as inclusive row indices into its file. */
export type WindowSpan = readonly [first: number, last: number];

/** Label of a point outside every window. */
export const OUTSIDE = -1;
/** Label of a point in the probation period: it never counts. */
export const PROBATION = -2;

/** Per point: which window it is in (or OUTSIDE / PROBATION) and its unweighted sweep value. */
export interface FileLabels {
  readonly window: Int32Array;
  readonly unweighted: Float64Array;
  /** how many windows have at least one point after probation (the ones a detector can miss) */
  readonly scorableWindows: number;
}

export const PROBATION_PERCENT = 0.15;

export function probationLength(rows: number, percent = PROBATION_PERCENT): number {
  return Math.min(Math.floor(percent * rows), percent * 5000);
}

/** 2·sigmoid(−5x) − 1: +0.987 at x = −1 (window start), 0 at x = 0, −1 from x = 3 on. */
export function scaledSigmoid(x: number): number {
  if (x >= 3) return -1;
  return 2 / (1 + Math.exp(5 * x)) - 1;
}

/** The unweighted value of the earliest possible detection; true positives are divided by it. */
export const MAX_TP = scaledSigmoid(-1);

/** Labels a file's points once; every threshold and profile reuses them. */
export function labelFile(rows: number, windows: readonly WindowSpan[], probationPercent = PROBATION_PERCENT): FileLabels {
  const window = new Int32Array(rows).fill(OUTSIDE);
  const unweighted = new Float64Array(rows);
  const probation = probationLength(rows, probationPercent);
  let prevLast = -1;
  let prevWidth = 0;
  let w = 0;
  const seen = new Set<number>();
  for (let i = 0; i < rows; i++) {
    while (w < windows.length && windows[w][1] < i) w++;
    const span = w < windows.length && windows[w][0] <= i ? windows[w] : undefined;
    if (span !== undefined) {
      const width = span[1] - span[0] + 1;
      // −1 at the first point of the window, −1/width at its last
      unweighted[i] = scaledSigmoid(-(span[1] - i + 1) / width);
      if (i >= probation) {
        window[i] = w;
        seen.add(w);
      }
      if (i === span[1]) {
        prevLast = i;
        prevWidth = width;
      }
    } else {
      // Before any window a false positive is as far as can be; after one, its cost grows with
      // the distance in window widths. A one-point window would divide by 0: treat as far.
      const position = prevLast < 0 || prevWidth <= 1 ? 3 : (i - prevLast) / (prevWidth - 1);
      unweighted[i] = scaledSigmoid(position);
    }
    if (i < probation) window[i] = PROBATION;
  }
  return { window, unweighted, scorableWindows: seen.size };
}

/** The weighted value of a detection at point i under a profile (0 in probation). */
export function weightedValue(labels: FileLabels, i: number, profile: CostProfile): number {
  const w = labels.window[i];
  if (w === PROBATION) return 0;
  return w === OUTSIDE ? labels.unweighted[i] * profile.fpWeight : (labels.unweighted[i] * profile.tpWeight) / MAX_TP;
}

export interface FileScore {
  readonly score: number;
  /** windows detected / missed, and detections outside windows (after probation) */
  readonly tp: number;
  readonly fn: number;
  readonly fp: number;
}

/** The NAB score of one file at one threshold: a point is a detection when its score ≥ threshold. */
export function scoreFile(scores: ArrayLike<number>, labels: FileLabels, profile: CostProfile, threshold: number): FileScore {
  const best = new Map<number, number>();
  let fpSum = 0;
  let fp = 0;
  for (let i = 0; i < labels.window.length; i++) {
    const w = labels.window[i];
    if (w === PROBATION || !(scores[i] >= threshold)) continue;
    const v = weightedValue(labels, i, profile);
    if (w === OUTSIDE) {
      fpSum += v;
      fp++;
    } else {
      best.set(w, Math.max(best.get(w) ?? -Infinity, v));
    }
  }
  let windowSum = 0;
  for (const v of best.values()) windowSum += v;
  const missed = labels.scorableWindows - best.size;
  return { score: windowSum + fpSum - missed * profile.fnWeight, tp: best.size, fn: missed, fp };
}

/** What a detector that fires exactly at each window's first counted point scores. */
export function perfectFileScore(labels: FileLabels, profile: CostProfile): number {
  const best = new Map<number, number>();
  for (let i = 0; i < labels.window.length; i++) {
    const w = labels.window[i];
    if (w >= 0 && !best.has(w)) best.set(w, weightedValue(labels, i, profile));
  }
  let sum = 0;
  for (const v of best.values()) sum += v;
  return sum;
}

/** What a detector that never fires scores: every counted window missed. */
export function nullFileScore(labels: FileLabels, profile: CostProfile): number {
  return -labels.scorableWindows * profile.fnWeight;
}

/** 100 · (raw − null) / (perfect − null): 0 for never firing, 100 for perfect. */
export function normalise(raw: number, nullScore: number, perfect: number): number {
  return perfect === nullScore ? 0 : (100 * (raw - nullScore)) / (perfect - nullScore);
}
