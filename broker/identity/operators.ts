// Operator accounts: the people who sign in to the dashboard and our /api/ routes. Only scrypt
// hashes are stored (scrypt-hash.ts, the same format and cost as device passwords), in
// `<dataDir>/operators.json` (atomic rewrite, mode 0600).
//
// The first account comes from bootstrapOperators(): IOT_OPERATOR_PASSWORD (with
// IOT_OPERATOR_USERNAME, default "admin") creates or resets that operator at every start; without
// it, a data directory with no operators gets "admin" with a random password written to
// `<dataDir>/operator-credentials.json` (0600, created exclusively). Callers log where that file
// is, never the password.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerError } from '../errors.js';
import { writeFileAtomic } from '../atomic-file.js';
import { createExclusively } from './keys.js';
import { DEFAULT_SCRYPT, hashSecret, isScryptHash, verifySecret, type ScryptCost, type ScryptHash } from './scrypt-hash.js';

export const OPERATORS_FILE = 'operators.json';
export const OPERATOR_CREDENTIALS_FILE = 'operator-credentials.json';
export const OPERATOR_ENV = { username: 'IOT_OPERATOR_USERNAME', password: 'IOT_OPERATOR_PASSWORD' } as const;
export const DEFAULT_OPERATOR = 'admin';
export const OPERATOR_PASSWORD_MIN = 12;
export const OPERATOR_PASSWORD_MAX = 256;
const USERNAME = /^[A-Za-z0-9_.@-]{1,64}$/;

export interface Operator {
  username: string;
  /** epoch ms */
  createdAt: number;
}

interface StoredOperator extends Operator {
  passwordHash: ScryptHash;
}

interface FileShape { version: 1; operators: StoredOperator[] }

/** 'removed': the account is gone; 'password': its password changed. Either way its sessions end. */
export type OperatorChange = 'removed' | 'password';

export interface OperatorStoreOptions {
  dataDir: string;
  fsync?: boolean;
  /** tests lower the cost */
  scrypt?: ScryptCost;
  now?(): number;
}

export type OperatorStore = ReturnType<typeof openOperatorStore>;

export function openOperatorStore(options: OperatorStoreOptions) {
  const path = join(options.dataDir, OPERATORS_FILE);
  const now = options.now ?? Date.now;
  const cost = options.scrypt ?? DEFAULT_SCRYPT;
  const operators = new Map(readStore(path).map((o) => [o.username, o]));
  const listeners: ((username: string, change: OperatorChange) => void)[] = [];
  // Unknown usernames are checked against this hash so that a wrong name costs as much time as a
  // wrong password: the answer's timing does not tell which accounts exist.
  let decoy: Promise<ScryptHash> | undefined;

  function persist(next: Map<string, StoredOperator>): void {
    const file: FileShape = { version: 1, operators: [...next.values()] };
    writeFileAtomic(path, JSON.stringify(file, null, 1) + '\n', { fsync: options.fsync === true, mode: 0o600 });
  }
  function changed(username: string, change: OperatorChange): void {
    for (const listener of listeners) listener(username, change);
  }
  function existing(username: string): StoredOperator {
    const stored = operators.get(username);
    if (!stored) throw new BrokerError('ResourceNotFoundException', `no operator ${JSON.stringify(username)}`);
    return stored;
  }

  return {
    path,
    list: (): Operator[] => [...operators.values()].map(({ username, createdAt }) => ({ username, createdAt })).sort((a, b) => (a.username < b.username ? -1 : 1)),
    has: (username: string) => operators.has(username),
    get size() {
      return operators.size;
    },

    async add(username: unknown, password: unknown): Promise<Operator> {
      const name = validUsername(username);
      const secret = validPassword(password);
      if (operators.has(name)) throw new BrokerError('ResourceAlreadyExistsException', `operator ${name} already exists`);
      const passwordHash = await hashSecret(secret, cost);
      // another add of the same name may have finished while scrypt ran
      if (operators.has(name)) throw new BrokerError('ResourceAlreadyExistsException', `operator ${name} already exists`);
      const stored: StoredOperator = { username: name, passwordHash, createdAt: now() };
      persist(new Map(operators).set(name, stored));
      operators.set(name, stored);
      return { username: name, createdAt: stored.createdAt };
    },

    /** Removes an operator and ends its sessions; the last one cannot be removed (nobody could sign in). */
    remove(username: string): void {
      existing(username);
      if (operators.size === 1) throw new BrokerError('LastOperator', `operator ${username} is the only one; add another operator before removing it`);
      const next = new Map(operators);
      next.delete(username);
      persist(next);
      operators.delete(username);
      changed(username, 'removed');
    },

    /** Sets a new password and ends the operator's sessions. */
    async setPassword(username: string, password: unknown): Promise<void> {
      existing(username);
      const secret = validPassword(password);
      const passwordHash = await hashSecret(secret, cost);
      const current = existing(username); // it may have been removed while scrypt ran
      const stored: StoredOperator = { ...current, passwordHash };
      persist(new Map(operators).set(username, stored));
      operators.set(username, stored);
      changed(username, 'password');
    },

    /** true when the account exists and the password is its password. Unknown names take as long. */
    async verify(username: string, password: string): Promise<boolean> {
      const stored = operators.get(username);
      if (!stored) {
        decoy ??= hashSecret(randomBytes(16).toString('hex'), cost);
        await verifySecret(password, await decoy);
        return false;
      }
      const matches = await verifySecret(password, stored.passwordHash);
      // the password may have changed, or the account gone, while scrypt ran
      return matches && operators.get(username) === stored;
    },

    /** called after an operator is removed or its password changes */
    onChange(listener: (username: string, change: OperatorChange) => void): void {
      listeners.push(listener);
    },
  };
}

