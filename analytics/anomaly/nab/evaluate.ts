// Scores detectors on a NAB corpus: each detector runs once over every file (a fresh instance
// per file, as it would per device metric), then the threshold sweep runs per profile.

import { performance } from 'node:perf_hooks';
import type { DetectorFactory, DetectorParams } from '../detector.js';
import type { Corpus } from './corpus.js';
import { prepareSweep, sweep, type SweepResult } from './sweep.js';

export interface DetectorEvaluation {
  readonly detector: string;
  /** profile name → result, in the corpus's profile order */
  readonly profiles: Readonly<Record<string, SweepResult>>;
  readonly points: number;
  /** points per second of update() calls alone (single thread), parsing and scoring excluded */
  readonly pointsPerSecond: number;
}

/** Runs one detector over each series of the corpus; returns its scores per file and the time spent in update(). */
export function runDetector(corpus: Corpus, factory: DetectorFactory, params?: DetectorParams): { scores: Float64Array[]; ms: number; points: number } {
  let ms = 0;
  let points = 0;
  const scores = corpus.files.map((f) => {
    const detector = factory.create(params);
    const { values, timestamps } = f.series;
    const out = new Float64Array(values.length);
    const t0 = performance.now();
    for (let i = 0; i < values.length; i++) out[i] = detector.update(values[i], timestamps[i]);
    ms += performance.now() - t0;
    points += values.length;
    return out;
  });
  return { scores, ms, points };
}

export function evaluateDetector(corpus: Corpus, factory: DetectorFactory, params?: DetectorParams): DetectorEvaluation {
  const run = runDetector(corpus, factory, params);
  const input = prepareSweep(corpus.files, run.scores);
  const profiles: Record<string, SweepResult> = {};
  for (const [name, profile] of Object.entries(corpus.profiles)) profiles[name] = sweep(corpus.files, input, profile);
  return {
    detector: factory.name,
    profiles,
    points: run.points,
    pointsPerSecond: run.ms > 0 ? (run.points * 1000) / run.ms : Infinity,
  };
}

/** A plain-text table: one row per detector, one column per profile, then points/s. */
export function formatTable(rows: readonly DetectorEvaluation[], profileNames: readonly string[]): string {
  const header = ['detector', ...profileNames, 'points/s'];
  const body = rows.map((r) => [
    r.detector,
    ...profileNames.map((p) => r.profiles[p].normalised.toFixed(1)),
    Number.isFinite(r.pointsPerSecond) ? Math.round(r.pointsPerSecond).toLocaleString('en-US') : '-',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
  const line = (cells: string[]): string => `| ${cells.map((x, c) => (c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c]))).join(' | ')} |`;
  return [line(header), `| ${widths.map((w, c) => (c === 0 ? '-'.repeat(w) : '-'.repeat(w - 1) + ':')).join(' | ')} |`, ...body.map(line)].join('\n');
}
