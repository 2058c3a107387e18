// Failed sign-ins per source address: after `maxFailures` failures within `windowMs`, further
// attempts from that address are refused (429, Retry-After) until the oldest of those failures
// leaves the window. This slows password guessing to ~10 guesses per 10 minutes per address and
// keeps scrypt from being used to burn CPU. A success does not clear the count: otherwise anyone
// with one valid account could interleave its sign-ins with guesses at another's password.
// The memory is bounded: beyond `maxAddresses`, the address that failed least recently is forgotten.

export interface SignInLimitOptions {
  maxFailures?: number;
  windowMs?: number;
  maxAddresses?: number;
  now?(): number;
}

export type SignInLimit = ReturnType<typeof createSignInLimit>;

export function createSignInLimit(options: SignInLimitOptions = {}) {
  const maxFailures = options.maxFailures ?? 10;
  const windowMs = options.windowMs ?? 10 * 60_000;
  const maxAddresses = options.maxAddresses ?? 10_000;
  const now = options.now ?? Date.now;
  /** address → times of its recent failures, oldest first (at most maxFailures); Map order = least recently failed first */
  const failures = new Map<string, number[]>();
  const counts = { failures: 0, refused: 0, forgotten: 0 };

  function recent(address: string, t: number): number[] {
    const times = failures.get(address);
    if (!times) return [];
    while (times.length > 0 && times[0]! <= t - windowMs) times.shift();
    if (times.length === 0) failures.delete(address);
    return times;
  }

  return {
    /** Seconds to wait when the address is refused now (and counts the refusal), else undefined. */
    retryAfterSeconds(address: string): number | undefined {
      const t = now();
      const times = recent(address, t);
      if (times.length < maxFailures) return undefined;
      counts.refused++;
      return Math.max(1, Math.ceil((times[0]! + windowMs - t) / 1000));
    },

    failed(address: string): void {
      const t = now();
      const times = recent(address, t);
      times.push(t);
      if (times.length > maxFailures) times.shift();
      failures.delete(address); // re-inserted last: the most recently failed
      failures.set(address, times);
      counts.failures++;
      while (failures.size > maxAddresses) {
        failures.delete(failures.keys().next().value!);
        counts.forgotten++;
      }
    },

    counters: () => ({ addresses: failures.size, ...counts }),
  };
}
