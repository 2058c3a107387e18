// The admin access key the provisioner signs its AWS API calls with: a credentials file (the
// server writes `<dataDir>/admin-credentials.json`, `{accessKeyId, secretAccessKey}`) or the
// standard AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables. Messages never include the secret.
// Also the CA file a device verifies the broker with (--ca).

import { readFileSync } from 'node:fs';
import { SimError } from './errors.js';

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

export const ACCESS_KEY_ENV = { accessKeyId: 'AWS_ACCESS_KEY_ID', secretAccessKey: 'AWS_SECRET_ACCESS_KEY' } as const;

function invalid(message: string): never {
  throw new SimError('InvalidArgumentException', message);
}

export function readCredentialsFile(path: string): AccessKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    invalid(`credentials file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    invalid(`credentials file ${path} is not JSON; expected {"accessKeyId": "...", "secretAccessKey": "..."}`);
  }
  const { accessKeyId, secretAccessKey } = (parsed ?? {}) as Partial<Record<keyof AccessKey, unknown>>;
  if (typeof accessKeyId !== 'string' || accessKeyId === '' || typeof secretAccessKey !== 'string' || secretAccessKey === '') {
    invalid(`credentials file ${path} must hold non-empty strings "accessKeyId" and "secretAccessKey"`);
  }
  return { accessKeyId, secretAccessKey };
}

/** The file when one is named, else the environment; undefined when neither has a key. */
export function resolveCredentials(file: string | undefined, env: Record<string, string | undefined>): AccessKey | undefined {
  if (file !== undefined) return readCredentialsFile(file);
  const accessKeyId = env[ACCESS_KEY_ENV.accessKeyId];
  const secretAccessKey = env[ACCESS_KEY_ENV.secretAccessKey];
  if (!accessKeyId && !secretAccessKey) return undefined;
  if (!accessKeyId || !secretAccessKey) {
    invalid(`${ACCESS_KEY_ENV.accessKeyId} and ${ACCESS_KEY_ENV.secretAccessKey} must be set together`);
  }
  return { accessKeyId, secretAccessKey };
}

/** A PEM file holding at least one certificate (the CA that signed the broker's certificate). */
export function readCaFile(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    invalid(`CA file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) invalid(`CA file ${path} holds no PEM certificate`);
  return pem;
}
