// Public surface of analytics/pipelines.
export { compilePipeline, compileSingleActivity, compileSingleBatchActivity } from './compile.js';
export type { CompiledPipeline, ActivityCounters, CompileOptions, BatchInput, BatchRow } from './compile.js';
export type { ActivityStep } from './activities/common.js';
export type { EnrichLookups, ThingRecord } from './activities/enrich.js';
export { createLambdaHost, LambdaFailure } from './lambda-host.js';
export type { LambdaHost, LambdaHostOptions, LambdaFailureKind } from './lambda-host.js';
export { compileFilter, compileMath } from './expr/compile.js';
export { decodePayload, isValidFieldName, duplicateFieldNames } from './payload.js';
