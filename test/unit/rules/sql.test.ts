// SQL semantics through evaluateRuleSql: parsing errors, Undefined propagation, WHERE, operators,
// functions and version differences.
import { compileRuleSql, evaluateRuleSql, RulesError, type SqlVersion } from '../../../rules/index.js';
import { jsonMessage } from './helpers.js';

function run(sql: string, payload: unknown = {}, version: SqlVersion = '2016-03-23', topic = 'a/b'): unknown {
  const r = evaluateRuleSql({ sql, version, message: jsonMessage(topic, payload), now: () => 1234 });
  if (!r.fired) return null;
  const text = r.output!.toString('utf8');
  return text === '' ? '' : JSON.parse(text);
}

function parseError(sql: string, version: SqlVersion = '2016-03-23'): RulesError {
  try {
    compileRuleSql(sql, version);
  } catch (e) {
    if (e instanceof RulesError) return e;
    throw e;
  }
  throw new Error(`expected ${sql} to be rejected`);
}

describe('SQL parse errors', () => {
  it('reports SqlParseException with HTTP 400 and the 1-based position of the problem', () => {
    const e = parseError("SELECT a FROM 'x' WHERE a >");
    expect(e.code).toBe('SqlParseException');
    expect(e.statusCode).toBe(400);
    expect(e.message).toContain('position 28');
    expect(e.message).toContain('end of statement');
  });

  it('names the offending token in the middle of a statement', () => {
    const e = parseError("SELECT a, FROM 'x'");
    expect(e.message).toMatch(/position 11: .*'FROM'/);
  });

  it('requires the FROM topic filter in single quotes', () => {
    expect(parseError('SELECT a FROM "x/y"').message).toMatch(/position 15: FROM expects a topic filter/);
    expect(parseError('SELECT a FROM x').message).toContain('position 15');
  });

  it('rejects a topic filter with a misplaced wildcard', () => {
    expect(parseError("SELECT a FROM 'a/#/b'").message).toContain("'#' must be the last level");
    expect(parseError("SELECT a FROM 'a/b+'").message).toContain("'+' must stand alone");
  });

  it('rejects unknown functions and wrong argument counts at the function name', () => {
    expect(parseError("SELECT nosuch(a) AS r FROM 'x'").message).toMatch(/position 8: unknown function nosuch/);
    expect(parseError("SELECT upper(a, b) AS r FROM 'x'").message).toMatch(/position 8: function upper\(\) takes 1 argument/);
  });

  it('rejects an unterminated string at its opening quote', () => {
    expect(parseError("SELECT a FROM 'x' WHERE b = 'abc").message).toMatch(/position 29: unterminated string/);
  });

  it('rejects 2016-03-23 features under SQL 2015-10-08', () => {
    expect(parseError("SELECT [1, 2] AS r FROM 'x'", '2015-10-08').message).toContain('2016-03-23');
    expect(parseError("SELECT isUndefined(a) AS r FROM 'x'", '2015-10-08').message).toContain('2016-03-23');
    expect(parseError("SELECT cast(a AS Bool) AS r FROM 'x'", '2015-10-08').message).toContain('unknown cast type BOOL');
  });

  it('accepts keywords and function names in any case', () => {
    expect(run("select Upper(color) as c from 'a/b' where TEMP > 1", { color: 'red', TEMP: 2 })).toEqual({ c: 'RED' });
  });
});

describe('Undefined propagation', () => {
  it('omits keys whose value is Undefined', () => {
    expect(run("SELECT color, size FROM 'a/b'", { color: 'red' })).toEqual({ color: 'red' });
  });

  it('gives Undefined for a path through a missing or non-object attribute', () => {
    expect(run("SELECT a.b.c AS r, x.y AS s FROM 'a/b'", { a: { b: 5 }, x: 'text' })).toEqual({});
  });

  it('propagates Undefined through operators and functions', () => {
    expect(run("SELECT nothere + 1 AS a, upper(nothere) AS b, abs(nothere) AS c, nothere = 1 AS d FROM 'a/b'")).toEqual({});
  });

  it('tells Null from Undefined', () => {
    expect(run("SELECT isNull(n) AS a, isUndefined(n) AS b, isNull(m) AS c, isUndefined(m) AS d, n AS e FROM 'a/b'", { n: null })).toEqual({
      a: true, b: false, c: false, d: true, e: null,
    });
  });

  it('reads VALUE as the keyword only when an expression follows it', () => {
    const payload = { value: 4, v: { x: 1 } };
    expect(run("SELECT VALUE v FROM 'a/b'", payload)).toEqual({ x: 1 });
    expect(run("SELECT VALUE value FROM 'a/b'", payload)).toBe(4);
    expect(run("SELECT value FROM 'a/b'", payload)).toEqual({ value: 4 });
    expect(run("SELECT value * 2 AS d, value FROM 'a/b'", payload)).toEqual({ d: 8, value: 4 });
  });

  it('serializes a bare Undefined from SELECT VALUE as an empty payload', () => {
    expect(run("SELECT VALUE nothere FROM 'a/b'")).toBe('');
  });
});

