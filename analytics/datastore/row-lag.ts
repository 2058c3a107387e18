// How stale a datastore is: for each committed row, the time from the broker receiving the
// message to the commit that made the row queryable, counted into fixed buckets (a Prometheus
// histogram; /metrics exposes it and the simulator reads percentiles from it). A row adds one
// bucket increment per writer append, not per row, so the cost stays off the per-message path.

/** Upper bounds in seconds, dense around the 1 s freshness target; beyond the last is +Inf. */
export const ROW_LAG_BUCKETS_S: readonly number[] = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 30, 60, 120, 300, 600,
];

export interface RowLagSnapshot {
  /** upper bounds in seconds (ROW_LAG_BUCKETS_S); the +Inf bucket is `count` */
  bucketsS: readonly number[];
  /** rows with lag ≤ bucketsS[i], cumulative as Prometheus expects */
  cumulative: number[];
  /** rows counted, and their summed lag in seconds */
  count: number;
  sumS: number;
}

export class RowLagHistogram {
  /** rows per bucket, not cumulative; the last slot is +Inf */
  private readonly counts = new Array<number>(ROW_LAG_BUCKETS_S.length + 1).fill(0);
  private count = 0;
  private sumS = 0;

  /** `rows` rows committed `lagMs` after they were received (a clock step back counts as 0). */
  record(lagMs: number, rows: number): void {
    const lagS = Math.max(0, lagMs) / 1000;
    let i = 0;
    while (i < ROW_LAG_BUCKETS_S.length && lagS > ROW_LAG_BUCKETS_S[i]) i++;
    this.counts[i] += rows;
    this.count += rows;
    this.sumS += lagS * rows;
  }

  snapshot(): RowLagSnapshot {
    const cumulative: number[] = [];
    let running = 0;
    for (let i = 0; i < ROW_LAG_BUCKETS_S.length; i++) cumulative.push((running += this.counts[i]));
    return { bucketsS: ROW_LAG_BUCKETS_S, cumulative, count: this.count, sumS: this.sumS };
  }
}
