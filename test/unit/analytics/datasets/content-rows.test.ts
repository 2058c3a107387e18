import { contentRows, parseCsv } from '../../../../analytics/datasets/content-rows.js';
import { toCsv } from '../../../../analytics/datasets/csv.js';
import { isAnalyticsError } from '../../../../analytics/index.js';

describe('contentRows: dataset content as the rows IoT Events would receive', () => {
  test('each data row becomes one object keyed by the header, values kept as CSV text', () => {
    expect(contentRows('"what","n"\n"overflow","3"\n')).toEqual([{ what: 'overflow', n: '3' }]);
  });

  test('reads back what toCsv writes: quotes, commas, line breaks inside fields, empty NULLs', () => {
    const csv = toCsv([{ name: 'a' }, { name: 'b,c' }], [['x "y"', null], ['line\nbreak', 1.5]]);
    expect(contentRows(csv)).toEqual([
      { a: 'x "y"', 'b,c': '' },
      { a: 'line\nbreak', 'b,c': '1.5' },
    ]);
  });

  test('a header without data rows gives no messages, and neither does an empty content', () => {
    expect(contentRows('n\r\n')).toEqual([]);
    expect(contentRows('')).toEqual([]);
  });

  test('a short row fills the missing cells with empty text', () => {
    expect(contentRows('a,b\n1\n')).toEqual([{ a: '1', b: '' }]);
  });

  test('a final line end does not add an empty record, but an empty last field is kept', () => {
    expect(parseCsv('a,b\r\n1,\r\n')).toEqual([['a', 'b'], ['1', '']]);
  });

  test('a CSV that ends inside a quoted field is refused with InvalidRequestException', () => {
    let caught: unknown;
    try {
      parseCsv('a\n"open');
    } catch (e) {
      caught = e;
    }
    expect(isAnalyticsError(caught) && caught.code).toBe('InvalidRequestException');
  });
});
