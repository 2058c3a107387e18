// Reconnect delays: exponential, capped, with optional jitter so many browsers reconnecting after
// a broker restart do not arrive in lock-step. Pure, so the schedule is unit-tested.

export interface BackoffPolicy {
  /** delay before the first retry */
  initialMs: number;
  /** growth per failed attempt */
  factor: number;
  /** the cap */
  maxMs: number;
  /** fraction of the delay randomized away: 0 = exact, 0.2 = between 80% and 100% */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, factor: 2, maxMs: 15_000, jitter: 0.2 };

/** Delay before retry number `attempt` (0 = first retry). `random` returns [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.floor(attempt));
  // Capping the exponent keeps Math.pow finite however long the outage lasts.
  const raw = policy.initialMs * Math.pow(policy.factor, Math.min(exponent, 64));
  const capped = Math.min(policy.maxMs, raw);
  return Math.round(capped * (1 - policy.jitter * random()));
}
