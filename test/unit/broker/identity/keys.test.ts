// The admin key: created once with owner-only permissions, reused afterwards, overridable from
// the environment, and refused with a clear error when the file is damaged.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_CREDENTIALS_FILE, generateAccessKey, loadAdminKey } from '../../../../broker/identity/keys.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iotcore-keys-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ENV_KEY = { IOT_ADMIN_ACCESS_KEY_ID: 'AKIAENVIRONMENT00001', IOT_ADMIN_SECRET_ACCESS_KEY: 'a-secret-from-the-environment-0123' };

describe('admin access key', () => {
  it('creates a key in the AWS formats in a file only its owner can read', () => {
    const key = loadAdminKey(dir, {});
    expect(key.source).toBe('created');
    expect(key.path).toBe(join(dir, ADMIN_CREDENTIALS_FILE));
    expect(key.credentials.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(key.credentials.secretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
    expect(statSync(key.path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(key.path, 'utf8'))).toEqual(key.credentials);
  });

  it('reuses the same key on the next start', () => {
    const first = loadAdminKey(dir, {});
    const second = loadAdminKey(dir, {});
    expect(second.source).toBe('file');
    expect(second.credentials).toEqual(first.credentials);
    expect(second.looseFileMode).toBe(false);
  });

  it('generates a different key each time', () => {
    const keys = new Set(Array.from({ length: 50 }, () => generateAccessKey().secretAccessKey));
    expect(keys.size).toBe(50);
  });

  it('takes the key from IOT_ADMIN_* variables over the file, and creates no file', () => {
    const key = loadAdminKey(dir, ENV_KEY);
    expect(key).toMatchObject({ source: 'environment', credentials: { accessKeyId: ENV_KEY.IOT_ADMIN_ACCESS_KEY_ID, secretAccessKey: ENV_KEY.IOT_ADMIN_SECRET_ACCESS_KEY } });
    expect(existsSync(join(dir, ADMIN_CREDENTIALS_FILE))).toBe(false);
    loadAdminKey(dir, {});
    expect(loadAdminKey(dir, ENV_KEY).credentials.accessKeyId).toBe(ENV_KEY.IOT_ADMIN_ACCESS_KEY_ID);
  });

  it('refuses one IOT_ADMIN_* variable without the other, or a malformed value, without echoing the secret', () => {
    expect(() => loadAdminKey(dir, { IOT_ADMIN_ACCESS_KEY_ID: ENV_KEY.IOT_ADMIN_ACCESS_KEY_ID })).toThrow(expect.objectContaining({ code: 'ConfigInvalid' }));
    expect(() => loadAdminKey(dir, { ...ENV_KEY, IOT_ADMIN_ACCESS_KEY_ID: 'akia/lower' })).toThrow(expect.objectContaining({ code: 'ConfigInvalid' }));
    let message = '';
    try {
      loadAdminKey(dir, { ...ENV_KEY, IOT_ADMIN_SECRET_ACCESS_KEY: 'short secret' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('IOT_ADMIN_SECRET_ACCESS_KEY');
    expect(message).not.toContain('short secret');
  });

  it('refuses to start from a damaged credentials file, naming it', () => {
    const path = join(dir, ADMIN_CREDENTIALS_FILE);
    for (const text of ['{not json', JSON.stringify({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE' })]) {
      writeFileSync(path, text, { mode: 0o600 });
      expect(() => loadAdminKey(dir, {})).toThrow(expect.objectContaining({ code: 'AdminCredentialsFileInvalid', message: expect.stringContaining(path) }));
    }
  });

  it('reports a credentials file readable by other users', () => {
    writeFileSync(join(dir, ADMIN_CREDENTIALS_FILE), JSON.stringify(generateAccessKey()), { mode: 0o644 });
    expect(loadAdminKey(dir, {}).looseFileMode).toBe(true);
  });
});
