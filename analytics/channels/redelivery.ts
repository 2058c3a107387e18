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
// never a loss). The ring below keeps arrival order, so the oldest key is always at its head.
import { keyHash, PlaceTable } from './place-table.js';

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

const INITIAL_RING = 1024;

// Keys live in a ring in arrival order, and a hash table (place-table.ts) finds a key's place in
// it. A Map alone, trimmed from its oldest end, costs V8 a walk over every deleted entry at the
// front on each trim until the table is rebuilt: at 100 000 keys that capped a channel at ~16k
// messages/s; a Map beside the ring was still the channel's most expensive structure.
//
// A place is an absolute sequence number (`seq % capacity` is its slot). A key claimed again, or
// whose write failed, leaves its old place stale: its entry is cleared and the table no longer
// holds it, and it is dropped without counting when the oldest end reaches it. The ring holds at
// most `maxKeys` places, so a stale place delays nothing for long and the ring never grows past
// `maxKeys`.
export class RedeliveryIndex {
  readonly maxKeys: number;
  readonly maxAgeMs: number;
  private keys: (string | undefined)[] = new Array(INITIAL_RING);
  private hashes = new Uint32Array(INITIAL_RING);
  private entries: (Entry | undefined)[] = new Array(INITIAL_RING);
  private readonly places: PlaceTable;
  /** sequence numbers of the oldest place and of the next one */
  private head = 0;
  private tail = 0;
  private evictedCount = 0;

  constructor(opts: RedeliveryOptions = {}) {
    this.maxKeys = opts.maxKeys ?? DEFAULT_REDELIVERY_KEYS;
    this.maxAgeMs = opts.maxAgeMs ?? DEFAULT_REDELIVERY_AGE_MS;
    if (!(this.maxKeys >= 0) || !(this.maxAgeMs >= 0)) throw new RangeError('redelivery window bounds must be ≥ 0');
    this.places = new PlaceTable({
      keyAt: (place) => this.keys[place % this.keys.length]!,
      hashAt: (place) => this.hashes[place % this.hashes.length]!,
    }, INITIAL_RING);
  }

  /** undefined: not seen (archive it); a number: archived at that time; a promise: being written. */
  find(key: string, now: number): Entry | undefined {
    const place = this.places.get(key, keyHash(key));
    if (place < 0) return undefined;
    const e = this.entries[place % this.entries.length]!;
    if (typeof e === 'number' && now - e > this.maxAgeMs) return undefined; // expired, not yet swept
    return e;
  }

  /** Remembers a key whose write has started; moves a key seen before to the newest end. */
  writing(key: string, write: Promise<unknown>, now: number): void {
    this.push(key, write, true);
    this.dropExpired(now);
  }

  /** `write`, which claimed `key`, reached the disk. */
  archived(key: string, write: Promise<unknown>, at: number): void {
    // only the write that claimed it: a later claim of the same key stays in charge
    const place = this.placeOf(key, write);
    if (place >= 0) this.entries[place % this.entries.length] = at;
  }

  /** `write`, which claimed `key`, failed: the message is not archived, a resend must be. */
  failed(key: string, write: Promise<unknown>): void {
    const place = this.placeOf(key, write);
    if (place < 0) return;
    this.places.remove(place, this.hashes[place % this.hashes.length]!);
    this.entries[place % this.entries.length] = undefined;
  }

  /** Loads keys read back from the archive at start-up, oldest first; not counted as evictions. */
  load(key: string, at: number, now: number): void {
    if (now - at > this.maxAgeMs) return;
    this.push(key, at, false);
  }

  get size(): number {
    return this.places.size;
  }

  get evicted(): number {
    return this.evictedCount;
  }

  /** the place holding `key` while `write` still owns it, else -1 */
  private placeOf(key: string, write: Promise<unknown>): number {
    const place = this.places.get(key, keyHash(key));
    return place >= 0 && this.entries[place % this.entries.length] === write ? place : -1;
  }

  private push(key: string, entry: Entry, countEvictions: boolean): void {
    const hash = keyHash(key);
    const previous = this.places.get(key, hash);
    if (previous >= 0) {
      this.places.remove(previous, hash);
      this.entries[previous % this.entries.length] = undefined; // now stale
    }
    if (this.tail - this.head === this.entries.length) this.grow();
    const slot = this.tail % this.entries.length;
    this.keys[slot] = key;
    this.hashes[slot] = hash;
    this.entries[slot] = entry;
    this.places.add(this.tail++, hash);
    while (this.tail - this.head > this.maxKeys) this.dropOldest(countEvictions);
  }

  /** oldest first: stop at the first key young enough (or still being written) */
  private dropExpired(now: number): void {
    while (this.head < this.tail) {
      const e = this.entries[this.head % this.entries.length];
      if (e !== undefined && (typeof e !== 'number' || now - e <= this.maxAgeMs)) break;
      this.dropOldest(true);
    }
  }

  private dropOldest(countEviction: boolean): void {
    const slot = this.head % this.entries.length;
    // a place still in use holds its entry; a stale one was cleared (and left the table) when it
    // went stale (push, failed)
    if (this.entries[slot] !== undefined) {
      this.places.remove(this.head, this.hashes[slot]!);
      if (countEviction) this.evictedCount++;
    }
    this.keys[slot] = undefined;
    this.entries[slot] = undefined;
    this.head++;
  }

  /** doubles the ring, each place keeping its sequence number, and sizes the table for it */
  private grow(): void {
    const capacity = this.entries.length * 2;
    const keys: (string | undefined)[] = new Array(capacity);
    const hashes = new Uint32Array(capacity);
    const entries: (Entry | undefined)[] = new Array(capacity);
    for (let seq = this.head; seq < this.tail; seq++) {
      keys[seq % capacity] = this.keys[seq % this.keys.length];
      hashes[seq % capacity] = this.hashes[seq % this.hashes.length]!;
      entries[seq % capacity] = this.entries[seq % this.entries.length];
    }
    this.keys = keys;
    this.hashes = hashes;
    this.entries = entries;
    this.places.reset(capacity);
    for (let seq = this.head; seq < this.tail; seq++) if (entries[seq % capacity] !== undefined) this.places.add(seq, hashes[seq % capacity]!);
  }
}
