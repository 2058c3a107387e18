// Public surface of analytics/pipelines.
export { compilePipeline, compileSingleActivity } from './compile.js';
export type { CompiledPipeline, ActivityCounters } from './compile.js';
export type { ActivityStep } from './activities/common.js';
export { compileFilter, compileMath } from './expr/compile.js';
export { decodePayload, isValidFieldName, duplicateFieldNames } from './payload.js';
