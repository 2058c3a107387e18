// When each publish of one device is due, counted from absolute time so the schedule never
// drifts however irregular the scheduler's ticks are. Without jitter the k-th publish (from 0) is
// due at origin + k / rate. With jitter J (0..1) it is due u·J/rate later, u uniform in [0, 1)
// and drawn per publish from the device's own seeded stream: intervals vary between (1 − J)/rate
// and (1 + J)/rate, publishes stay in order, and the mean rate stays the rate, because each delay
// is taken from the ideal time rather than from the previous publish.
import type { Random } from './random.js';

/** How many publishes a device owes at `now` without jitter: the first is due at its origin. */
export function publishesDue(origin: number, ratePerSec: number, now: number): number {
  if (!(now >= origin)) return 0; // also false while origin is NaN (not connected yet)
  return Math.floor(((now - origin) * ratePerSec) / 1000) + 1;
}

export class PublishSchedule {
  /** with jitter: publishes due so far, and when the next one is */
  private due = 0;
  private nextAt = Number.NaN;

  constructor(
    private readonly ratePerSec: number,
    private readonly jitter: number,
    private readonly random: Random,
  ) {}

  /** Publishes due in total by `now` for a device whose first publish is at `origin` (NaN: not
   * connected yet). `now` only moves forward. */
  dueBy(origin: number, now: number): number {
    if (this.jitter === 0) return publishesDue(origin, this.ratePerSec, now);
    if (!(now >= origin)) return 0;
    if (Number.isNaN(this.nextAt)) this.nextAt = this.at(origin, 0);
    while (this.nextAt <= now) this.nextAt = this.at(origin, ++this.due);
    return this.due;
  }

  private at(origin: number, k: number): number {
    return origin + ((k + this.random() * this.jitter) * 1000) / this.ratePerSec;
  }
}
