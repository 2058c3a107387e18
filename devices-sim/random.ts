// Seeded pseudo-random numbers so a fleet run is reproducible given its seed (Math.random is not).

export type Random = () => number;

/** mulberry32: tiny, fast, good enough for simulated sensor noise. Returns values in [0, 1). */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A per-device seed derived from the fleet seed, so devices differ but stay reproducible. */
export function deriveSeed(seed: number, index: number): number {
  // 32-bit integer hash (xorshift-multiply) of the pair.
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Standard normal sample (Box-Muller), for noise that looks like a sensor's. */
export function gaussian(random: Random): number {
  const u = 1 - random(); // (0, 1], avoids log(0)
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
