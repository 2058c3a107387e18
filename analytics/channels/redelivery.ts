// The channel's memory of recently archived delivery keys, so that a PUBLISH the device resends
// (its PUBACK was lost: the server died or the connection dropped after the message was archived)
// is acknowledged again without being archived a second time.
//
// A delivery key names one channel message made from one device PUBLISH (the broker builds it
// from the client id, packet identifier, topic and payload; see broker/mqtt/redelivery.ts). Only
// a message flagged as a redelivery is looked up; every keyed message is remembered, because the
// first copy never carries the flag.
//
// Bounded twice: at most `maxKeys` keys and none older than `maxAgeMs`; what falls out is counted
// in `evicted`. A redelivery arriving after its key was evicted is archived again (a duplicate,
// never a loss). The Map keeps insertion order, so the oldest key is always the first one.

export interface RedeliveryOptions {
  /** keys remembered per channel (default 100 000) */
  maxKeys?: number;
  /** how long a key is remembered, ms (default 1 h) */
  maxAgeMs?: number;
}

export const DEFAULT_REDELIVERY_KEYS = 100_000;
export const DEFAULT_REDELIVERY_AGE_MS = 3_600_000;

/** An archived key's value is when it was archived; a key whose write is still in flight maps to
 * that write, so a redelivery racing its original waits for it instead of archiving a copy. */
type Entry = number | Promise<unknown>;

export class RedeliveryIndex {
  readonly maxKeys: number;
  readonly maxAgeMs: number;
  private readonly keys = new Map<string, Entry>();
  private evictedCount = 0;

  constructor(opts: RedeliveryOptions = {}) {
    this.maxKeys = opts.maxKeys ?? DEFAULT_REDELIVERY_KEYS;
    this.maxAgeMs = opts.maxAgeMs ?? DEFAULT_REDELIVERY_AGE_MS;
    if (!(this.maxKeys >= 0) || !(this.maxAgeMs >= 0)) throw new RangeError('redelivery window bounds must be ≥ 0');
  }

  /** undefined: not seen (archive it); a number: archived at that time; a promise: being written. */
  find(key: string, now: number): Entry | undefined {
    const e = this.keys.get(key);
    if (typeof e === 'number' && now - e > this.maxAgeMs) return undefined; // expired, not yet swept
    return e;
  }

  /** Remembers a key whose write has started; moves a key seen before to the newest end. */
  writing(key: string, write: Promise<unknown>, now: number): void {
    this.keys.delete(key);
    this.keys.set(key, write);
    this.trim(now);
  }

  /** `write`, which claimed `key`, reached the disk. */
  archived(key: string, write: Promise<unknown>, at: number): void {
    // only the write that claimed it: a later claim of the same key stays in charge
    if (this.keys.get(key) === write) this.keys.set(key, at);
  }

  /** `write`, which claimed `key`, failed: the message is not archived, a resend must be. */
  failed(key: string, write: Promise<unknown>): void {
    if (this.keys.get(key) === write) this.keys.delete(key);
  }

  /** Loads keys read back from the archive at start-up, oldest first; not counted as evictions. */
  load(key: string, at: number, now: number): void {
    if (now - at > this.maxAgeMs) return;
    this.keys.delete(key);
    this.keys.set(key, at);
    while (this.keys.size > this.maxKeys) this.keys.delete(this.keys.keys().next().value!);
  }

  get size(): number {
    return this.keys.size;
  }

  get evicted(): number {
    return this.evictedCount;
  }

  private trim(now: number): void {
    while (this.keys.size > this.maxKeys) {
      this.keys.delete(this.keys.keys().next().value!);
      this.evictedCount++;
    }
    // oldest first: stop at the first key young enough (or still being written)
    for (const [key, e] of this.keys) {
      if (typeof e !== 'number' || now - e <= this.maxAgeMs) break;
      this.keys.delete(key);
      this.evictedCount++;
    }
  }
}
