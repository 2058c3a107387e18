// The lambda activity (spec §3.2): hands up to `batchSize` messages as one array to a user
// function and lets the array it returns replace them (it may add, drop, reshape or decode).
// Unlike every other activity it is asynchronous and works on batches, so compile.ts runs a
// pipeline that holds one through its batch path.
import type { Members } from './common.js';
import { checkMembers, checkString } from './common.js';
import type { LambdaHost } from '../lambda-host.js';
import { invalidRequest } from '../../errors.js';

const LAMBDA_NAME = /^[a-zA-Z0-9_-]+$/;

export interface LambdaActivity {
  readonly lambdaName: string;
  readonly batchSize: number;
  /** one invocation with these events; resolves with the function's result (not yet checked) */
  invoke(events: unknown[]): Promise<unknown>;
}

/**
 * `checkExists`: refuse a function whose module is missing (CreatePipeline / UpdatePipeline /
 * RunPipelineActivity). Pipelines restored at start-up skip the check so that a removed file
 * fails the invocations (counted) instead of deleting the pipeline.
 */
export function compileLambdaActivity(body: Members, host: LambdaHost | undefined, checkExists: boolean): LambdaActivity {
  checkMembers(body, 'lambda', ['name', 'lambdaName', 'batchSize', 'next']);
  const lambdaName = checkString(body, 'lambdaName', 'lambda', 1, 64);
  if (!LAMBDA_NAME.test(lambdaName)) {
    throw invalidRequest(`lambda activity "${String(body.name)}": lambdaName may hold only letters, digits, '_' and '-'`);
  }
  const batchSize = body.batchSize;
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) {
    throw invalidRequest(`lambda activity "${String(body.name)}": batchSize must be an integer 1..1000`);
  }
  if (!host) throw invalidRequest(`lambda activity "${String(body.name)}": this server runs no lambda functions`);
  if (checkExists && !host.exists(lambdaName)) {
    throw invalidRequest(
      `lambda activity "${String(body.name)}": function "${lambdaName}" not found; put a module exporting handler(events) at ${host.fileOf(lambdaName)}`,
    );
  }
  return { lambdaName, batchSize, invoke: (events) => host.invoke(lambdaName, events) };
}
