// A rule's output object can go to the channel alongside its JSON text only when parsing that
// text would give the very same value back (the pipeline then skips the parse).
import { asExactJsonObject, toJson, WholeDecimal, type Value } from '../../../rules/sql/values.js';

function nested(depth: number): Value {
  let v: Value = { leaf: 1 };
  for (let i = 0; i < depth; i++) v = { v };
  return v;
}

describe('asExactJsonObject', () => {
  const exact: Array<[string, Value]> = [
    ['a parsed payload', JSON.parse('{"device":"d1","t":21.5,"n":3,"ok":true,"none":null,"tags":["a","b"],"pos":{"lat":1.5,"lon":-2}}') as Value],
    ['an empty object', {}],
    ['nesting up to the depth limit', nested(30)],
    ['unicode and escapes', { 's': 'ünï "q" \\ \u2028 \u0001' }],
  ];
  it.each(exact)('%s is handed on as itself, and its JSON text parses back to an equal value', (_name, v) => {
    expect(asExactJsonObject(v)).toBe(v);
    expect(JSON.parse(toJson(v))).toStrictEqual(v);
  });

  const changed: Array<[string, Value]> = [
    ['an Undefined member', { a: 1, gone: undefined }],
    ['an Undefined array element', { a: [1, undefined] }],
    ['an array hole', { a: [1, , 3] as Value[] }], // a sparse array literal, on purpose
    ['raw bytes', { b: Buffer.from('x') }],
    ['a whole Decimal of SQL 2015-10-08', { d: new WholeDecimal(10) }],
    ['minus zero', { z: -0 }],
    ['NaN', { x: Number.NaN }],
    ['Infinity deep inside', { a: { b: [{ c: Number.POSITIVE_INFINITY }] } }],
  ];
  it.each(changed)('%s is not handed on: the receiver parses the text instead', (_name, v) => {
    expect(asExactJsonObject(v)).toBeUndefined();
    // each of these really would come back different
    expect(JSON.parse(toJson(v))).not.toStrictEqual(v);
  });

  it('nesting past the depth limit is left to the parser, not walked', () => {
    expect(asExactJsonObject(nested(40))).toBeUndefined();
  });

  it.each([['an array', [1, 2]], ['a string', 's'], ['a number', 1], ['null', null], ['Undefined', undefined]] as Array<[string, Value]>)(
    '%s is not a JSON object and is not handed on', (_name, v) => {
      expect(asExactJsonObject(v)).toBeUndefined();
    },
  );
});
