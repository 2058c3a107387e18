// Finds a delivery key's place in the redelivery ring (redelivery.ts): an open-addressing hash
// table in typed arrays, linear probing, deletion by backward shift (no tombstones).
//
// Why not a Map<string, number>: the index changes on every archived message (one key in, the
// oldest out) and holds up to 100,000 keys, and such a Map was the channel's most expensive
// structure in profiles at saturation: its table outgrows the caches, every insert points an old
// table at a young string the next scavenge must visit, and churn rebuilds it again and again.
// Here a cell is one number, the key strings stay in the ring (the table only holds places and
// compares against the ring's keys), and the table is sized once per ring size.

/** What the table needs from the ring: the key and its hash at an absolute place. */
export interface PlaceKeys {
  keyAt(place: number): string;
  hashAt(place: number): number;
}

/** 32-bit FNV-1a over the UTF-16 code units: keys are short ASCII text, this is cheap and spreads them well. */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class PlaceTable {
  /** place + 1 per cell, 0 = empty (places are ≥ 0 and below 2^53) */
  private cells: Float64Array;
  private mask: number;
  private count = 0;

  /** `capacity`: the most places it will hold; the table keeps at least twice that many cells. */
  constructor(
    private readonly ring: PlaceKeys,
    capacity: number,
  ) {
    this.cells = new Float64Array(cellsFor(capacity));
    this.mask = this.cells.length - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The place of `key` (whose hash is `hash`), or -1. */
  get(key: string, hash: number): number {
    const cells = this.cells;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const c = cells[i]!;
      if (c === 0) return -1;
      const place = c - 1;
      if (this.ring.hashAt(place) === hash && this.ring.keyAt(place) === key) return place;
    }
  }

  /** Adds a place whose key is not in the table (the caller removed any earlier place of it). */
  add(place: number, hash: number): void {
    const cells = this.cells;
    let i = hash & this.mask;
    while (cells[i] !== 0) i = (i + 1) & this.mask;
    cells[i] = place + 1;
    this.count++;
  }

  /** Removes `place` (whose key hashes to `hash`); false when it is not in the table. */
  remove(place: number, hash: number): boolean {
    const cells = this.cells;
    const mask = this.mask;
    let i = hash & mask;
    for (;; i = (i + 1) & mask) {
      const c = cells[i]!;
      if (c === 0) return false;
      if (c === place + 1) break;
    }
    // Backward shift: pull later cells of the probe run into the hole when their home allows.
    for (let j = (i + 1) & mask; cells[j] !== 0; j = (j + 1) & mask) {
      const home = this.ring.hashAt(cells[j]! - 1) & mask;
      // move cells[j] to i unless its home lies cyclically in (i, j]
      const homeInGap = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!homeInGap) {
        cells[i] = cells[j]!;
        i = j;
      }
    }
    cells[i] = 0;
    this.count--;
    return true;
  }

  /** Empties the table and sizes it for `capacity` places; the caller adds the places again. */
  reset(capacity: number): void {
    this.cells = new Float64Array(cellsFor(capacity));
    this.mask = this.cells.length - 1;
    this.count = 0;
  }
}

/** A power of two ≥ 2 × capacity: the load stays at most one half, so probe runs stay short. */
function cellsFor(capacity: number): number {
  let n = 16;
  while (n < capacity * 2) n *= 2;
  return n;
}
