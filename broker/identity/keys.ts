// The administrator's access key for the AWS-compatible APIs (SigV4). It comes from the
// environment when both IOT_ADMIN_* variables are set; otherwise from <dataDir>/admin-credentials.json,
// which the first start creates with crypto-random values in AWS's formats, readable by the
// owner only (0600). The secret is never logged: callers log `path` and `accessKeyId` only.
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerError } from '../errors.js';

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface AdminKey {
  credentials: AccessKey;
  /** 'environment' (IOT_ADMIN_*), 'file' (an existing credentials file) or 'created' (first start) */
  source: 'environment' | 'file' | 'created';
  /** the credentials file (even when the environment won, so the log can say where it would be) */
  path: string;
  /** true when an existing file is readable by group or others (the caller warns) */
  looseFileMode: boolean;
}

export const ADMIN_CREDENTIALS_FILE = 'admin-credentials.json';
export const ADMIN_KEY_ENV = { accessKeyId: 'IOT_ADMIN_ACCESS_KEY_ID', secretAccessKey: 'IOT_ADMIN_SECRET_ACCESS_KEY' } as const;

// AWS key ids are 16-128 upper-case letters and digits; a '/' would break the Credential scope.
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
// Secrets are 40 characters of base64 at AWS; we only refuse short or whitespace-holding ones.
const SECRET = /^\S{16,256}$/;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** An access key in AWS's shapes: `AKIA` + 16 base32 characters, a 40-character base64 secret. */
export function generateAccessKey(): AccessKey {
  // 32 divides 256, so `byte & 31` picks each letter without bias
  const id = Array.from(randomBytes(16), (b) => BASE32[b & 31]).join('');
  return { accessKeyId: `AKIA${id}`, secretAccessKey: randomBytes(30).toString('base64') };
}

export function loadAdminKey(dataDir: string, env: Record<string, string | undefined>): AdminKey {
  const path = join(dataDir, ADMIN_CREDENTIALS_FILE);
  const fromEnv = adminKeyFromEnv(env);
  if (fromEnv) return { credentials: fromEnv, source: 'environment', path, looseFileMode: false };
  if (existsSync(path)) {
    const looseFileMode = (statSync(path).mode & 0o077) !== 0;
    return { credentials: readCredentialsFile(path), source: 'file', path, looseFileMode };
  }
  const credentials = generateAccessKey();
  createExclusively(path, JSON.stringify(credentials, null, 2) + '\n');
  return { credentials, source: 'created', path, looseFileMode: false };
}

function adminKeyFromEnv(env: Record<string, string | undefined>): AccessKey | undefined {
  const accessKeyId = env[ADMIN_KEY_ENV.accessKeyId];
  const secretAccessKey = env[ADMIN_KEY_ENV.secretAccessKey];
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  if (!accessKeyId || !secretAccessKey) {
    throw new BrokerError('ConfigInvalid', `environment variables ${ADMIN_KEY_ENV.accessKeyId} and ${ADMIN_KEY_ENV.secretAccessKey} must be set together`);
  }
  if (!ACCESS_KEY_ID.test(accessKeyId)) throw new BrokerError('ConfigInvalid', `environment variable ${ADMIN_KEY_ENV.accessKeyId}: must be 16-128 upper-case letters and digits (like AKIA...)`);
  // the message never includes the value: it is a secret
  if (!SECRET.test(secretAccessKey)) throw new BrokerError('ConfigInvalid', `environment variable ${ADMIN_KEY_ENV.secretAccessKey}: must be 16-256 characters without spaces`);
  return { accessKeyId, secretAccessKey };
}

function readCredentialsFile(path: string): AccessKey {
  const invalid = (reason: string) =>
    new BrokerError('AdminCredentialsFileInvalid', `${path}: ${reason}; fix it, or delete it to have a new key created at the next start`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw invalid(`cannot be read as JSON (${(err as Error).name})`);
  }
  const { accessKeyId, secretAccessKey } = (parsed ?? {}) as Partial<AccessKey>;
  if (typeof accessKeyId !== 'string' || !ACCESS_KEY_ID.test(accessKeyId)) throw invalid('accessKeyId must be 16-128 upper-case letters and digits');
  if (typeof secretAccessKey !== 'string' || !SECRET.test(secretAccessKey)) throw invalid('secretAccessKey must be 16-256 characters without spaces');
  return { accessKeyId, secretAccessKey };
}

/** Writes a 0600 file that did not exist: a temporary file is written completely, then linked
 * into place (link fails if the name exists), so a crash never leaves half a secret and two
 * starts racing on one data directory cannot both win. */
export function createExclusively(path: string, text: string): void {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, text, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, path);
  } finally {
    unlinkSync(temp);
  }
}
