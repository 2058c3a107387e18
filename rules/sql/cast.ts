// cast(x AS type), spec §1.5: the implicit conversions plus numeric <-> Boolean.
import type { SqlVersion } from '../types.js';
import { toBool, toNumber, toStr, WholeDecimal, type Value } from './values.js';

export type CastTarget = 'string' | 'int' | 'decimal' | 'bool';

const V1_TYPES: Record<string, CastTarget> = {
  STRING: 'string', NVARCHAR: 'string', TEXT: 'string', NTEXT: 'string', VARCHAR: 'string',
  INT: 'int', INTEGER: 'int', DOUBLE: 'decimal',
};
const V2_TYPES: Record<string, CastTarget> = { DECIMAL: 'decimal', BOOL: 'bool', BOOLEAN: 'bool' };

/** The target for a type keyword, or undefined when the keyword is unknown in this version. */
export function castTarget(keyword: string, version: SqlVersion): CastTarget | undefined {
  return V1_TYPES[keyword] ?? (version === '2015-10-08' ? undefined : V2_TYPES[keyword]);
}

export function castTo(target: CastTarget, v: Value): Value {
  switch (target) {
    case 'string':
      return toStr(v);
    case 'int': {
      if (typeof v === 'boolean') return v ? 1 : 0;
      const n = toNumber(v);
      return typeof n === 'number' ? Math.trunc(n) : n; // rounds toward zero, Null stays Null
    }
    case 'decimal': {
      if (typeof v === 'boolean') return v ? 1 : 0;
      return toNumber(v);
    }
    case 'bool': {
      if (typeof v === 'number' || v instanceof WholeDecimal) return toNumber(v) !== 0;
      return toBool(v);
    }
  }
}
