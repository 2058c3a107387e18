// Schedule triggers (spec §5.1): EventBridge `rate(...)` and 6-field `cron(...)`, in UTC.
//
// rate(N unit): fires at whole multiples of the period since the epoch (rate(1 hour) on the hour),
//   so the fire times do not depend on when the server started.
// cron(min hour day-of-month month day-of-week year): evaluated by croner (the one file that
//   imports it) in its Quartz mode, which is EventBridge's dialect: `, - * /` everywhere, `L`, `W`
//   and `#` in the day fields, `a/n` steps, weekdays 1-7 or SUN-SAT with 1 = Sunday. EventBridge's own rule
//   that exactly one of the two day fields is `?` is checked here.
import { Cron } from 'croner';
import { AnalyticsError } from '../errors.js';

export interface Schedule {
  readonly expression: string;
  /** the first fire time strictly after `after` (epoch ms), or undefined if there is none */
  next(after: number): number | undefined;
  /** the period a fire at `at` covers (delta windows): rate → its period, cron → time to the next fire */
  periodAt(at: number): number;
}

const MINUTE = 60_000;
const UNITS: Readonly<Record<string, number>> = { minute: MINUTE, hour: 60 * MINUTE, day: 24 * 60 * MINUTE };

function invalid(expression: string, why: string): AnalyticsError {
  return new AnalyticsError('InvalidRequestException', `invalid schedule expression ${JSON.stringify(expression)}: ${why}`);
}

export function parseSchedule(expression: unknown): Schedule {
  if (typeof expression !== 'string' || expression.length > 256) throw invalid(String(expression), 'must be rate(...) or cron(...)');
  const rate = /^rate\(\s*(\d{1,9})\s+(minute|minutes|hour|hours|day|days)\s*\)$/i.exec(expression.trim());
  if (rate) {
    const n = Number(rate[1]);
    if (n < 1) throw invalid(expression, 'the value must be at least 1 (no schedule faster than one minute)');
    const unit = rate[2].toLowerCase().replace(/s$/, '');
    const period = n * UNITS[unit];
    return {
      expression,
      next: (after) => (Math.floor(after / period) + 1) * period,
      periodAt: () => period,
    };
  }
  const cron = /^cron\((.*)\)$/i.exec(expression.trim());
  if (cron) return compileCron(expression, cron[1]);
  throw invalid(expression, 'must be rate(<n> minute|minutes|hour|hours|day|days) or cron(<6 fields>)');
}

function compileCron(expression: string, body: string): Schedule {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) throw invalid(expression, `cron needs 6 fields (minute hour day-of-month month day-of-week year), got ${fields.length}`);
  const [, , domF, , dowF] = fields;
  if ((domF === '?') === (dowF === '?')) throw invalid(expression, 'exactly one of day-of-month and day-of-week must be "?"');
  let cron: Cron;
  try {
    // croner's 7-part form puts seconds first: EventBridge schedules fire on the minute
    cron = new Cron(`0 ${fields.join(' ')}`, { timezone: 'UTC', mode: '7-part', alternativeWeekdays: true, sloppyRanges: true, paused: true });
  } catch (error) {
    throw invalid(expression, (error as Error).message.replace(/^CronPattern:\s*/, ''));
  }
  const next = (after: number): number | undefined => cron.nextRun(new Date(after))?.getTime();
  return {
    expression,
    next,
    periodAt: (at) => {
      const n = next(at);
      return n === undefined ? MINUTE : n - at;
    },
  };
}
