import { cellText, chartInputOf, epochMsOf, isNumericType, isTimeType, numberOf } from '../../../dashboard/src/views/dataset-data.js';
import { errorText, formatCount, formatTime, formatValue } from '../../../dashboard/src/views/text.js';

describe('dataset content for the table and the chart', () => {
  it('recognises DuckDB time and numeric column types', () => {
    for (const t of ['TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'timestamp_ms', 'DATE']) expect(isTimeType(t)).toBe(true);
    for (const t of ['DOUBLE', 'BIGINT', 'DECIMAL(9,2)', 'float', 'UBIGINT', 'HUGEINT']) expect(isNumericType(t)).toBe(true);
    for (const t of ['VARCHAR', 'BOOLEAN', 'JSON', 'INTEGER[]']) expect(isNumericType(t)).toBe(false);
    expect(isTimeType('VARCHAR')).toBe(false);
  });

  it('reads numbers sent as text (huge BIGINTs, DECIMALs) and treats NaN text as missing', () => {
    expect(numberOf(2.5)).toBe(2.5);
    expect(numberOf('9007199254740993')).toBe(9007199254740992);
    expect(numberOf('NaN')).toBeNull();
    expect(numberOf('')).toBeNull();
    expect(numberOf(null)).toBeNull();
    expect(epochMsOf('2024-01-01T00:00:01.000Z')).toBe(Date.UTC(2024, 0, 1, 0, 0, 1));
    expect(epochMsOf('not a time')).toBeNull();
  });

  it('shows cells as text: null empty, objects as JSON', () => {
    expect(cellText(null)).toBe('');
    expect(cellText([1, 2])).toBe('[1,2]');
    expect(cellText(false)).toBe('false');
  });

  it('charts numeric columns against the first timestamp column, sorted by time, in epoch ms', () => {
    const input = chartInputOf({
      columns: [
        { name: 'deviceId', type: 'VARCHAR' },
        { name: 'minute', type: 'TIMESTAMP' },
        { name: 'avg_t', type: 'DOUBLE' },
        { name: 'n', type: 'BIGINT' },
        { name: 'later', type: 'TIMESTAMP' },
      ],
      rows: [
        ['a', '2024-01-01T00:02:00.000Z', 21.5, 3, null],
        ['a', '2024-01-01T00:01:00.000Z', null, '4', null],
        ['a', null, 99, 9, null],
      ],
    });
    const t0 = Date.UTC(2024, 0, 1, 0, 1);
    expect(input).toEqual({
      xTime: true,
      xColumn: 'minute',
      seriesLabels: ['avg_t', 'n'],
      data: [
        [t0, t0 + 60_000],
        [null, 21.5],
        [4, 3],
      ],
    });
  });

  it('charts against the row number when there is no timestamp column, and not at all without numbers', () => {
    expect(chartInputOf({ columns: [{ name: 'k', type: 'VARCHAR' }, { name: 'v', type: 'INTEGER' }], rows: [['x', 5], ['y', 7]] })).toEqual({
      xTime: false,
      seriesLabels: ['v'],
      data: [
        [0, 1],
        [5, 7],
      ],
    });
    expect(chartInputOf({ columns: [{ name: 'k', type: 'VARCHAR' }], rows: [['x']] })).toBeUndefined();
  });
});

describe('view text', () => {
  it('formats times locally as date and time, and a dash when there is none', () => {
    expect(formatTime(new Date(2024, 4, 1, 13, 4, 5).getTime())).toBe('2024-05-01 13:04:05');
    expect(formatTime(undefined)).toBe('—');
  });

  it('groups thousands of counters and trims long decimals of values', () => {
    expect(formatCount(1234567)).toBe('1\u202f234\u202f567');
    expect(formatCount(12)).toBe('12');
    expect(formatValue(21.123456789)).toBe('21.1235');
    expect(formatValue(undefined)).toBe('—');
  });

  it('shows a coded error as code and message', () => {
    expect(errorText({ code: 'ResourceNotFoundException', message: 'no such dataset', status: 404 })).toBe('ResourceNotFoundException: no such dataset');
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText('plain')).toBe('plain');
  });
});
