// Failed authentications per source address, for any credential that can be guessed (operator
// sign-in, MQTT device passwords: one module, one instance each). After `maxFailures` failures
// within `windowMs`, further attempts from that address are refused until the oldest of those
// failures leaves the window. This slows password guessing to ~10 guesses per 10 minutes per
// address and keeps scrypt from being used to burn CPU. A success does not clear the count:
// otherwise anyone with one valid account could interleave its sign-ins with guesses at another's.
//
// Attempts still being checked count against the limit too (`admit`): without that, a guesser
// opening a thousand connections at once would have a thousand guesses checked before the first
// failure is recorded.
// The memory is bounded: beyond `maxAddresses`, the address that failed least recently is forgotten.
import type { MetricSource } from '../metrics.js';

export interface FailureLimitOptions {
  maxFailures?: number;
  windowMs?: number;
  maxAddresses?: number;
  now?(): number;
}

/** An admitted attempt: say how it ended (once). */
export interface Attempt {
  failed(): void;
  succeeded(): void;
}

export type FailureLimit = ReturnType<typeof createFailureLimit>;

export function createFailureLimit(options: FailureLimitOptions = {}) {
  const maxFailures = options.maxFailures ?? 10;
  const windowMs = options.windowMs ?? 10 * 60_000;
  const maxAddresses = options.maxAddresses ?? 10_000;
  const now = options.now ?? Date.now;
  /** address → times of its recent failures, oldest first (at most maxFailures); Map order = least recently failed first */
  const failures = new Map<string, number[]>();
  /** address → attempts admitted and not yet settled (an entry lives only while one is in flight) */
  const pending = new Map<string, number>();
  const counts = { failures: 0, refused: 0, forgotten: 0 };

  function recent(address: string, t: number): number[] {
    const times = failures.get(address);
    if (!times) return [];
    while (times.length > 0 && times[0]! <= t - windowMs) times.shift();
    if (times.length === 0) failures.delete(address);
    return times;
  }

  function retryAfterSeconds(address: string): number | undefined {
    const t = now();
    const times = recent(address, t);
    if (times.length + (pending.get(address) ?? 0) < maxFailures) return undefined;
    counts.refused++;
    // full only because of attempts in flight: they settle within a second or so
    if (times.length < maxFailures) return 1;
    return Math.max(1, Math.ceil((times[0]! + windowMs - t) / 1000));
  }

  function failed(address: string): void {
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
  }

  return {
    /** Seconds to wait when the address is refused now (and counts the refusal), else undefined. */
    retryAfterSeconds,
    failed,

    /** Admits an attempt from the address (it counts against the limit until settled), or answers
     * the seconds to wait (counting the refusal). */
    admit(address: string): Attempt | { retryAfterSeconds: number } {
      const wait = retryAfterSeconds(address);
      if (wait !== undefined) return { retryAfterSeconds: wait };
      pending.set(address, (pending.get(address) ?? 0) + 1);
      let settled = false;
      const settle = () => {
        if (settled) return false;
        settled = true;
        const n = (pending.get(address) ?? 1) - 1;
        if (n > 0) pending.set(address, n);
        else pending.delete(address);
        return true;
      };
      return {
        failed: () => {
          if (settle()) failed(address);
        },
        succeeded: () => {
          settle();
        },
      };
    },

    counters: () => ({ addresses: failures.size, ...counts }),
  };
}

/** A /metrics family for one limit: failures, refused, addresses tracked now, forgotten. */
export function failureLimitMetricSource(name: string, help: string, limit: Pick<FailureLimit, 'counters'>): MetricSource {
  return {
    name,
    help,
    labelNames: ['counter'],
    read: () => Object.entries(limit.counters()).map(([counter, value]) => ({ labels: { counter }, value })),
  };
}