describe('WHERE', () => {
  it('fires only when the condition is exactly true', () => {
    expect(run("SELECT * FROM 'a/b' WHERE t > 50", { t: 51 })).toEqual({ t: 51 });
    expect(run("SELECT * FROM 'a/b' WHERE t > 50", { t: 50 })).toBeNull();
    expect(run("SELECT * FROM 'a/b' WHERE t > 50", {})).toBeNull(); // Undefined
    expect(run("SELECT * FROM 'a/b' WHERE t", { t: 'yes' })).toBeNull(); // not a Boolean
    expect(run("SELECT * FROM 'a/b' WHERE t", { t: 'true' })).toBeNull(); // a String, not Boolean true
    expect(run("SELECT * FROM 'a/b' WHERE t AND true", { t: 'TRUE' })).toEqual({ t: 'TRUE' }); // AND converts "true"
  });

  it('combines conditions with AND, OR, NOT and parentheses', () => {
    const sql = "SELECT id FROM 'a/b' WHERE NOT (kind = 'x' OR kind = 'y') AND (level >= 3 OR urgent = true)";
    expect(run(sql, { id: 1, kind: 'z', level: 3, urgent: false })).toEqual({ id: 1 });
    expect(run(sql, { id: 2, kind: 'z', level: 1, urgent: true })).toEqual({ id: 2 });
    expect(run(sql, { id: 3, kind: 'x', level: 9, urgent: true })).toBeNull();
    expect(run(sql, { id: 4, kind: 'z', level: 1, urgent: false })).toBeNull();
  });

  it('treats an Undefined operand of AND/OR as Undefined, even when the other side decides (spec table)', () => {
    expect(run("SELECT * FROM 'a/b' WHERE a = 1 OR nothere = 1", { a: 1 })).toBeNull();
    expect(run("SELECT true OR nothere AS r, false AND nothere AS s FROM 'a/b'")).toEqual({});
  });

  it('cannot see SELECT aliases', () => {
    expect(run("SELECT t AS alias FROM 'a/b' WHERE alias = 1", { t: 1 })).toBeNull();
  });

  it('does not fire for a topic outside the FROM filter', () => {
    const r = evaluateRuleSql({ sql: "SELECT * FROM 'a/+'", version: '2016-03-23', message: jsonMessage('a/b/c', {}) });
    expect(r).toEqual({ matched: false, fired: false });
  });
});

describe('operators and literals', () => {
  it('keeps Int arithmetic Int and mixes to Decimal', () => {
    // 2016-03-23 processes whole-number decimals such as 7.0 as Int.
    expect(run("SELECT 7 / 2 AS a, 7.0 / 2 AS b, 7 / 2.5 AS c, 2 * 3 + 1 AS d, 2 * (3 + 1) AS e, -5 % 3 AS f, 1 / 0 AS g FROM 'a/b'")).toEqual({
      a: 3, b: 3, c: 2.8, d: 7, e: 8, f: -2,
    });
  });

  it('concatenates when either side of + is a string', () => {
    expect(run("SELECT '5' + 3 AS a, 3 + '5' AS b, '10' - 3 AS c, true + 1 AS d FROM 'a/b'")).toEqual({ a: '53', b: '35', c: 7 });
  });

  it('compares values of different types as unequal and Undefined as Undefined', () => {
    expect(run("SELECT 5 = '5' AS a, 5 <> '5' AS b, [1, 2] = [1, 2] AS c, {'a': 1} = {\"a\": 1} AS d, x = x AS e FROM 'a/b'")).toEqual({
      a: false, b: true, c: true, d: true,
    });
  });

  it('reads numbers in exponent form and both string quotes', () => {
    expect(run("SELECT 1E3 AS a, 2.5e-1 AS b, \"dq\" AS c, 'it''s' AS d FROM 'a/b'")).toEqual({ a: 1000, b: 0.25, c: 'dq', d: "it's" });
  });

  it('builds array and object literals and reads keyword-named attributes', () => {
    expect(run("SELECT [value, timestamp] AS a, {'k': key} AS o FROM 'a/b'", { value: 1, timestamp: 2, key: 3 })).toEqual({ a: [1, 2], o: { k: 3 } });
  });

  it('evaluates simple CASE and yields Undefined without a match or ELSE', () => {
    const sql = "SELECT CASE c WHEN 'g' THEN 'go' WHEN 'r' THEN 'stop' END AS r FROM 'a/b'";
    expect(run(sql, { c: 'r' })).toEqual({ r: 'stop' });
    expect(run(sql, { c: 'x' })).toEqual({});
  });

  it('merges * with extra items and aliases * as a whole', () => {
    expect(run("SELECT *, 15 AS speed FROM 'a/b'", { c: 1 })).toEqual({ c: 1, speed: 15 });
    expect(run("SELECT * AS all FROM 'a/b'", { c: 1 })).toEqual({ all: { c: 1 } });
  });

  it('runs nested SELECTs over arrays of the message', () => {
    const payload = { e: [{ n: 't', v: 1 }, { n: 'h', v: 2 }, { n: 't', v: 3 }] };
    expect(run("SELECT (SELECT VALUE v FROM e WHERE n = 't') AS ts FROM 'a/b'", payload)).toEqual({ ts: [1, 3] });
  });

  it('assigns SET variables once and lets later ones use earlier ones', () => {
    expect(run("SET @f = t * 2, @g = @f + 1 SELECT @g AS g FROM 'a/b' WHERE @f > 3", { t: 2 })).toEqual({ g: 5 });
  });
});

