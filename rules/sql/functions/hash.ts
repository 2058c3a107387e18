// Digest functions: lowercase hex of the argument's string form (spec §1.8).
import { createHash, getHashes } from 'node:crypto';
import type { FunctionTable, SqlFunction } from './registry.js';
import { toStr } from '../values.js';
import { md2Hex } from './md2.js';

function digest(algorithm: string): SqlFunction {
  return {
    min: 1, max: 1,
    call([a]) {
      const s = toStr(a);
      return s === undefined ? undefined : createHash(algorithm).update(s, 'utf8').digest('hex');
    },
  };
}

const available = new Set(getHashes());
const NAMES = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];

export const hashFunctions: FunctionTable = {
  ...Object.fromEntries(NAMES.filter((n) => available.has(n)).map((n) => [n, digest(n)])),
  // md2 is gone from OpenSSL 3, hence our own implementation.
  md2: { min: 1, max: 1, call: ([a]) => { const s = toStr(a); return s === undefined ? undefined : md2Hex(Buffer.from(s, 'utf8')); } },
};
