// Device passwords: our extension for constrained devices that cannot do TLS client certificates.
// One credential per thing; the device connects with username = thing name and this password.
// Only scrypt hashes are stored (scrypt-hash.ts: random salt, the cost kept with each hash), in
// `<dataDir>/device-passwords.json` (atomic rewrite, mode 0600). The principal ARN of a credential,
// `arn:aws:iot:<region>:<account>:password/<thingName>`, is what policies attach to.
//
// scrypt is deliberately slow (~50 ms of CPU). A successful verification is remembered as an HMAC
// of the password under a key that lives only in this process, so a fleet reconnecting after a
// network split costs one HMAC per device, not one scrypt. Changing or deleting the password
// forgets it. The memory is bounded (least recently verified forgotten first).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerError } from '../errors.js';
import { writeFileAtomic } from '../atomic-file.js';
import { DEFAULT_SCRYPT, hashSecret, verifySecret, type ScryptCost, type ScryptHash } from './scrypt-hash.js';

export const PASSWORDS_FILE = 'device-passwords.json';
export const PASSWORD_MIN = 16;
export const PASSWORD_MAX = 256;
const MAX_REMEMBERED = 10_000;

interface StoredPassword extends ScryptHash {
  /** epoch ms */
  creationDate: number;
}

interface FileShape { version: 1; passwords: Record<string, StoredPassword> }

export interface PasswordStoreOptions {
  dataDir: string;
  region: string;
  accountId: string;
  thingExists(thingName: string): boolean;
  fsync?: boolean;
  /** tests lower the cost */
  scrypt?: ScryptCost;
  now?(): number;
}

export type Verification = 'ok' | 'wrong' | 'none';

export interface PasswordCredential { thingName: string; username: string; password?: string; principalArn: string; creationDate: number }

export type PasswordStore = ReturnType<typeof openPasswordStore>;

export function openPasswordStore(options: PasswordStoreOptions) {
  const path = join(options.dataDir, PASSWORDS_FILE);
  const now = options.now ?? Date.now;
  const cost = options.scrypt ?? DEFAULT_SCRYPT;
  const principalPrefix = `arn:aws:iot:${options.region}:${options.accountId}:password/`;
  const passwords = new Map(Object.entries(readStore(path).passwords));
  const rememberKey = randomBytes(32);
  const remembered = new Map<string, Buffer>();
  const listeners: ((thingName: string) => void)[] = [];

  const fingerprint = (thingName: string, password: string) => createHmac('sha256', rememberKey).update(thingName).update('\0').update(password).digest();

  function persist(next: Map<string, StoredPassword>): void {
    writeFileAtomic(path, JSON.stringify({ version: 1, passwords: Object.fromEntries(next) }) + '\n', { fsync: options.fsync === true, mode: 0o600 });
  }
  function changed(thingName: string): void {
    remembered.delete(thingName);
    for (const listener of listeners) listener(thingName);
  }
  function existingThing(thingName: string): string {
    if (!options.thingExists(thingName)) throw new BrokerError('ResourceNotFoundException', `Thing ${thingName} does not exist`);
    return thingName;
  }
  function describe(thingName: string, stored: StoredPassword): PasswordCredential {
    return { thingName, username: thingName, principalArn: principalPrefix + thingName, creationDate: stored.creationDate / 1000 };
  }

  return {
    path,
    principalArn: (thingName: string) => principalPrefix + thingName,
    /** the thing name a password principal ARN names, or undefined */
    thingOfPrincipal: (arn: string) => (arn.startsWith(principalPrefix) ? arn.slice(principalPrefix.length) : undefined),

    /** Sets the thing's password (a generated one when none is given, returned once). */
    async set(thingName: string, password?: unknown): Promise<PasswordCredential> {
      existingThing(thingName);
      let secret: string;
      if (password === undefined) secret = randomBytes(24).toString('base64url'); // 192 bits, 32 characters
      else if (typeof password !== 'string' || password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
        throw new BrokerError('InvalidRequestException', `password must be a string of ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`);
      } else secret = password;
      const stored: StoredPassword = { ...(await hashSecret(secret, cost)), creationDate: now() };
      persist(new Map(passwords).set(thingName, stored));
      passwords.set(thingName, stored);
      changed(thingName);
      return { ...describe(thingName, stored), password: secret };
    },

    get(thingName: string): PasswordCredential {
      existingThing(thingName);
      const stored = passwords.get(thingName);
      if (!stored) throw new BrokerError('ResourceNotFoundException', `Thing ${thingName} has no password`);
      return describe(thingName, stored);
    },

    delete(thingName: string): Record<string, never> {
      existingThing(thingName);
      if (passwords.has(thingName)) {
        const next = new Map(passwords);
        next.delete(thingName);
        persist(next);
        passwords.delete(thingName);
        changed(thingName);
      }
      return {};
    },

    /** 'none' when the thing does not exist or has no password (callers must not tell the two apart to a client). */
    async verify(thingName: string, password: string): Promise<Verification> {
      const stored = passwords.get(thingName);
      if (!stored || !options.thingExists(thingName)) return 'none';
      const print = fingerprint(thingName, password);
      const known = remembered.get(thingName);
      if (known && timingSafeEqual(known, print)) {
        remembered.delete(thingName); // re-insert: Map order is least recently verified first
        remembered.set(thingName, known);
        return 'ok';
      }
      const matches = await verifySecret(password, stored);
      // the password may have changed while scrypt ran
      if (passwords.get(thingName) !== stored || !matches) return 'wrong';
      remembered.set(thingName, print);
      if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.keys().next().value!);
      return 'ok';
    },

    /** called after a password is set, changed or deleted (live connections using it end) */
    onChange(listener: (thingName: string) => void): void {
      listeners.push(listener);
    },

    counts: () => ({ passwords: passwords.size, remembered: remembered.size }),
  };
}

function readStore(path: string): FileShape {
  if (!existsSync(path)) return { version: 1, passwords: {} };
  let parsed: FileShape;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as FileShape;
  } catch (err) {
    throw new BrokerError('PasswordsFileInvalid', `${path} is not JSON (${(err as Error).message})`);
  }
  if (parsed?.version !== 1 || typeof parsed.passwords !== 'object' || parsed.passwords === null) {
    throw new BrokerError('PasswordsFileInvalid', `${path} is not a device passwords file of version 1`);
  }
  return parsed;
}

