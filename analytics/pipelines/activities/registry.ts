// Activity type → compiler. The one place that knows which activity types exist. Transform types
// are synchronous per-message steps; `lambda` is the one asynchronous, batched activity and is
// compiled by compile.ts through compileLambdaActivity.
import type { ActivityStep, Members } from './common.js';
import type { MathActivityHooks } from './math.js';
import type { EnrichLookups } from './enrich.js';
import type { DetectAnomaliesHooks } from './detectAnomalies.js';
import { compileFilterActivity } from './filter.js';
import { compileMathActivity } from './math.js';
import { compileAddAttributesActivity } from './addAttributes.js';
import { compileRemoveAttributesActivity } from './removeAttributes.js';
import { compileSelectAttributesActivity } from './selectAttributes.js';
import { compileEnrichActivity } from './enrich.js';
import { compileDetectAnomaliesActivity } from './detectAnomalies.js';
import { invalidRequest } from '../../errors.js';

export const TRANSFORM_TYPES = [
  'filter',
  'math',
  'addAttributes',
  'removeAttributes',
  'selectAttributes',
  'deviceRegistryEnrich',
  'deviceShadowEnrich',
  'detectAnomalies', // our extension (issue 6)
] as const;
export const ENDPOINT_TYPES = ['channel', 'datastore'] as const;
export const BATCH_TYPES = ['lambda'] as const;

export type TransformType = (typeof TRANSFORM_TYPES)[number];
export type ActivityType = TransformType | (typeof ENDPOINT_TYPES)[number] | (typeof BATCH_TYPES)[number];

/** What a transform may need besides its members: counter hooks and the injected lookups. */
export interface TransformHooks extends MathActivityHooks, DetectAnomaliesHooks {
  /** enrich activities: the message named no thing, or the thing/shadow does not exist */
  onLookupMiss?: () => void;
  enrich?: EnrichLookups;
}

export function isTransformType(t: string): t is TransformType {
  return (TRANSFORM_TYPES as readonly string[]).includes(t);
}

const KNOWN: readonly string[] = [...TRANSFORM_TYPES, ...ENDPOINT_TYPES, ...BATCH_TYPES];

/**
 * Which activity an API `PipelineActivity` object holds: exactly one member must be set, and it
 * must be a known type.
 */
export function activityTypeOf(activity: unknown, position: number): { type: ActivityType; body: Members } {
  if (typeof activity !== 'object' || activity === null || Array.isArray(activity)) {
    throw invalidRequest(`pipeline activity #${position + 1} must be an object`);
  }
  const keys = Object.keys(activity).filter((k) => (activity as Members)[k] !== undefined && (activity as Members)[k] !== null);
  if (keys.length !== 1) {
    throw invalidRequest(`pipeline activity #${position + 1} must hold exactly one activity type, found ${keys.length} (${keys.join(', ') || 'none'})`);
  }
  const type = keys[0];
  if (!KNOWN.includes(type)) {
    throw invalidRequest(`pipeline activity #${position + 1}: unknown activity type "${type}"`);
  }
  const body = (activity as Members)[type];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest(`pipeline activity #${position + 1}: ${type} must be an object`);
  }
  return { type: type as ActivityType, body: body as Members };
}

export function compileTransform(type: TransformType, body: Members, hooks: TransformHooks = {}): ActivityStep {
  switch (type) {
    case 'filter':
      return compileFilterActivity(body);
    case 'math':
      return compileMathActivity(body, hooks);
    case 'addAttributes':
      return compileAddAttributesActivity(body);
    case 'removeAttributes':
      return compileRemoveAttributesActivity(body);
    case 'selectAttributes':
      return compileSelectAttributesActivity(body);
    case 'deviceRegistryEnrich':
    case 'deviceShadowEnrich':
      return compileEnrichActivity(type, body, hooks.enrich, hooks.onLookupMiss);
    case 'detectAnomalies':
      return compileDetectAnomaliesActivity(body, hooks);
  }
}
