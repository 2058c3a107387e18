// Request parsing shared by the AWS-compatible route modules: a JSON object body and typed query
// parameters, each refusing a malformed value with InvalidRequestException naming it.
import { BrokerError } from '../errors.js';

export type Query = Record<string, unknown>;

/** A JSON object body; a bodiless request is {}. Typed loosely so it can be handed to a store's
 * request type, whose own validation checks each member. */
export function jsonBody(raw: unknown): Record<string, never> {
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BrokerError('InvalidRequestException', 'the request body must be a JSON object');
  return raw as Record<string, never>;
}

/**
 * Our own /api/ bodies have a small fixed shape: a member we do not know is a typo (or a client
 * expecting a feature we lack) and is refused, naming it, rather than silently ignored. AWS
 * routes do not call this: AWS ignores members it does not know, and the SDKs may send new ones.
 */
export function onlyMembers(body: Record<string, unknown>, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new BrokerError('InvalidRequestException', `${what}: unknown member${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (allowed: ${allowed.join(', ')})`);
  }
}

export function queryString(q: Query, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BrokerError('InvalidRequestException', `${name} must be given once`);
  return v;
}

export function queryInt(q: Query, name: string): number | undefined {
  const s = queryString(q, name);
  if (s === undefined) return undefined;
  if (!/^\d{1,15}$/.test(s)) throw new BrokerError('InvalidRequestException', `${name} must be a whole number, got '${s}'`);
  return Number(s);
}

export function queryBool(q: Query, name: string): boolean | undefined {
  const s = queryString(q, name);
  if (s === undefined) return undefined;
  if (s !== 'true' && s !== 'false') throw new BrokerError('InvalidRequestException', `${name} must be true or false, got '${s}'`);
  return s === 'true';
}
