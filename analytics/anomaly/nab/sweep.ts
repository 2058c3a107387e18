// The NAB threshold optimisation: one threshold for the whole corpus per profile, the one with
// the best total score. Points are sorted by anomaly score once per detector; each profile is
// then one pass down that order, lowering the threshold to each distinct score in turn and
// keeping the running total (false-positive sum plus each window's best detection or its miss).

import type { CorpusFile } from './corpus.js';
import { normalise, nullFileScore, OUTSIDE, perfectFileScore, PROBATION, weightedValue, type CostProfile } from './score.js';

/** A detector's scores for every counted point of a corpus, in descending score order. */
export interface SweepInput {
  readonly scores: Float64Array;
  /** corpus-wide window id per point, OUTSIDE for the rest */
  readonly window: Int32Array;
  /** each point's file and row, to read its weighted value per profile */
  readonly fileIndex: Int32Array;
  readonly row: Int32Array;
  readonly windowCount: number;
}

export function prepareSweep(files: readonly CorpusFile[], scores: readonly ArrayLike<number>[]): SweepInput {
  let n = 0;
  for (const f of files) for (let i = 0; i < f.labels.window.length; i++) if (f.labels.window[i] !== PROBATION) n++;
  const s = new Float64Array(n);
  const w = new Int32Array(n);
  const fi = new Int32Array(n);
  const r = new Int32Array(n);
  let k = 0;
  let windowBase = 0;
  files.forEach((f, fIdx) => {
    for (let i = 0; i < f.labels.window.length; i++) {
      const lw = f.labels.window[i];
      if (lw === PROBATION) continue;
      const score = scores[fIdx][i];
      // a score outside [0, 1] or NaN is the detector's bug; count it as "never fires" (0)
      s[k] = score >= 0 && score <= 1 ? score : 0;
      w[k] = lw === OUTSIDE ? OUTSIDE : windowBase + lw;
      fi[k] = fIdx;
      r[k] = i;
      k++;
    }
    windowBase += f.windows.length;
  });
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => s[b] - s[a]);
  const pick = <T extends Float64Array | Int32Array>(src: T, dst: T): T => {
    for (let i = 0; i < n; i++) dst[i] = src[order[i]];
    return dst;
  };
  return {
    scores: pick(s, new Float64Array(n)),
    window: pick(w, new Int32Array(n)),
    fileIndex: pick(fi, new Int32Array(n)),
    row: pick(r, new Int32Array(n)),
    windowCount: windowBase,
  };
}

export interface SweepResult {
  /** detections are points scoring ≥ threshold (1.1: nothing fires) */
  readonly threshold: number;
  readonly raw: number;
  readonly nullScore: number;
  readonly perfect: number;
  /** 0 = never fires, 100 = perfect */
  readonly normalised: number;
}

/** Best threshold and score for one profile; ties keep the highest threshold. */
export function sweep(files: readonly CorpusFile[], input: SweepInput, profile: CostProfile): SweepResult {
  let nullScore = 0;
  let perfect = 0;
  for (const f of files) {
    nullScore += nullFileScore(f.labels, profile);
    perfect += perfectFileScore(f.labels, profile);
  }
  // Windows with no counted point are absent from `input`; they cost nothing either way.
  const best = new Float64Array(input.windowCount).fill(-profile.fnWeight);
  let total = nullScore;
  let bestTotal = total;
  let bestThreshold = 1.1;
  const n = input.scores.length;
  for (let k = 0; k < n; k++) {
    const w = input.window[k];
    const f = files[input.fileIndex[k]];
    const v = weightedValue(f.labels, input.row[k], profile);
    if (w === OUTSIDE) {
      total += v;
    } else if (v > best[w]) {
      total += v - best[w];
      best[w] = v;
    }
    // the total is complete for threshold = this score once every point with it is in
    const t = input.scores[k];
    if ((k + 1 === n || input.scores[k + 1] !== t) && total > bestTotal) {
      bestTotal = total;
      bestThreshold = t;
    }
  }
  return { threshold: bestThreshold, raw: bestTotal, nullScore, perfect, normalised: normalise(bestTotal, nullScore, perfect) };
}