describe('functions', () => {
  it('reads the topic and its 1-based levels', () => {
    expect(run("SELECT topic() AS t, topic(2) AS t2, topic(9) AS t9 FROM 'a/#'", {}, '2016-03-23', 'a/b/c')).toEqual({ t: 'a/b/c', t2: 'b' });
  });

  it('rounds halves away from zero and floors/ceils to Int', () => {
    expect(run("SELECT round(2.5) AS a, round(-2.5) AS b, floor(-1.2) AS c, ceil(1.2) AS d, abs('-5.5') AS e FROM 'a/b'")).toEqual({
      a: 3, b: -3, c: -2, d: 2, e: 5.5,
    });
  });

  it('casts between types as documented', () => {
    expect(run("SELECT cast('5.7' AS Int) AS a, cast(true AS Int) AS b, cast(0 AS Boolean) AS c, cast(12 AS String) AS d, cast('x' AS Int) AS e, cast(topic(2) AS DECIMAL) AS f FROM 'a/+'", {}, '2016-03-23', 'a/32')).toEqual({
      a: 5, b: 1, c: false, d: '12', e: undefined, f: 32,
    });
  });

  it('concatenates strings and flattens arrays', () => {
    expect(run("SELECT concat('a', 1, true) AS s, concat([1], 2, [3]) AS arr FROM 'a/b'")).toEqual({ s: 'a1true', arr: [1, 2, 3] });
  });

  it('returns Undefined for arguments of the wrong type', () => {
    expect(run("SELECT abs(true) AS a, floor([1]) AS b, upper(nothere) AS c, sqrt(-1) AS d FROM 'a/b'")).toEqual({});
  });

  it('uses the injected clock for timestamp()', () => {
    expect(run("SELECT timestamp() AS t FROM 'a/b'")).toEqual({ t: 1234 });
  });
});

describe('date functions', () => {
  it('formats epoch milliseconds with a Joda pattern in UTC by default and in a named zone', () => {
    expect(run("SELECT parse_time('yyyy-MM-dd HH:mm:ss.SSS', 1196705730592) AS a, parse_time('EEE, d MMM yyyy hh:mm a Z', 0, 'America/New_York') AS b FROM 'a/b'")).toEqual({
      a: '2007-12-03 18:15:30.592',
      b: 'Wed, 31 Dec 1969 07:00 PM -0500',
    });
  });

  it('parses text to epoch milliseconds, as UTC when the text names no zone', () => {
    expect(run("SELECT time_to_epoch('18 December 2015', 'dd MMMM yyyy') AS a, time_to_epoch('2015-12-18T01:00:00+01:00', \"yyyy-MM-dd'T'HH:mm:ssXXX\") AS b FROM 'a/b'")).toEqual({
      a: 1450396800000,
      b: 1450396800000,
    });
  });

  it('gives Undefined for an unknown zone or an unparseable text', () => {
    expect(run("SELECT parse_time('yyyy', 0, 'Nowhere/City') AS a, time_to_epoch('yesterday', 'yyyy-MM-dd') AS b FROM 'a/b'")).toEqual({});
  });
});

