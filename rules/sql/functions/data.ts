// Functions about values themselves: presence tests, access, encoding, array enrichment.
import type { FunctionTable } from './registry.js';
import { isObject, toInt, toStr, type Obj, type Value } from '../values.js';

/** Base64 text to a value: JSON bytes become an addressable value, other text a String. */
function decodeBase64(text: string): Value {
  const bytes = Buffer.from(text, 'base64');
  const utf8 = bytes.toString('utf8');
  try {
    return JSON.parse(utf8) as Value;
  } catch {
    return utf8;
  }
}

export const dataFunctions: FunctionTable = {
  isundefined: { min: 1, max: 1, v2: true, takesUndefined: true, call: ([a]) => a === undefined },
  isnull: { min: 1, max: 1, takesUndefined: true, call: ([a]) => a === null },
  get_or_default: { min: 2, max: 2, takesUndefined: true, call: ([a, d]) => (a === undefined ? d : a) },
  get: {
    min: 2, max: 2,
    call([coll, key]) {
      if (Array.isArray(coll)) {
        const i = toInt(key);
        return typeof i === 'number' && i >= 0 && i < coll.length ? coll[i] : undefined;
      }
      if (typeof coll === 'string') {
        const i = toInt(key);
        return typeof i === 'number' && i >= 0 && i < coll.length ? coll[i] : undefined;
      }
      if (isObject(coll) && typeof key === 'string') return Object.prototype.hasOwnProperty.call(coll, key) ? coll[key] : undefined;
      return undefined;
    },
  },
  encode: {
    min: 2, max: 2, v2: true,
    call([v, scheme]) {
      if (typeof scheme !== 'string' || scheme.toLowerCase() !== 'base64') return undefined;
      if (Buffer.isBuffer(v)) return v.toString('base64');
      const s = toStr(v);
      return s === undefined ? undefined : Buffer.from(s, 'utf8').toString('base64');
    },
  },
  decode: {
    min: 2, max: 2, v2: true,
    call([v, scheme]) {
      if (typeof scheme !== 'string' || scheme.toLowerCase() !== 'base64') return undefined;
      const s = toStr(v);
      if (s === undefined) return undefined;
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null; // undecodable -> NULL (spec §1.8)
      return decodeBase64(s);
    },
  },
  transform: {
    min: 3, max: 3, v2: true,
    call([mode, obj, arr]) {
      if (typeof mode !== 'string' || mode !== 'enrichArray' || !isObject(obj) || !Array.isArray(arr)) return undefined;
      return arr.map((el): Value => (isObject(el) ? ({ ...el, ...obj } as Obj) : el)); // spread defines, never sets __proto__
    },
  },
};
