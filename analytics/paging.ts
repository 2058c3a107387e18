// Pagination of the List operations (ListChannels, ListDatastores, ListPipelines, ...):
// items in name order, `maxResults` 1..250 (default 100), and a `nextToken` that names the last
// item of the page, so a page boundary stays right when resources are added or deleted between
// calls. The token is opaque to clients (base64url JSON).
import type { Page } from './types.js';
import { invalidRequest } from './errors.js';

export const MAX_PAGE_SIZE = 250;
export const DEFAULT_PAGE_SIZE = 100;

export interface PageRequest {
  nextToken?: string | undefined;
  maxResults?: number | undefined;
}

/** `items` must be sorted by `keyOf`, ascending and unique. */
export function paginate<T>(items: readonly T[], keyOf: (item: T) => string, req: PageRequest = {}): Page<T> {
  const max = req.maxResults ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(max) || max < 1 || max > MAX_PAGE_SIZE) {
    throw invalidRequest(`maxResults must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${String(req.maxResults)}`);
  }
  const after = req.nextToken === undefined ? undefined : decodeToken(req.nextToken);
  const rest = after === undefined ? items : items.filter((item) => keyOf(item) > after);
  const page = rest.slice(0, max);
  return rest.length > max ? { items: page, nextToken: encodeToken(keyOf(page[page.length - 1])) } : { items: page };
}

/** The key a request continues after (undefined: from the start), for lists paged in SQL: select
 * the items whose key is greater, at most maxResults + 1 of them, and hand them to paginate(). */
export function pageAfter(req: PageRequest): string | undefined {
  return req.nextToken === undefined ? undefined : decodeToken(req.nextToken);
}

function encodeToken(lastKey: string): string {
  return Buffer.from(JSON.stringify({ after: lastKey })).toString('base64url');
}

function decodeToken(token: string): string {
  try {
    const after = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown }).after;
    if (typeof after === 'string') return after;
  } catch {
    // fall through to the coded error
  }
  throw invalidRequest('nextToken is not a token this server returned');
}
