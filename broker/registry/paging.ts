// Names kept in sorted order so a list page costs a binary search plus the page, not a sort of
// the whole fleet; and the opaque nextToken that names the last item of a page (a page boundary
// stays right when items are added or deleted between pages).
import { invalid } from './validation.js';

/** Plain code-unit order: stable, locale-independent, and what nextToken relies on. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class SortedNames {
  private readonly names: string[] = [];

  get size(): number {
    return this.names.length;
  }

  /** index of the first name greater than `name` (or equal, with `inclusive`) */
  indexAfter(name: string, inclusive = false): number {
    let lo = 0;
    let hi = this.names.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareNames(this.names[mid]!, name);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(name: string): void {
    const i = this.indexAfter(name, true);
    if (this.names[i] !== name) this.names.splice(i, 0, name);
  }

  remove(name: string): void {
    const i = this.indexAfter(name, true);
    if (this.names[i] === name) this.names.splice(i, 1);
  }

  /** the names after `after` (all when undefined), in order */
  *from(after: string | undefined): IterableIterator<string> {
    for (let i = after === undefined ? 0 : this.indexAfter(after); i < this.names.length; i++) yield this.names[i]!;
  }
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/** Walks `names` (sorted) from the token, keeps what `pick` returns, stops one past a full page. */
export function paginate<T>(names: Iterable<string>, max: number, pick: (name: string) => T | undefined): Page<T> {
  const items: T[] = [];
  let last: string | undefined;
  for (const name of names) {
    const item = pick(name);
    if (item === undefined) continue;
    if (items.length === max) return { items, nextToken: encodeToken(last!) };
    items.push(item);
    last = name;
  }
  return { items };
}

export function encodeToken(lastName: string): string {
  return Buffer.from(JSON.stringify({ after: lastName })).toString('base64url');
}

export function decodeToken(token: string | undefined): string | undefined {
  if (token === undefined || token === '') return undefined;
  try {
    const after = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown }).after;
    if (typeof after === 'string') return after;
  } catch {
    // fall through to the coded error
  }
  throw invalid('nextToken is not a token this server returned');
}

/** Sorted names after the token, from any collection (small sets: group members, a thing's groups). */
export function sortedAfter(names: Iterable<string>, after: string | undefined): string[] {
  return [...names].filter((n) => after === undefined || n > after).sort(compareNames);
}
