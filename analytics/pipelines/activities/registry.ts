// Activity type → compiler. The one place that knows which activity types exist and which are
// refused for now (lambda and the enrich activities need outside services: not yet supported).
import type { ActivityStep, Members } from './common.js';
import type { MathActivityHooks } from './math.js';
import { compileFilterActivity } from './filter.js';
import { compileMathActivity } from './math.js';
import { compileAddAttributesActivity } from './addAttributes.js';
import { compileRemoveAttributesActivity } from './removeAttributes.js';
import { compileSelectAttributesActivity } from './selectAttributes.js';
import { invalidRequest } from '../../errors.js';

export const TRANSFORM_TYPES = ['filter', 'math', 'addAttributes', 'removeAttributes', 'selectAttributes'] as const;
export const ENDPOINT_TYPES = ['channel', 'datastore'] as const;
export const UNSUPPORTED_TYPES = ['lambda', 'deviceRegistryEnrich', 'deviceShadowEnrich'] as const;

export type TransformType = (typeof TRANSFORM_TYPES)[number];
export type ActivityType = TransformType | (typeof ENDPOINT_TYPES)[number];

export function isTransformType(t: string): t is TransformType {
  return (TRANSFORM_TYPES as readonly string[]).includes(t);
}

/**
 * Which activity an API `PipelineActivity` object holds: exactly one member must be set, and it
 * must be a known, supported type.
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
  if ((UNSUPPORTED_TYPES as readonly string[]).includes(type)) {
    throw invalidRequest(`pipeline activity #${position + 1}: the ${type} activity is not yet supported`);
  }
  if (!isTransformType(type) && !(ENDPOINT_TYPES as readonly string[]).includes(type)) {
    throw invalidRequest(`pipeline activity #${position + 1}: unknown activity type "${type}"`);
  }
  const body = (activity as Members)[type];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest(`pipeline activity #${position + 1}: ${type} must be an object`);
  }
  return { type: type as ActivityType, body: body as Members };
}

export function compileTransform(type: TransformType, body: Members, hooks: MathActivityHooks = {}): ActivityStep {
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
  }
}
