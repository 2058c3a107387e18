import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCaFile, readCredentialsFile, resolveCredentials } from '../../../devices-sim/credentials.js';
import { SimError } from '../../../devices-sim/errors.js';
import { errorOf } from './sim-error.js';

const KEY = { accessKeyId: 'AKIAEXAMPLEEXAMPLE00', secretAccessKey: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0' };


describe('simulator credentials', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sim-credentials-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads the server's admin-credentials.json shape", () => {
    const file = join(dir, 'admin-credentials.json');
    writeFileSync(file, JSON.stringify(KEY, null, 2));
    expect(readCredentialsFile(file)).toEqual(KEY);
  });

  it('prefers a named file to the environment, and takes AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY otherwise', () => {
    const file = join(dir, 'key.json');
    writeFileSync(file, JSON.stringify(KEY));
    const env = { AWS_ACCESS_KEY_ID: 'AKIAFROMENVIRONMENT0', AWS_SECRET_ACCESS_KEY: 'from-the-environment-secret' };
    expect(resolveCredentials(file, env)).toEqual(KEY);
    expect(resolveCredentials(undefined, env)).toEqual({ accessKeyId: 'AKIAFROMENVIRONMENT0', secretAccessKey: 'from-the-environment-secret' });
    expect(resolveCredentials(undefined, {})).toBeUndefined();
  });

  it.each([
    ['a missing file', () => readCredentialsFile(join(dir, 'absent.json')), /cannot be read \(ENOENT\)/],
    ['a file that is not JSON', () => (writeFileSync(join(dir, 'bad'), 'nope'), readCredentialsFile(join(dir, 'bad'))), /is not JSON/],
    ['a file without the secret', () => (writeFileSync(join(dir, 'half'), '{"accessKeyId":"A"}'), readCredentialsFile(join(dir, 'half'))), /non-empty strings "accessKeyId" and "secretAccessKey"/],
    ['only one environment variable', () => resolveCredentials(undefined, { AWS_ACCESS_KEY_ID: 'A' }), /must be set together/],
    ['a CA file without a certificate', () => (writeFileSync(join(dir, 'ca.pem'), 'hello'), readCaFile(join(dir, 'ca.pem'))), /holds no PEM certificate/],
  ])('refuses %s with a coded error that never shows the secret', (_, fn, message) => {
    const error = errorOf(fn);
    expect(error).toBeInstanceOf(SimError);
    expect(error.code).toBe('InvalidArgumentException');
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(KEY.secretAccessKey);
  });
});
