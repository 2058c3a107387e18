import { parseSchedule } from '../../../../analytics/datasets/schedule.js';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('parseSchedule', () => {
  test('rate() fires at whole multiples of its period since the epoch', () => {
    const s = parseSchedule('rate(15 minutes)');
    expect(iso(s.next(t('2024-03-01T10:07:30Z')))).toBe('2024-03-01T10:15:00.000Z');
    expect(iso(s.next(t('2024-03-01T10:15:00Z')))).toBe('2024-03-01T10:30:00.000Z');
    expect(s.periodAt(0)).toBe(15 * 60_000);
    expect(iso(parseSchedule('rate(1 day)').next(t('2024-03-01T10:00:00Z')))).toBe('2024-03-02T00:00:00.000Z');
  });

  test('cron() follows EventBridge fields in UTC', () => {
    expect(iso(parseSchedule('cron(0/15 * * * ? *)').next(t('2024-03-01T10:29:59Z')))).toBe('2024-03-01T10:30:00.000Z');
    expect(iso(parseSchedule('cron(0 12 * * ? *)').next(t('2024-03-01T12:00:00Z')))).toBe('2024-03-02T12:00:00.000Z');
    // 1 = Sunday; MON-FRI names
    expect(iso(parseSchedule('cron(30 8 ? * MON-FRI *)').next(t('2024-03-01T09:00:00Z')))).toBe('2024-03-04T08:30:00.000Z');
    expect(iso(parseSchedule('cron(0 0 ? * 1 *)').next(t('2024-03-01T00:00:00Z')))).toBe('2024-03-03T00:00:00.000Z');
    expect(iso(parseSchedule('cron(0 0 1 JAN,JUL ? 2025)').next(t('2024-03-01T00:00:00Z')))).toBe('2025-01-01T00:00:00.000Z');
  });

  test('cron() supports L, W and # in the day fields', () => {
    expect(iso(parseSchedule('cron(0 0 L * ? *)').next(t('2024-02-10T00:00:00Z')))).toBe('2024-02-29T00:00:00.000Z');
    // 2024-06-15 is a Saturday → Friday the 14th
    expect(iso(parseSchedule('cron(0 0 15W * ? *)').next(t('2024-06-01T00:00:00Z')))).toBe('2024-06-14T00:00:00.000Z');
    // the second Tuesday (3) of March 2024 is the 12th
    expect(iso(parseSchedule('cron(0 0 ? * 3#2 *)').next(t('2024-03-01T00:00:00Z')))).toBe('2024-03-12T00:00:00.000Z');
    // the last Friday (6) of March 2024 is the 29th
    expect(iso(parseSchedule('cron(0 0 ? * 6L *)').next(t('2024-03-01T00:00:00Z')))).toBe('2024-03-29T00:00:00.000Z');
  });

  test('a cron period is the time to its next fire', () => {
    expect(parseSchedule('cron(0/15 * * * ? *)').periodAt(t('2024-03-01T10:30:00Z'))).toBe(15 * 60_000);
  });

  test('a schedule that never fires again has no next time', () => {
    expect(parseSchedule('cron(0 0 1 1 ? 1999)').next(t('2024-01-01T00:00:00Z'))).toBeUndefined();
  });

  test.each([
    ['rate(0 minutes)'],
    ['rate(5 seconds)'],
    ['cron(0 * * * * *)'],
    ['cron(0 * ? * ? *)'],
    ['cron(61 * * * ? *)'],
    ['cron(0 * * *)'],
    ['every minute'],
  ])('%s is refused with InvalidRequestException', (expression) => {
    expect(() => parseSchedule(expression)).toThrow(expect.objectContaining({ code: 'InvalidRequestException' }));
  });
});
