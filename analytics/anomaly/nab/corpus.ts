// Loading a NAB corpus directory: data/<category>/<name>.csv, windows.json (labelled windows per
// file) and profiles.json (cost weights per profile). Files are those windows.json lists.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidRequest } from '../../errors.js';
import type { CostProfile, FileLabels, WindowSpan } from './score.js';
import { labelFile } from './score.js';
import { parseNabTimestamp, parseSeriesCsv, type Series } from './series.js';

export interface CorpusFile {
  /** e.g. `realKnownCause/nyc_taxi.csv` */
  readonly name: string;
  readonly series: Series;
  readonly windows: readonly WindowSpan[];
  readonly labels: FileLabels;
}

export interface Corpus {
  readonly files: readonly CorpusFile[];
  /** profile name → weights, in profiles.json order */
  readonly profiles: Readonly<Record<string, CostProfile>>;
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw invalidRequest(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalidRequest(`${path}: not JSON (${(e as Error).message})`);
  }
}

/** Window [start, end] timestamps → inclusive row indices (first row ≥ start, last row ≤ end). */
export function windowSpans(timestamps: Float64Array, windows: readonly (readonly [string, string])[], source: string): WindowSpan[] {
  return windows.map(([start, end]) => {
    const a = parseNabTimestamp(start);
    const b = parseNabTimestamp(end);
    if (Number.isNaN(a) || Number.isNaN(b) || b < a) {
      throw invalidRequest(`windows.json ${source}: bad window ${JSON.stringify([start, end])}`);
    }
    let first = 0;
    while (first < timestamps.length && timestamps[first] < a) first++;
    let last = first - 1;
    while (last + 1 < timestamps.length && timestamps[last + 1] <= b) last++;
    if (last < first) throw invalidRequest(`windows.json ${source}: window ${start} … ${end} holds no row`);
    return [first, last] as const;
  });
}

export function parseProfiles(json: unknown): Record<string, CostProfile> {
  const out: Record<string, CostProfile> = {};
  if (typeof json !== 'object' || json === null) throw invalidRequest('profiles.json: expected an object');
  for (const [name, body] of Object.entries(json)) {
    const m = (body as { CostMatrix?: Record<string, unknown> }).CostMatrix;
    const tp = m?.tpWeight;
    const fp = m?.fpWeight;
    const fn = m?.fnWeight;
    if (typeof tp !== 'number' || typeof fp !== 'number' || typeof fn !== 'number') {
      throw invalidRequest(`profiles.json ${name}: CostMatrix needs numeric tpWeight, fpWeight and fnWeight`);
    }
    out[name] = { tpWeight: tp, fpWeight: fp, fnWeight: fn };
  }
  return out;
}

export async function loadCorpus(dir: string): Promise<Corpus> {
  const windowsJson = await readJson(join(dir, 'windows.json'));
  const profiles = parseProfiles(await readJson(join(dir, 'profiles.json')));
  if (typeof windowsJson !== 'object' || windowsJson === null) throw invalidRequest('windows.json: expected an object');
  const names = Object.keys(windowsJson).sort();
  const files = await Promise.all(names.map(async (name): Promise<CorpusFile> => {
    const path = join(dir, 'data', name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw invalidRequest(`cannot read ${path}: ${(e as Error).message}`);
    }
    const series = parseSeriesCsv(text, path);
    const windows = windowSpans(series.timestamps, (windowsJson as Record<string, [string, string][]>)[name], name);
    return { name, series, windows, labels: labelFile(series.values.length, windows) };
  }));
  return { files, profiles };
}
