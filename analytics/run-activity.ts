// RunPipelineActivity: one transform activity over raw payloads, nothing stored.
import type { PipelineActivity } from './types.js';
import { compileSingleActivity, compileSingleBatchActivity, decodePayload } from './pipelines/index.js';
import type { EnrichLookups, LambdaHost } from './pipelines/index.js';
import { AnalyticsError } from './errors.js';
import type { RunPipelineActivityResult } from './facade-types.js';

export interface RunActivityDeps {
  /** the device registry and shadows the enrich activities read */
  enrich?: EnrichLookups;
  lambdas: LambdaHost;
}

export async function runPipelineActivity(activity: PipelineActivity, payloads: Buffer[], deps: RunActivityDeps): Promise<RunPipelineActivityResult> {
  if (!Array.isArray(payloads) || payloads.length < 1 || payloads.length > 10) {
    throw new AnalyticsError('InvalidRequestException', 'payloads must hold 1..10 entries');
  }
  if (activity?.lambda !== undefined) return runLambdaActivity(activity, payloads, deps.lambdas);
  const step = compileSingleActivity(activity, { enrich: deps.enrich });
  const out: Buffer[] = [];
  const log: string[] = [];
  payloads.forEach((p, i) => {
    const m = decodePayload(p);
    if (m === null) {
      log.push(`payload ${i}: not a JSON object, dropped`);
      return;
    }
    try {
      const r = step(m);
      if (r !== null) out.push(Buffer.from(JSON.stringify(r)));
    } catch (e) {
      log.push(`payload ${i}: ${(e as Error).message}`);
    }
  });
  return { payloads: out, logResult: log.join('\n') };
}

/** A lambda gets every payload (a non-JSON one as base64 text) and its result is shown whole;
 * a failed invocation is the logResult, with no payloads. */
async function runLambdaActivity(activity: PipelineActivity, payloads: Buffer[], lambdas: LambdaHost): Promise<RunPipelineActivityResult> {
  const run = compileSingleBatchActivity(activity, { lambda: lambdas });
  let result: unknown[];
  try {
    result = await run(payloads.map((p) => decodePayload(p) ?? p.toString('base64')));
  } catch (e) {
    return { payloads: [], logResult: (e as Error).message };
  }
  const log: string[] = [];
  result.forEach((r, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) log.push(`result ${i}: not a JSON object, a pipeline drops it`);
  });
  return { payloads: result.map((r) => Buffer.from(JSON.stringify(r))), logResult: log.join('\n') };
}
