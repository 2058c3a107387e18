import { convertForColumn, inferColumnType, MISMATCH, quoteIdentifier, TableSchema, DT_COLUMN } from '../../../../analytics/datastore/schema.js';

describe('datastore schema rules', () => {
  it('infers DOUBLE for every number, integers included, so a later fraction is never lost', () => {
    expect(inferColumnType(21)).toBe('DOUBLE');
    expect(inferColumnType(21.5)).toBe('DOUBLE');
    expect(convertForColumn(21.5, 'DOUBLE')).toBe(21.5);
    expect(convertForColumn(2 ** 53 + 2, 'DOUBLE')).toBe(2 ** 53 + 2);
  });

  it('infers VARCHAR, BOOLEAN and JSON for strings, booleans, objects and arrays, and nothing for null', () => {
    expect(inferColumnType('x')).toBe('VARCHAR');
    expect(inferColumnType(false)).toBe('BOOLEAN');
    expect(inferColumnType({ a: 1 })).toBe('JSON');
    expect(inferColumnType([1, 2])).toBe('JSON');
    expect(inferColumnType(null)).toBeUndefined();
  });

  it('converts losslessly into VARCHAR and JSON columns', () => {
    expect(convertForColumn(1e21, 'VARCHAR')).toBe('1e+21');
    expect(Number(convertForColumn(0.1 + 0.2, 'VARCHAR'))).toBe(0.1 + 0.2);
    expect(convertForColumn(true, 'VARCHAR')).toBe('true');
    expect(convertForColumn({ a: [1] }, 'VARCHAR')).toBe('{"a":[1]}');
    expect(convertForColumn('abc', 'JSON')).toBe('"abc"');
    expect(convertForColumn({ a: null }, 'JSON')).toBe('{"a":null}');
  });

  it('reports a mismatch instead of guessing when a value does not fit its column', () => {
    expect(convertForColumn('21.5', 'DOUBLE')).toBe(MISMATCH);
    expect(convertForColumn(true, 'DOUBLE')).toBe(MISMATCH);
    expect(convertForColumn(1, 'BOOLEAN')).toBe(MISMATCH);
    expect(convertForColumn(1.5, 'BIGINT')).toBe(MISMATCH);
    expect(convertForColumn(Number.NaN, 'JSON')).toBe(MISMATCH);
    expect(convertForColumn(null, 'DOUBLE')).toBeNull();
  });

  it('maps attribute names to columns case-insensitively, keeping the first spelling', () => {
    const schema = new TableSchema([{ name: DT_COLUMN, type: 'TIMESTAMP' }]);
    const additions = schema.plan([{ Temp: 1 }, { temp: 2, TEMP: 3, other: 'x' }]);
    expect(additions).toEqual([
      { name: 'Temp', type: 'DOUBLE' },
      { name: 'other', type: 'VARCHAR' },
    ]);
    for (const c of additions) schema.add(c);
    expect(schema.indexOf('TEMP')).toBe(1);
    expect(schema.indexOf('__DT')).toBe(0);
  });

  it('plans no column for null values, unusable names, __dt or attributes over the column cap', () => {
    const schema = new TableSchema([{ name: DT_COLUMN, type: 'TIMESTAMP' }], 2);
    expect(schema.plan([{ a: null, '': 1, __dt: 5, b: 1, c: 2 }])).toEqual([{ name: 'b', type: 'DOUBLE' }]);
  });

  it('quotes identifiers by doubling embedded double quotes', () => {
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
  });
});
