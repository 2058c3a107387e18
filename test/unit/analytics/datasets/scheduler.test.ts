import { DatasetScheduler, type Clock } from '../../../../analytics/datasets/scheduler.js';
import { parseSchedule } from '../../../../analytics/datasets/schedule.js';

/** A clock the test moves by hand; timers fire when `advance` passes their time. */
function fakeClock(start: number) {
  let now = start;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let ids = 0;
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = ++ids;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
  };
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      timers = timers.filter((t) => t !== due);
      now = due.at;
      due.fn();
    }
    now = until;
  };
  return { clock, advance, pending: () => timers.length };
}

describe('DatasetScheduler', () => {
  test('fires each schedule at its times and re-arms after each fire', () => {
    const { clock, advance } = fakeClock(Date.parse('2024-01-01T00:00:30Z'));
    const fired: string[] = [];
    const s = new DatasetScheduler(clock, (name, at) => fired.push(`${name}@${new Date(at).toISOString().slice(11, 16)}`));
    s.set('a', [parseSchedule('rate(1 minute)')]);
    s.set('b', [parseSchedule('cron(0/2 * * * ? *)')]);
    advance(4 * 60_000);
    expect(fired).toEqual(['a@00:01', 'b@00:02', 'a@00:02', 'a@00:03', 'b@00:04', 'a@00:04']);
  });

  test('removing a dataset or closing stops its timers', () => {
    const { clock, advance, pending } = fakeClock(0);
    const fired: string[] = [];
    const s = new DatasetScheduler(clock, (name) => fired.push(name));
    s.set('a', [parseSchedule('rate(1 minute)')]);
    s.set('b', [parseSchedule('rate(1 minute)')]);
    s.remove('a');
    advance(60_000);
    expect(fired).toEqual(['b']);
    s.close();
    expect(pending()).toBe(0);
    advance(600_000);
    expect(fired).toEqual(['b']);
  });
});
