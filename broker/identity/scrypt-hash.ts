// Slow password hashing shared by device passwords and operator accounts: scrypt with a random
// 16-byte salt, the cost parameters stored beside each hash so they can be raised later without
// breaking the hashes already stored.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptCost { N: number; r: number; p: number }
/** ~16 MB and ~50 ms per hash: the interactive-login strength of the scrypt paper */
export const DEFAULT_SCRYPT: ScryptCost = { N: 16384, r: 8, p: 1 };
const KEY_LENGTH = 32;

/** A stored hash: salt and hash in base64, plus the cost it was made with. */
export interface ScryptHash extends ScryptCost {
  salt: string;
  hash: string;
}

export async function hashSecret(secret: string, cost: ScryptCost = DEFAULT_SCRYPT): Promise<ScryptHash> {
  const salt = randomBytes(16);
  const hash = await deriveKey(secret, salt, cost);
  return { salt: salt.toString('base64'), hash: hash.toString('base64'), N: cost.N, r: cost.r, p: cost.p };
}

/** Whether `secret` hashes to `stored` (compared in constant time). */
export async function verifySecret(secret: string, stored: ScryptHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const actual = await deriveKey(secret, Buffer.from(stored.salt, 'base64'), stored, expected.length);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Whether a parsed value has the shape of a stored hash (file loaders check before trusting it). */
export function isScryptHash(v: unknown): v is ScryptHash {
  const h = v as Partial<ScryptHash> | null;
  return typeof h === 'object' && h !== null && typeof h.salt === 'string' && typeof h.hash === 'string' &&
    Number.isInteger(h.N) && Number.isInteger(h.r) && Number.isInteger(h.p);
}

export function deriveKey(secret: string, salt: Buffer, cost: ScryptCost, keyLength = KEY_LENGTH): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyLength, { N: cost.N, r: cost.r, p: cost.p, maxmem: 256 * cost.N * cost.r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}
