// Wire conversions shared by the IoT Analytics route modules (restJson1, spec §1): timestamps
// leave as epoch SECONDS in JSON bodies and arrive as ISO-8601 in query strings; List operations
// take maxResults/nextToken from the query.
import type { PageRequest } from '../../../analytics/index.js';
import { BrokerError } from '../../errors.js';
import { jsonBody, queryInt, queryString, type Query } from '../aws-params.js';

/** epoch ms → epoch seconds (fraction kept), undefined stays undefined */
export function seconds(ms: number): number;
export function seconds(ms: number | undefined): number | undefined;
export function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

/** An ISO-8601 timestamp query parameter (startTime, endTime) as epoch ms. */
export function queryTime(q: Query, name: string): number | undefined {
  const s = queryString(q, name);
  if (s === undefined) return undefined;
  // also accept epoch seconds, which other clients send
  const t = /^\d+(\.\d+)?$/.test(s) ? Number(s) * 1000 : Date.parse(s);
  if (Number.isNaN(t)) throw new BrokerError('InvalidRequestException', `${name} must be an ISO-8601 timestamp such as 2020-10-15T23:45:30Z, got '${s}'`);
  return t;
}

export function pageRequest(q: Query): PageRequest {
  return { nextToken: queryString(q, 'nextToken'), maxResults: queryInt(q, 'maxResults') };
}

/** The members of a List response: each item mapped to its summary under `key`, and nextToken
 * while more follow. */
export function listBody<T>(key: string, page: { items: T[]; nextToken?: string }, summary: (item: T) => unknown): Record<string, unknown> {
  const items = page.items.map(summary);
  return page.nextToken === undefined ? { [key]: items } : { [key]: items, nextToken: page.nextToken };
}

/** A JSON object body typed as the facade's request; the facade validates every member. */
export function requestBody<T>(raw: unknown): T {
  return jsonBody(raw) as unknown as T;
}
