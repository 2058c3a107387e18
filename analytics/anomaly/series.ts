// Per-device state with a cap: a detector or alarm keeps one small state per device it has seen,
// and the number of devices is bounded so a flood of new device ids cannot grow memory without
// limit. The least recently seen device is evicted (and counted) to make room; Map keeps insertion
// order, so moving a touched key to the end makes the first key the least recently used.

/** Devices tracked per detector activity or resource unless its definition says otherwise. */
export const DEFAULT_MAX_DEVICES = 10_000;
export const MAX_MAX_DEVICES = 1_000_000;

export class SeriesMap<T> {
  private readonly map = new Map<string, T>();
  /** devices forgotten to make room for new ones */
  evicted = 0;

  constructor(
    private readonly cap: number,
    private readonly create: (device: string) => T,
    private readonly onEvict?: (device: string, state: T) => void,
  ) {}

  /** The device's state, created on first sight; marks it most recently used. */
  get(device: string): T {
    const map = this.map;
    let s = map.get(device);
    if (s !== undefined) {
      // a single series (no device attribute) never needs reordering
      if (map.size > 1) {
        map.delete(device);
        map.set(device, s);
      }
      return s;
    }
    if (map.size >= this.cap) {
      const oldest = map.keys().next().value as string;
      const gone = map.get(oldest) as T;
      map.delete(oldest);
      this.evicted++;
      this.onEvict?.(oldest, gone);
    }
    s = this.create(device);
    map.set(device, s);
    return s;
  }

  get size(): number {
    return this.map.size;
  }

  entries(): IterableIterator<[string, T]> {
    return this.map.entries();
  }
}
