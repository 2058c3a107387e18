import { compileFilter, compileMath } from '../../../../analytics/pipelines/index.js';
import { compileExpression } from '../../../../analytics/pipelines/expr/compile.js';

const ev = (src: string, m: Record<string, unknown> = {}) => compileExpression(src, 'filter')(m);
const math = (src: string, m: Record<string, unknown> = {}) => compileMath(src)(m);

describe('filter expression language', () => {
  it('follows operator precedence: NOT > AND > OR, arithmetic before comparison', () => {
    expect(ev('1 + 2 * 3 = 7')).toBe(true);
    expect(ev('(1 + 2) * 3 = 9')).toBe(true);
    expect(ev('true OR false AND false')).toBe(true);
    expect(ev('NOT true OR true')).toBe(true);
    expect(ev('NOT (true OR true)')).toBe(false);
  });

  it('treats keywords case-insensitively and accepts != as <>', () => {
    expect(ev('a > 1 and b < 2', { a: 2, b: 1 })).toBe(true);
    expect(ev('a != 1', { a: 2 })).toBe(true);
    expect(ev('a <> 2', { a: 2 })).toBe(false);
  });

  it('compares ordering on numbers and numeric strings, Undefined otherwise', () => {
    expect(ev("a > '10'", { a: 11 })).toBe(true);
    expect(ev('a >= 1.5', { a: '1.5' })).toBe(true);
    expect(ev("a > 'abc'", { a: 1 })).toBeUndefined();
    expect(ev('a > 1', { a: true })).toBeUndefined();
    expect(ev('missing > 1', {})).toBeUndefined();
  });

  it('makes = false for mismatched types and compares numbers by value', () => {
    expect(ev("a = '5'", { a: 5 })).toBe(false);
    expect(ev('a = 5.0', { a: 5 })).toBe(true);
    expect(ev("s = 'it''s'", { s: "it's" })).toBe(true);
    expect(ev('o = p', { o: { x: 1, y: [1, 2] }, p: { y: [1, 2], x: 1 } })).toBe(true);
    expect(ev('missing = 1')).toBeUndefined();
    expect(ev('n = null', { n: null })).toBe(true);
  });

  it('uses three-valued logic: false wins over Undefined in AND, true in OR', () => {
    expect(ev('missing > 1 AND false')).toBe(false);
    expect(ev('missing > 1 AND true')).toBeUndefined();
    expect(ev('missing > 1 OR true')).toBe(true);
    expect(ev('missing > 1 OR false')).toBeUndefined();
    expect(ev('NOT missing')).toBeUndefined();
    expect(ev("flag AND 'TRUE'", { flag: 'true' })).toBe(true);
  });

  it('reads dotted paths, array indexes and case-insensitive names', () => {
    expect(ev('d.v[1] = 20', { d: { v: [10, 20] } })).toBe(true);
    expect(ev('TEMP = 3', { temp: 3 })).toBe(true);
    expect(ev('`and` = 1', { and: 1 })).toBe(true);
  });

  it('passes only Boolean true through compileFilter', () => {
    expect(compileFilter("'true'")({})).toBe(false);
    expect(compileFilter('1')({})).toBe(false);
    expect(compileFilter('1 = 1')({})).toBe(true);
  });

  it('rejects malformed expressions at compile time with a position', () => {
    for (const bad of ['', 'a >', '(a', "'open", 'a ! b', 'AND a', 'a b']) {
      expect(() => compileExpression(bad, 'filter')).toThrow(expect.objectContaining({ code: 'InvalidRequestException' }));
    }
    expect(() => compileExpression('a > ', 'filter')).toThrow(/position/);
  });
});

describe('math expression language', () => {
  it('evaluates arithmetic with decimal division and whole results as integers', () => {
    expect(math('((temp - 32) * 5.0) / 9.0', { temp: 68 })).toBe(20);
    expect(math('7 / 2')).toBe(3.5);
    expect(math('7 % 3')).toBe(1);
    expect(math('-7 % 3')).toBe(-1);
    expect(math('-(2 + 3)')).toBe(-5);
    expect(math('1.5e2')).toBe(150);
  });

  it('makes division or modulo by zero Undefined', () => {
    expect(math('1 / 0')).toBeUndefined();
    expect(math('1 % 0')).toBeUndefined();
    expect(math('mod(1, 0)')).toBeUndefined();
  });

  it('returns Undefined for non-numeric operands and out-of-domain functions', () => {
    expect(math('a + 1', { a: 'abc' })).toBeUndefined();
    expect(math('a + 1', { a: true })).toBeUndefined();
    expect(math('a + 1', { a: null })).toBeUndefined();
    expect(math('a + 1', { a: [1] })).toBeUndefined();
    expect(math('acos(2)')).toBeUndefined();
    expect(math('ln(0)')).toBeUndefined();
    expect(math('a', { a: '12' })).toBe(12);
    expect(math('a', { a: '1e3' })).toBe(1000);
    expect(math('a', { a: '1.' })).toBeUndefined();
  });

  it('implements the documented functions', () => {
    expect(math('round(-1.5)')).toBe(-2);
    expect(math('round(2.5)')).toBe(3);
    expect(math('round(-1.4)')).toBe(-1);
    expect(math('ceil(-1.2)')).toBe(-1);
    expect(math('trunc(-2.888, 2)')).toBe(-2.88);
    expect(math('trunc(2.5, -3)')).toBe(2);
    expect(math('trunc(1.23456, 99)')).toBe(1.23456);
    expect(math('atan2(1, 0)')).toBe(Math.PI / 2);
    expect(math('log(1000)')).toBe(3);
    expect(math('ln(exp(2))')).toBe(2);
    expect(math('power(2, 0.5)')).toBe(Math.SQRT2);
    expect(math('sign(0)')).toBe(0);
    expect(math('abs(a)', { a: '-3' })).toBe(3);
  });

  it('refuses boolean logic, comparisons and string literals', () => {
    for (const bad of ['a AND b', 'a = 1', "'x'", 'NOT a', 'true']) {
      expect(() => compileMath(bad)).toThrow(/math expression/);
    }
  });
});
