// Schedule triggers (spec §5.1): EventBridge `rate(...)` and 6-field `cron(...)`, in UTC.
// Behind the small `Schedule` interface so a maintained parser (croner) can replace the cron part
// without touching the scheduler.
//
// rate(N unit): fires at whole multiples of the period since the epoch (rate(1 hour) on the hour),
//   so the fire times do not depend on when the server started.
// cron(min hour day-of-month month day-of-week year): `, - * /` everywhere, `?` in exactly one
//   of the two day fields, `L` and `W` (`15W`, `LW`) in day-of-month, `L` (`6L`) and `#` (`2#1`)
//   in day-of-week; months JAN-DEC or 1-12, weekdays SUN-SAT or 1-7 (1 = Sunday).
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

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MAX_YEAR = 2199;

type DayMatcher = (year: number, month: number, day: number) => boolean;

function compileCron(expression: string, body: string): Schedule {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) throw invalid(expression, `cron needs 6 fields (minute hour day-of-month month day-of-week year), got ${fields.length}`);
  const [minF, hourF, domF, monF, dowF, yearF] = fields;
  if ((domF === '?') === (dowF === '?')) throw invalid(expression, 'exactly one of day-of-month and day-of-week must be "?"');
  const minutes = setOf(expression, 'minute', minF, 0, 59);
  const hours = setOf(expression, 'hour', hourF, 0, 23);
  const months = setOf(expression, 'month', monF, 1, 12, MONTHS, 1);
  const years = setOf(expression, 'year', yearF, 1970, MAX_YEAR);
  const dayOk: DayMatcher = domF === '?' ? dayOfWeek(expression, dowF) : dayOfMonth(expression, domF);
  const minuteList = [...minutes].sort((a, b) => a - b);
  const hourList = [...hours].sort((a, b) => a - b);

  const next = (after: number): number | undefined => {
    // the first whole minute strictly after `after`
    const from = new Date((Math.floor(after / MINUTE) + 1) * MINUTE);
    let y = from.getUTCFullYear();
    let m = from.getUTCMonth() + 1;
    let d = from.getUTCDate();
    let firstDay = true;
    while (y <= MAX_YEAR) {
      if (!years.has(y)) {
        [y, m, d] = [y + 1, 1, 1];
        firstDay = false;
        continue;
      }
      if (!months.has(m)) {
        [y, m] = m === 12 ? [y + 1, 1] : [y, m + 1];
        d = 1;
        firstDay = false;
        continue;
      }
      if (d <= daysIn(y, m) && dayOk(y, m, d)) {
        const h0 = firstDay ? from.getUTCHours() : 0;
        for (const h of hourList) {
          if (h < h0) continue;
          const min0 = firstDay && h === h0 ? from.getUTCMinutes() : 0;
          const min = minuteList.find((x) => x >= min0);
          if (min !== undefined) return Date.UTC(y, m - 1, d, h, min);
        }
      }
      firstDay = false;
      if (d >= daysIn(y, m)) {
        [y, m] = m === 12 ? [y + 1, 1] : [y, m + 1];
        d = 1;
      } else d++;
    }
    return undefined;
  };
  return {
    expression,
    next,
    periodAt: (at) => {
      const n = next(at);
      return n === undefined ? MINUTE : n - at;
    },
  };
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay(); // 0 = Sunday
}

/** `*`, `a`, `a-b`, `a/b`, `*\/b`, `a-b/c`, comma lists; names when given (index + base = value). */
function setOf(expression: string, what: string, field: string, lo: number, hi: number, names?: readonly string[], base = 0): Set<number> {
  const value = (s: string): number => {
    const named = names?.indexOf(s.toUpperCase()) ?? -1;
    const v = named >= 0 ? named + base : /^\d+$/.test(s) ? Number(s) : NaN;
    if (!(v >= lo && v <= hi)) throw invalid(expression, `${what} value "${s}" is not in ${lo}..${hi}`);
    return v;
  };
  const out = new Set<number>();
  for (const part of field.split(',')) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!m) throw invalid(expression, `bad ${what} field "${field}"`);
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) throw invalid(expression, `${what} step must be at least 1`);
    let a: number;
    let b: number;
    if (m[1] === '*') [a, b] = [lo, hi];
    else if (m[1].includes('-')) {
      const [x, y] = m[1].split('-');
      [a, b] = [value(x), value(y)];
      if (a > b) throw invalid(expression, `${what} range "${m[1]}" runs backwards`);
    } else {
      a = value(m[1]);
      b = m[2] === undefined ? a : hi;
    }
    for (let v = a; v <= b; v += step) out.add(v);
  }
  return out;
}

function dayOfMonth(expression: string, field: string): DayMatcher {
  if (field === 'L') return (y, m, d) => d === daysIn(y, m);
  if (field === 'LW') return (y, m, d) => d === nearestWeekday(y, m, daysIn(y, m));
  const w = /^(\d{1,2})W$/.exec(field);
  if (w) {
    const target = Number(w[1]);
    if (target < 1 || target > 31) throw invalid(expression, `day-of-month "${field}" is not in 1..31`);
    return (y, m, d) => d === nearestWeekday(y, m, Math.min(target, daysIn(y, m)));
  }
  const days = setOf(expression, 'day-of-month', field, 1, 31);
  return (_y, _m, d) => days.has(d);
}

/** The weekday nearest to `day` without leaving the month (Quartz/EventBridge `W`). */
function nearestWeekday(y: number, m: number, day: number): number {
  const wd = weekday(y, m, day);
  if (wd === 6) return day === 1 ? 3 : day - 1; // Saturday → Friday (or Monday the 3rd)
  if (wd === 0) return day === daysIn(y, m) ? day - 2 : day + 1; // Sunday → Monday (or Friday)
  return day;
}

function dayOfWeek(expression: string, field: string): DayMatcher {
  const dayValue = (s: string): number => [...setOf(expression, 'day-of-week', s, 1, 7, DAYS, 1)][0];
  if (field === 'L') return (y, m, d) => weekday(y, m, d) === 6;
  const last = /^(\w+)L$/.exec(field);
  if (last) {
    const wd = dayValue(last[1]) - 1;
    return (y, m, d) => weekday(y, m, d) === wd && d + 7 > daysIn(y, m);
  }
  const nth = /^(\w+)#([1-5])$/.exec(field);
  if (nth) {
    const wd = dayValue(nth[1]) - 1;
    const k = Number(nth[2]);
    return (y, m, d) => weekday(y, m, d) === wd && Math.ceil(d / 7) === k;
  }
  const days = setOf(expression, 'day-of-week', field, 1, 7, DAYS, 1);
  return (y, m, d) => days.has(weekday(y, m, d) + 1);
}
