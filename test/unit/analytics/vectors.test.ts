// Runs the shared IoT Analytics conformance vectors through the compiled pipeline code.
// Vectors of kinds we do not implement yet are listed in NOT_YET_SUPPORTED and asserted to still
// fail: when one starts passing, move it out of the list (a ratchet).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import type { PipelineActivity, PipelineMessage } from '../../../analytics/index.js';
import { compilePipeline, compileSingleActivity, duplicateFieldNames, isValidFieldName } from '../../../analytics/index.js';
import { contentRows } from '../../../analytics/datasets/content-rows.js';
import { checkRetentionVector, type RetentionVectorInput } from './datasets/retention-vector.js';
import { compileSingleBatchActivity, createLambdaHost, type LambdaHost } from '../../../analytics/pipelines/index.js';

interface Vector {
  id: string;
  kind: string;
  activity: unknown;
  input: unknown[];
  expect: unknown[];
  expectDecoded?: string[];
  expectLogResult?: string;
  expectAt?: string;
  /** external state: lambdaFunctions describes each function in prose */
  context?: { lambdaFunctions?: Record<string, string> };
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const vectorsFile = resolve(repoRoot, '../shared/vectors/iot-analytics.json');
const available = existsSync(vectorsFile);
const vectors: Vector[] = available ? (JSON.parse(readFileSync(vectorsFile, 'utf8')) as { vectors: Vector[] }).vectors : [];

/** Vectors whose feature is not implemented yet or cannot run here. */
const NOT_YET_SUPPORTED: string[] = [];

/** The vectors' lambda functions (described in prose in context.lambdaFunctions) written as
 * modules for the functions directory; the vector checks our lambda activity runs them as the
 * documentation's example does. */
const LAMBDA_FUNCTIONS: Record<string, string> = {
  // AWS doc "Lambda function example 1", the same steps in JavaScript
  MyAnalyticsLambdaFunction: `export function handler(events) {
    let mapsUrl = 'N/A';
    for (const e of events) {
      if ('location' in e) mapsUrl = 'http://maps.google.com/maps?q=' + e.location.lat + ',' + e.location.lon;
      if ('temperature' in e) e.temperature_f = 9.0 / 5.0 * e.temperature + 32;
      e.maps_url = mapsUrl;
    }
    return events;
  }`,
};
let lambdaHost: LambdaHost | undefined;

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
async function run(v: Vector): Promise<unknown[]> {
  switch (v.kind) {
    case 'activity':
    case 'mathExpression': {
      if (v.context?.lambdaFunctions) return compileSingleBatchActivity(v.activity as PipelineActivity, { lambda: lambdaHost })(v.input);
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
    case 'datasetDelivery:iotEvents':
      // one IoT Events message per content row, fields as the CSV has them
      return (v.input as string[]).flatMap((csv) => contentRows(csv));
    case 'datasetVersionRetention':
      // the guide's sentence checked against what versionsToPrune keeps (see retention-vector.ts)
      return checkRetentionVector((v.input as RetentionVectorInput[])[0], (v.expect as string[])[0]);
    case 'payloadFieldNameDuplicate':
      return (v.input as PipelineMessage[]).map((m) => duplicateFieldNames(m).length > 0);
    default:
      throw new Error(`vector kind ${v.kind} is not supported`);
  }
}

async function passes(v: Vector): Promise<boolean> {
  try {
    return sameJson(await run(v), v.expect);
  } catch {
    return false;
  }
}

(available ? describe : describe.skip)(`IoT Analytics conformance vectors (${available ? vectorsFile : 'missing: ../shared/vectors/iot-analytics.json not found, skipped'})`, () => {
  const supported = vectors.filter((v) => !NOT_YET_SUPPORTED.includes(v.id));
  const pending = vectors.filter((v) => NOT_YET_SUPPORTED.includes(v.id));

  let functionsDir = '';
  beforeAll(() => {
    functionsDir = mkdtempSync(join(tmpdir(), 'iotcore-vector-functions-'));
    for (const [name, src] of Object.entries(LAMBDA_FUNCTIONS)) writeFileSync(join(functionsDir, `${name}.mjs`), src);
    lambdaHost = createLambdaHost({ functionsDir });
  });
  afterAll(async () => {
    await lambdaHost?.close();
    rmSync(functionsDir, { recursive: true, force: true });
  });

  it.each(supported.map((v) => [v.id, v] as const))('vector %s produces the expected output', async (_id, v) => {
    const out = await run(v);
    expect(out).toEqual(v.expect);
    expect(sameJson(out, v.expect)).toBe(true);
  });

  // jest refuses an empty table: the ratchet test exists only while something is pending
  if (pending.length > 0) {
    it.each(pending.map((v) => [v.id, v] as const))('not-yet-supported vector %s does not pass yet (move it out of the list once it does)', async (_id, v) => {
      expect(await passes(v)).toBe(false);
    });
  }

  it('lists only vector ids that exist in the file', () => {
    const ids = new Set(vectors.map((v) => v.id));
    expect(NOT_YET_SUPPORTED.filter((id) => !ids.has(id))).toEqual([]);
  });

  it('reports how many vectors pass', async () => {
    const passing = (await Promise.all(vectors.map(passes))).filter(Boolean).length;
    // eslint-disable-next-line no-console
    console.log(`iot-analytics vectors: ${passing}/${vectors.length} pass, ${pending.length} not yet supported`);
    expect(passing).toBe(supported.length);
  });
});
