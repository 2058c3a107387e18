// The logic of `npm run detect` and `npm run eval:nab`, importable so tests and other tools can
// call it; the entry files only pass process.argv and set the exit code. Exit codes: 0 done,
// 2 bad usage or input (unknown detector or flag, missing file, bad CSV line), with one message.

import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isAnalyticsError } from '../../errors.js';
import type { DetectorParams } from '../detector.js';
import { loadCorpus } from '../nab/corpus.js';
import { evaluateDetector, formatTable } from '../nab/evaluate.js';
import { parseSeriesCsv } from '../nab/series.js';
import { DEFAULT_DETECTOR_NAME, DETECTORS, detectorFactory } from '../registry.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

class UsageError extends Error {}

function parseParams(pairs: readonly string[] | undefined): DetectorParams {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param expects k=v, got ${JSON.stringify(pair)}`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function detectorList(): string {
  return Object.values(DETECTORS).map((d) => `  ${d.name.padEnd(10)} ${d.description}`).join('\n');
}

const DETECT_USAGE = `usage: npm run detect -- --detector NAME --input FILE.csv --output OUT.csv [--param k=v ...]
reads timestamp,value rows and writes timestamp,value,anomaly_score (one row per input row, in order)
detectors (default ${DEFAULT_DETECTOR_NAME}):
`;

const EVAL_USAGE = `usage: npm run eval:nab -- --data DIR [--detector NAME ...] [--param k=v ...]
scores detectors (default: all) with the NAB method on DIR (data/, windows.json, profiles.json);
--param applies to every detector named
detectors:
`;

/** Runs the command body; maps usage and coded input errors to exit code 2 with one message. */
async function guarded(io: Io, name: string, body: () => Promise<void>): Promise<number> {
  try {
    await body();
    return 0;
  } catch (e) {
    if (e instanceof UsageError || isAnalyticsError(e) || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${name}: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
}

export function runDetect(argv: readonly string[], io: Io): Promise<number> {
  return guarded(io, 'detect', async () => {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        detector: { type: 'string', default: DEFAULT_DETECTOR_NAME },
        input: { type: 'string' },
        output: { type: 'string' },
        param: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.out(DETECT_USAGE + detectorList() + '\n');
      return;
    }
    if (values.input === undefined || values.output === undefined) throw new UsageError('--input and --output are required');
    const factory = detectorFactory(values.detector);
    const detector = factory.create(parseParams(values.param));
    let text: string;
    try {
      text = await readFile(values.input, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${values.input}: ${(e as Error).message}`);
    }
    const series = parseSeriesCsv(text, values.input);
    const lines = ['timestamp,value,anomaly_score'];
    for (let i = 0; i < series.values.length; i++) {
      const score = detector.update(series.values[i], series.timestamps[i]);
      lines.push(`${series.rawTimestamps[i]},${series.rawValues[i]},${score}`);
    }
    try {
      await writeFile(values.output, lines.join('\n') + '\n');
    } catch (e) {
      throw new UsageError(`cannot write ${values.output}: ${(e as Error).message}`);
    }
  });
}

export function runEvalNab(argv: readonly string[], io: Io): Promise<number> {
  return guarded(io, 'eval:nab', async () => {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        data: { type: 'string' },
        detector: { type: 'string', multiple: true },
        param: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.out(EVAL_USAGE + detectorList() + '\n');
      return;
    }
    if (values.data === undefined) throw new UsageError('--data DIR is required (e.g. --data ../shared/nab)');
    const names = values.detector ?? Object.keys(DETECTORS);
    const factories = names.map(detectorFactory);
    const params = parseParams(values.param);
    // validate parameters before the corpus is read, so a typo fails at once
    for (const f of factories) f.create(params);
    const corpus = await loadCorpus(values.data);
    const points = corpus.files.reduce((n, f) => n + f.series.values.length, 0);
    const windows = corpus.files.reduce((n, f) => n + f.windows.length, 0);
    const rows = factories.map((f) => evaluateDetector(corpus, f, params));
    const profileNames = Object.keys(corpus.profiles);
    io.out(`NAB scores (0 = never fires, 100 = perfect) on ${corpus.files.length} files, ${points} points, ${windows} windows\n`);
    io.out(formatTable(rows, profileNames) + '\n');
    io.out(`thresholds: ${rows.map((r) => `${r.detector} ${profileNames.map((p) => r.profiles[p].threshold.toPrecision(6)).join('/')}`).join('; ')}\n`);
  });
}
