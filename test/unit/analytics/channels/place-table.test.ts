import { keyHash, PlaceTable } from '../../../../analytics/channels/place-table.js';

/** A ring stand-in: place → key, and a hash chosen by the test (so probe runs collide and wrap). */
function ring(hashOf: (key: string) => number): { keys: Map<number, string>; table: PlaceTable; hash: (key: string) => number } {
  const keys = new Map<number, string>();
  const table = new PlaceTable({ keyAt: (p) => keys.get(p)!, hashAt: (p) => hashOf(keys.get(p)!) }, 64);
  return { keys, table, hash: hashOf };
}

/** Deterministic pseudo-random numbers, so a failure replays. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('the redelivery place table', () => {
  it.each([
    ['spread hashes', keyHash],
    ['hashes that collide in runs of eight', (k: string) => keyHash(k) & ~7],
    ['hashes that all land near the end of the table, so runs wrap around', (k: string) => 124 + (keyHash(k) % 4)],
  ])('finds exactly the keys a Map would hold through 20,000 random adds and removes (%s)', (_name, hashOf) => {
    const { keys, table, hash } = ring(hashOf);
    const reference = new Map<string, number>(); // key → place
    const random = lcg(42);
    let nextPlace = 0;
    for (let step = 0; step < 20_000; step++) {
      const key = `k${Math.floor(random() * 80)}`;
      const held = reference.get(key);
      if (held !== undefined && random() < 0.5) {
        expect(table.remove(held, hash(key))).toBe(true);
        reference.delete(key);
      } else if (held === undefined && reference.size < 64) {
        const place = nextPlace++;
        keys.set(place, key);
        table.add(place, hash(key));
        reference.set(key, place);
      }
      if (step % 97 === 0) {
        for (let i = 0; i < 80; i++) expect(table.get(`k${i}`, hash(`k${i}`))).toBe(reference.get(`k${i}`) ?? -1);
        expect(table.size).toBe(reference.size);
      }
    }
  });

  it('says so when asked to remove a place it does not hold', () => {
    const { keys, table } = ring(keyHash);
    keys.set(0, 'a');
    table.add(0, keyHash('a'));
    expect(table.remove(1, keyHash('a'))).toBe(false);
    expect(table.get('a', keyHash('a'))).toBe(0);
  });

  it('starts empty again after a reset, sized for the new capacity', () => {
    const { keys, table } = ring(keyHash);
    for (let p = 0; p < 50; p++) {
      keys.set(p, `k${p}`);
      table.add(p, keyHash(`k${p}`));
    }
    table.reset(1000);
    expect(table.size).toBe(0);
    expect(table.get('k1', keyHash('k1'))).toBe(-1);
    for (let p = 0; p < 1000; p++) {
      keys.set(p, `n${p}`);
      table.add(p, keyHash(`n${p}`));
    }
    expect(table.get('n999', keyHash('n999'))).toBe(999);
  });
});
