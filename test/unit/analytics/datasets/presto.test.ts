import { translatePresto } from '../../../../analytics/datasets/presto.js';

describe('translatePresto', () => {
  test('renames the Presto functions DuckDB knows under another name', () => {
    expect(translatePresto('SELECT from_unixtime(ts), JSON_EXTRACT_SCALAR(p, \'$.a\'), regexp_like(x, \'a\'), approx_percentile(v, 0.5), cardinality (arr) FROM t'))
      .toBe('SELECT to_timestamp(ts), json_extract_string(p, \'$.a\'), regexp_matches(x, \'a\'), approx_quantile(v, 0.5), len (arr) FROM t');
  });

  test('turns back-quoted identifiers into double-quoted ones', () => {
    expect(translatePresto('SELECT `_private`, `a"b`, `x``y` FROM `myDataStore123`')).toBe('SELECT "_private", "a""b", "x`y" FROM "myDataStore123"');
  });

  test('never rewrites inside string literals, quoted identifiers or comments', () => {
    const sql = "SELECT 'from_unixtime(1) `x`' AS s, \"cardinality\" FROM t -- from_unixtime(2)\n/* regexp_like(a) */";
    expect(translatePresto(sql)).toBe(sql);
    expect(translatePresto("SELECT 'O''Reilly', from_unixtime(0)")).toBe("SELECT 'O''Reilly', to_timestamp(0)");
  });

  test('a column that shares a function name is left alone when it is not called', () => {
    expect(translatePresto('SELECT cardinality FROM t')).toBe('SELECT cardinality FROM t');
  });
});