export interface OperatorBootstrap {
  /**
   * 'environment': IOT_OPERATOR_PASSWORD applies to `username` (created, reset or already set);
   * 'created': the first start made `username` with a password in the credentials file;
   * 'file': the accounts were gone and `username` was made again from the credentials file;
   * 'existing': operators exist, nothing changed.
   */
  source: 'environment' | 'created' | 'file' | 'existing';
  username?: string;
  /** environment only: the operator was created or its password reset at this start */
  changed: boolean;
  /** `<dataDir>/operator-credentials.json` (it may not exist) */
  credentialsFile: string;
}

/** Makes sure someone can sign in; see the file's opening comment. */
export async function bootstrapOperators(store: OperatorStore, dataDir: string, env: Record<string, string | undefined>): Promise<OperatorBootstrap> {
  const credentialsFile = join(dataDir, OPERATOR_CREDENTIALS_FILE);
  const password = env[OPERATOR_ENV.password];
  if (password) { // an empty variable counts as unset, as shells make them easily
    const username = env[OPERATOR_ENV.username] || DEFAULT_OPERATOR;
    if (!USERNAME.test(username)) throw new BrokerError('ConfigInvalid', `environment variable ${OPERATOR_ENV.username}: must be 1-64 letters, digits or _ . @ -`);
    // the message never includes the value: it is a secret
    if (password.length < OPERATOR_PASSWORD_MIN || password.length > OPERATOR_PASSWORD_MAX) {
      throw new BrokerError('ConfigInvalid', `environment variable ${OPERATOR_ENV.password}: must be ${OPERATOR_PASSWORD_MIN}-${OPERATOR_PASSWORD_MAX} characters`);
    }
    // Resetting only when it differs keeps the operator's sessions across restarts.
    if (store.has(username) && (await store.verify(username, password))) return { source: 'environment', username, changed: false, credentialsFile };
    if (store.has(username)) await store.setPassword(username, password);
    else await store.add(username, password);
    return { source: 'environment', username, changed: true, credentialsFile };
  }
  if (store.size > 0) return { source: 'existing', changed: false, credentialsFile };
  if (existsSync(credentialsFile)) {
    // operators.json was removed but the initial credentials are still there: the same account again
    const { username, password: saved } = readCredentialsFile(credentialsFile);
    await store.add(username, saved);
    return { source: 'file', username, changed: true, credentialsFile };
  }
  const generated = randomBytes(18).toString('base64url'); // 144 bits, 24 characters
  // the file first: a crash before the account is stored leaves a file the next start reuses
  createExclusively(credentialsFile, JSON.stringify({ username: DEFAULT_OPERATOR, password: generated }, null, 2) + '\n');
  await store.add(DEFAULT_OPERATOR, generated);
  return { source: 'created', username: DEFAULT_OPERATOR, changed: true, credentialsFile };
}

function validUsername(v: unknown): string {
  if (typeof v !== 'string' || !USERNAME.test(v)) throw new BrokerError('InvalidRequestException', 'username must be a string of 1-64 letters, digits or _ . @ -');
  return v;
}

function validPassword(v: unknown): string {
  if (typeof v !== 'string' || v.length < OPERATOR_PASSWORD_MIN || v.length > OPERATOR_PASSWORD_MAX) {
    throw new BrokerError('InvalidRequestException', `password must be a string of ${OPERATOR_PASSWORD_MIN} to ${OPERATOR_PASSWORD_MAX} characters`);
  }
  return v;
}

function readStore(path: string): StoredOperator[] {
  if (!existsSync(path)) return [];
  const invalid = (reason: string) => new BrokerError('OperatorsFileInvalid', `${path}: ${reason}`);
  let parsed: FileShape;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as FileShape;
  } catch (err) {
    throw invalid(`not JSON (${(err as Error).message})`);
  }
  if (parsed?.version !== 1 || !Array.isArray(parsed.operators)) throw invalid('not an operators file of version 1');
  for (const [i, o] of parsed.operators.entries()) {
    if (typeof o?.username !== 'string' || !USERNAME.test(o.username) || !isScryptHash(o.passwordHash) || typeof o.createdAt !== 'number') {
      throw invalid(`operators[${i}] needs a valid username, passwordHash and createdAt`);
    }
  }
  return parsed.operators;
}

function readCredentialsFile(path: string): { username: string; password: string } {
  let parsed: { username?: unknown; password?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as typeof parsed;
  } catch (err) {
    throw new BrokerError('OperatorsFileInvalid', `${path}: not JSON (${(err as Error).name}); delete it to have a new operator password made`);
  }
  const { username, password } = parsed ?? {};
  if (typeof username !== 'string' || !USERNAME.test(username) || typeof password !== 'string' || password.length < OPERATOR_PASSWORD_MIN || password.length > OPERATOR_PASSWORD_MAX) {
    throw new BrokerError('OperatorsFileInvalid', `${path}: needs a valid username and password; delete it to have a new operator password made`);
  }
  return { username, password };
}
