// Names, attributes and limits of the registry (spec §3.1–3.3, §6). Checked in one place so the
// API and the configuration file refuse the same things with the same messages.
import { BrokerError } from '../errors.js';

/** thing, thing type and thing group names (spec §3.1: 1–128 of [a-zA-Z0-9:_-]) */
export const NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const ATTRIBUTE_NAME = /^[a-zA-Z0-9_.,@/:#-]{1,128}$/;
const ATTRIBUTE_VALUE = /^[a-zA-Z0-9_.,@/:#=[\]-]{0,800}$/;
/** printable characters and spaces, as AWS's description pattern `[\p{Graph}\x20]*` */
const DESCRIPTION = /^[\p{L}\p{M}\p{N}\p{P}\p{S}\x20]*$/u;

export const LIMITS = {
  attributesWithoutType: 3,
  attributesWithType: 50,
  groupAttributes: 50,
  groupsPerThing: 10,
  hierarchyDepth: 7,
  directChildren: 100,
  searchableAttributes: 3,
  descriptionLength: 2028,
  maxResults: 250,
} as const;

export function invalid(message: string): BrokerError {
  return new BrokerError('InvalidRequestException', message);
}

export function checkName(value: unknown, what: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw invalid(`${what} must be 1 to 128 characters of letters, digits, ':', '_' and '-', got ${JSON.stringify(value)}`);
  }
  return value;
}

/** An attribute map as sent (values may be '' — UpdateThing with merge uses that to remove). */
export function checkAttributes(value: unknown, where: string): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${where} must be an object of attribute names to string values`);
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (!ATTRIBUTE_NAME.test(name)) throw invalid(`${where}: attribute name '${name}' must be 1 to 128 characters of [a-zA-Z0-9_.,@/:#-]`);
    if (typeof v !== 'string' || !ATTRIBUTE_VALUE.test(v)) {
      throw invalid(`${where}: the value of attribute '${name}' must be a string of at most 800 characters of [a-zA-Z0-9_.,@/:#=[]-]`);
    }
    out[name] = v;
  }
  return out;
}

export function checkAttributeCount(attributes: Record<string, string>, hasType: boolean, thingName: string): void {
  const max = hasType ? LIMITS.attributesWithType : LIMITS.attributesWithoutType;
  const count = Object.keys(attributes).length;
  if (count > max) {
    throw invalid(`thing ${thingName} would have ${count} attributes; at most ${max} are allowed ${hasType ? 'with' : 'without'} a thing type`);
  }
}

export function checkDescription(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > LIMITS.descriptionLength || !DESCRIPTION.test(value)) {
    throw invalid(`${what} must be a string of at most ${LIMITS.descriptionLength} printable characters`);
  }
  return value;
}

export function checkObject(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

export function checkBoolean(value: unknown, what: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalid(`${what} must be true or false`);
  return value;
}

export function checkVersion(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalid(`${what} must be a whole number`);
  return value;
}

export function checkMaxResults(value: number | undefined): number {
  if (value === undefined) return LIMITS.maxResults;
  if (!Number.isInteger(value) || value < 1 || value > LIMITS.maxResults) throw invalid(`maxResults must be a whole number from 1 to ${LIMITS.maxResults}, got ${value}`);
  return value;
}
