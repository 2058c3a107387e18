// Topic-filter index: a trie over filter levels, so finding the rules for a topic costs the
// topic's depth, not the number of rules. MQTT matching rules apply: `+` is exactly one level,
// `#` is the rest (including the parent level itself), and filters starting with a wildcard do
// not match topics starting with `$` [MQTT-4.7.2-1].

interface TrieNode<T> {
  children: Map<string, TrieNode<T>>;
  plus: TrieNode<T> | undefined;
  /** entries whose filter ends with `#` at this node */
  hash: Set<T>;
  /** entries whose filter ends exactly here */
  exact: Set<T>;
}

function newNode<T>(): TrieNode<T> {
  return { children: new Map(), plus: undefined, hash: new Set(), exact: new Set() };
}

export class TopicIndex<T> {
  private readonly root: TrieNode<T> = newNode();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(filter: string, entry: T): void {
    let node = this.root;
    for (const level of filter.split('/')) {
      if (level === '#') {
        if (!node.hash.has(entry)) this.count++;
        node.hash.add(entry);
        return;
      }
      if (level === '+') {
        node = node.plus ??= newNode();
      } else {
        let child = node.children.get(level);
        if (!child) node.children.set(level, (child = newNode()));
        node = child;
      }
    }
    if (!node.exact.has(entry)) this.count++;
    node.exact.add(entry);
  }

  remove(filter: string, entry: T): void {
    const path: Array<[TrieNode<T>, string]> = [];
    let node: TrieNode<T> | undefined = this.root;
    const levels = filter.split('/');
    for (const level of levels) {
      if (level === '#') {
        if (node.hash.delete(entry)) this.count--;
        this.prune(path, node);
        return;
      }
      path.push([node, level]);
      node = level === '+' ? node.plus : node.children.get(level);
      if (!node) return;
    }
    if (node.exact.delete(entry)) this.count--;
    this.prune(path, node);
  }

  /** Drops empty nodes on the way back up so deleted rules leave nothing behind. */
  private prune(path: Array<[TrieNode<T>, string]>, leaf: TrieNode<T>): void {
    let node = leaf;
    for (let i = path.length - 1; i >= 0; i--) {
      if (node.children.size || node.plus || node.hash.size || node.exact.size) return;
      const [parent, level] = path[i]!;
      if (level === '+') parent.plus = undefined;
      else parent.children.delete(level);
      node = parent;
    }
  }

  /** Every entry whose filter matches `topic` (each once). */
  match(topic: string): T[] {
    if (this.count === 0) return [];
    return this.matchLevels(topic.split('/'));
  }

  /** Like match(), for a topic already split at `/` (callers that need the levels anyway). */
  matchLevels(levels: readonly string[]): T[] {
    if (this.count === 0) return [];
    const out: T[] = [];
    this.walk(this.root, levels, 0, out, levels[0]!.startsWith('$'));
    // A filter matches a topic along one path only, so duplicates arise only when one entry
    // was added under several filters; the common single match skips the check.
    return out.length > 1 ? [...new Set(out)] : out;
  }

  private walk(node: TrieNode<T>, levels: readonly string[], i: number, out: T[], dollar: boolean): void {
    const wildcardAllowed = !(dollar && i === 0);
    if (wildcardAllowed && node.hash.size > 0) for (const e of node.hash) out.push(e);
    if (i === levels.length) {
      if (node.exact.size > 0) for (const e of node.exact) out.push(e);
      return;
    }
    if (node.children.size > 0) {
      const child = node.children.get(levels[i]!);
      if (child) this.walk(child, levels, i + 1, out, dollar);
    }
    if (node.plus && wildcardAllowed) this.walk(node.plus, levels, i + 1, out, dollar);
  }
}

/** Plain check of one filter against one topic (same rules as the index). */
export function topicMatches(filter: string, topic: string): boolean {
  const index = new TopicIndex<true>();
  index.add(filter, true);
  return index.match(topic).length > 0;
}