describe('hostile and unsupported input', () => {
  it('never lets a __proto__ key change an output object prototype', () => {
    const r = evaluateRuleSql({ sql: "SELECT *, {'__proto__': {'polluted': 1}} AS o FROM 'a/b'", version: '2016-03-23', message: { topic: 'a/b', payload: Buffer.from('{"__proto__": {"x": 1}, "a": 2}'), receivedAt: 0 } });
    expect(r.output!.toString()).toBe('{"__proto__":{"x":1},"a":2,"o":{"__proto__":{"polluted":1}}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('names AWS service functions as not supported rather than unknown', () => {
    expect(parseError("SELECT get_secret('k', 'SecretString', 'v', 'arn') AS s FROM 'x'").message).toContain('get_secret() is not supported');
    expect(parseError("SELECT get_thing_shadow('t', 'arn') AS s FROM 'x'").message).toContain('get_thing_shadow() is not available');
    expect(parseError("SELECT constructor(1) AS s FROM 'x'").message).toContain('unknown function constructor');
  });
});

describe('digests', () => {
  it('computes MD2 as RFC 1319 specifies (its own test suite) and the SHA family via node:crypto', () => {
    expect(run("SELECT md2('') AS a, md2('abc') AS b, md2('message digest') AS c, sha256('') AS d, md5(1) AS e FROM 'a/b'")).toEqual({
      a: '8350e5a3e24c153df2275c9f80692773',
      b: 'da853b0d3f88d99b30283a69e6ded6bb',
      c: 'ab4f496bfb2a530b219ff33031fe06b0',
      d: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      e: 'c4ca4238a0b923820dcc509a6f75849b',
    });
  });
});

describe('SQL versions: whole-number decimals', () => {
  function text(sql: string, payload: string, version: SqlVersion): string | undefined {
    const r = evaluateRuleSql({ sql, version, message: { topic: 'a/b', payload: Buffer.from(payload), receivedAt: 0 } });
    return r.output?.toString('utf8');
  }

  it('keeps 10.0 a Decimal under 2015-10-08 and makes it the Int 10 under 2016-03-23', () => {
    const payload = '{"x": 10.0, "n": 10, "s": "10.0", "e": 1E3, "neg": -4.0, "deep": [{"y": 2.0}]}';
    expect(text("SELECT * FROM 'a/b'", payload, '2015-10-08')).toBe('{"x":10.0,"n":10,"s":"10.0","e":1000.0,"neg":-4.0,"deep":[{"y":2.0}]}');
    expect(text("SELECT * FROM 'a/b'", payload, '2016-03-23')).toBe('{"x":10,"n":10,"s":"10.0","e":1000,"neg":-4,"deep":[{"y":2}]}');
  });

  it('divides a whole decimal as a Decimal only under 2015-10-08', () => {
    const payload = '{"x": 10.0}';
    expect(text("SELECT x / 4 AS q, x = 10 AS eq, -x AS neg, cast(x AS String) AS s FROM 'a/b'", payload, '2015-10-08')).toBe('{"q":2.5,"eq":true,"neg":-10.0,"s":"10.0"}');
    expect(text("SELECT x / 4 AS q, x = 10 AS eq, -x AS neg, cast(x AS String) AS s FROM 'a/b'", payload, '2016-03-23')).toBe('{"q":2,"eq":true,"neg":-10,"s":"10"}');
  });

  it('keeps Decimal arithmetic Decimal under 2015-10-08 even when the result is whole', () => {
    expect(text("SELECT 2.5 + 2.5 AS a, 7 / 2 AS b, 1.0 * 3 AS c, 3 + 4 AS d FROM 'a/b'", '{}', '2015-10-08')).toBe('{"a":5.0,"b":3,"c":3.0,"d":7}');
    expect(text("SELECT 2.5 + 2.5 AS a, 7 / 2 AS b, 1.0 * 3 AS c, 3 + 4 AS d FROM 'a/b'", '{}', '2016-03-23')).toBe('{"a":5,"b":3,"c":3,"d":7}');
  });
});

describe('regular expression functions', () => {
  it('answer a pattern that backtracks catastrophically in linear time instead of hanging the engine', () => {
    const text = `${'a'.repeat(50_000)}!`;
    expect(run(`SELECT regexp_matches(s, '^(a+)+$') AS r FROM 'a/b'`, { s: text })).toEqual({ r: false });
    expect(run(`SELECT regexp_matches(s, '^(a|aa)+!$') AS r FROM 'a/b'`, { s: text })).toEqual({ r: true });
  });

  it('replace every match with groups and find the first match, patterns taken from the payload', () => {
    expect(run(`SELECT regexp_replace(s, p, '<$1>') AS r FROM 'a/b'`, { s: 'id-12 id-345', p: 'id-([0-9]+)' })).toEqual({ r: '<12> <345>' });
    expect(run(`SELECT regexp_substr(s, '[0-9]+') AS r FROM 'a/b'`, { s: 'id-12 id-345' })).toEqual({ r: '12' });
  });

  it('give Undefined for an invalid pattern or one RE2 cannot run in linear time (a backreference)', () => {
    expect(run(`SELECT regexp_matches('aa', '(a') AS r FROM 'a/b'`)).toEqual({});
    expect(run(`SELECT regexp_matches('aa', '(a)\\\\1') AS r FROM 'a/b'`)).toEqual({});
  });
});
