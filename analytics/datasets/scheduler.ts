// Fires the schedule triggers of datasets: one timer per dataset, armed for the earliest next fire
// of its schedules, re-armed after each fire. The clock is injected so tests can drive time.
// Fires missed while the server was down are not caught up (the next one runs as scheduled).
import type { Schedule } from './schedule.js';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Node timers cannot wait longer than ~24.8 days; longer waits wake up early and re-arm. */
const MAX_DELAY = 2 ** 31 - 1;

export type FireListener = (datasetName: string, scheduleTime: number, schedule: Schedule) => void;

interface Armed {
  schedules: Schedule[];
  handle: unknown;
}

export class DatasetScheduler {
  private readonly armed = new Map<string, Armed>();
  private closed = false;

  constructor(private readonly clock: Clock, private readonly fire: FireListener) {}

  /** Replaces the dataset's schedules (an empty list removes it). */
  set(datasetName: string, schedules: readonly Schedule[]): void {
    this.remove(datasetName);
    if (this.closed || schedules.length === 0) return;
    const entry: Armed = { schedules: [...schedules], handle: undefined };
    this.armed.set(datasetName, entry);
    this.arm(datasetName, entry, this.clock.now());
  }

  remove(datasetName: string): void {
    const entry = this.armed.get(datasetName);
    if (entry) this.clock.clearTimeout(entry.handle);
    this.armed.delete(datasetName);
  }

  /** The next fire time of a dataset (epoch ms), for diagnostics and tests. */
  nextFire(datasetName: string): number | undefined {
    const entry = this.armed.get(datasetName);
    return entry ? earliest(entry.schedules, this.clock.now())?.at : undefined;
  }

  close(): void {
    this.closed = true;
    for (const name of [...this.armed.keys()]) this.remove(name);
  }

  private arm(datasetName: string, entry: Armed, after: number): void {
    const next = earliest(entry.schedules, after);
    if (!next) return;
    const delay = Math.min(MAX_DELAY, Math.max(0, next.at - this.clock.now()));
    entry.handle = this.clock.setTimeout(() => {
      if (this.armed.get(datasetName) !== entry) return;
      if (this.clock.now() < next.at) return this.arm(datasetName, entry, after); // woke up early
      this.fire(datasetName, next.at, next.schedule);
      this.arm(datasetName, entry, next.at);
    }, delay);
  }
}

function earliest(schedules: readonly Schedule[], after: number): { at: number; schedule: Schedule } | undefined {
  let best: { at: number; schedule: Schedule } | undefined;
  for (const schedule of schedules) {
    const at = schedule.next(after);
    if (at !== undefined && (!best || at < best.at)) best = { at, schedule };
  }
  return best;
}
