// Runs the shared IoT Analytics conformance vectors through the compiled pipeline code.
// Vectors of kinds we do not implement yet are listed in NOT_YET_SUPPORTED and asserted to still
// fail: when one starts passing, move it out of the list (a ratchet).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import type { PipelineActivity, PipelineMessage } from '../../../analytics/index.js';
import { compilePipeline, compileSingleActivity, duplicateFieldNames, isValidFieldName } from '../../../analytics/index.js';

interface Vector {
  id: string;
  kind: string;
  activity: unknown;
  input: unknown[];
  expect: unknown[];
  expectDecoded?: string[];
  expectLogResult?: string;
  expectAt?: string;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const vectorsFile = resolve(repoRoot, '../shared/vectors/iot-analytics.json');
const available = existsSync(vectorsFile);
const vectors: Vector[] = available ? (JSON.parse(readFileSync(vectorsFile, 'utf8')) as { vectors: Vector[] }).vectors : [];

/** Vectors whose feature is not implemented yet (lambda activity, dataset features). */
const NOT_YET_SUPPORTED = [
  'lambda-doc-example1-enrich',
  'dataset-iotevents-delivery-rows',
  'dataset-retention-v[none]-r[none]',
  'dataset-retention-v[unlimited]-r[none]',
  'dataset-retention-v[unlimited]-r[unlimited]',
  'dataset-retention-v[unlimited]-r[Xdays]',
  'dataset-retention-v[maxVersionsY]-r[none]',
  'dataset-retention-v[maxVersionsY]-r[unlimited]',
];

/** Numbers compare by value (2 == 2.0); key order must match too (new attributes appended). */
function sameJson(actual: unknown, expected: unknown): boolean {
  if (typeof expected === 'number') return typeof actual === 'number' && actual === expected;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => sameJson(actual[i], e));
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return false;
    const ek = Object.keys(expected);
    const ak = Object.keys(actual);
    return ek.length === ak.length && ek.every((k, i) => ak[i] === k && sameJson((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]));
  }
  return actual === expected;
}

/** Runs one vector; returns the actual output, or throws when the feature is missing. */
function run(v: Vector): unknown[] {
  switch (v.kind) {
    case 'activity':
    case 'mathExpression': {
      const step = compileSingleActivity(v.activity as PipelineActivity);
      return (v.input as PipelineMessage[]).map((m) => step(m)).filter((m) => m !== null);
    }
    case 'pipeline': {
      const p = compilePipeline({ pipelineName: 'vector', pipelineActivities: (v.activity as { pipeline: PipelineActivity[] }).pipeline });
      return (v.input as PipelineMessage[]).map((m) => p.process(m)).filter((m) => m !== null);
    }
    case 'api:RunPipelineActivity': {
      const step = compileSingleActivity(v.activity as PipelineActivity);
      return (v.input as string[]).flatMap((raw) => {
        const out = step(JSON.parse(raw) as PipelineMessage);
        return out === null ? [] : [Buffer.from(JSON.stringify(out)).toString('base64')];
      });
    }
    case 'payloadFieldName':
      return (v.input as string[]).map((n) => isValidFieldName(n));
    case 'payloadFieldNameDuplicate':
      return (v.input as PipelineMessage[]).map((m) => duplicateFieldNames(m).length > 0);
    default:
      throw new Error(`vector kind ${v.kind} is not supported`);
  }
}

function passes(v: Vector): boolean {
  try {
    return sameJson(run(v), v.expect);
  } catch {
    return false;
  }
}

(available ? describe : describe.skip)(`IoT Analytics conformance vectors (${available ? vectorsFile : 'missing: ../shared/vectors/iot-analytics.json not found, skipped'})`, () => {
  const supported = vectors.filter((v) => !NOT_YET_SUPPORTED.includes(v.id));
  const pending = vectors.filter((v) => NOT_YET_SUPPORTED.includes(v.id));

  it.each(supported.map((v) => [v.id, v] as const))('vector %s produces the expected output', (_id, v) => {
    expect(run(v)).toEqual(v.expect);
    expect(sameJson(run(v), v.expect)).toBe(true);
  });

  it.each(pending.map((v) => [v.id, v] as const))('not-yet-supported vector %s does not pass yet (move it out of the list once it does)', (_id, v) => {
    expect(passes(v)).toBe(false);
  });

  it('lists only vector ids that exist in the file', () => {
    const ids = new Set(vectors.map((v) => v.id));
    expect(NOT_YET_SUPPORTED.filter((id) => !ids.has(id))).toEqual([]);
  });

  it('reports how many vectors pass', () => {
    const passing = vectors.filter(passes).length;
    // eslint-disable-next-line no-console
    console.log(`iot-analytics vectors: ${passing}/${vectors.length} pass, ${pending.length} not yet supported`);
    expect(passing).toBe(supported.length);
  });
});
