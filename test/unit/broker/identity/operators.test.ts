// Operator accounts: scrypt hashes only, in a 0600 file; the first account from the environment or
// a generated password in a 0600 credentials file; sessions are told when an account changes.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapOperators, openOperatorStore, OPERATOR_CREDENTIALS_FILE, OPERATORS_FILE, type OperatorChange } from '../../../../broker/identity/operators.js';
import { tempDataDir } from '../../../helpers/server.js';

// a low scrypt cost keeps the test fast; the algorithm and the file are the same
const CHEAP = { N: 1024, r: 8, p: 1 };
const open = (dir: string) => openOperatorStore({ dataDir: dir, scrypt: CHEAP });
const modeOf = (path: string) => statSync(path).mode & 0o777;

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir('iotcore-operators-');
});
afterEach(() => data.remove());

describe('operator accounts', () => {
  it('store a scrypt hash, never the password, in a file only the owner can read', async () => {
    const store = open(data.dir);
    await store.add('alice', 'correct horse battery');
    const path = join(data.dir, OPERATORS_FILE);
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('correct horse battery');
    expect(JSON.parse(text).operators[0]).toEqual({ username: 'alice', createdAt: expect.any(Number), passwordHash: { salt: expect.any(String), hash: expect.any(String), N: 1024, r: 8, p: 1 } });
    expect(modeOf(path)).toBe(0o600);
  });

  it('verify the right password only, and survive reopening', async () => {
    await open(data.dir).add('alice', 'correct horse battery');
    const store = open(data.dir);
    expect(await store.verify('alice', 'correct horse battery')).toBe(true);
    expect(await store.verify('alice', 'correct horse batterY')).toBe(false);
    expect(await store.verify('bob', 'correct horse battery')).toBe(false);
    expect(store.list()).toEqual([{ username: 'alice', createdAt: expect.any(Number) }]);
  });

  it('refuse bad usernames, short or long passwords and a second account of one name', async () => {
    const store = open(data.dir);
    await expect(store.add('has space', 'a long enough password')).rejects.toMatchObject({ code: 'InvalidRequestException' });
    await expect(store.add('x'.repeat(65), 'a long enough password')).rejects.toMatchObject({ code: 'InvalidRequestException' });
    await expect(store.add('alice', 'short')).rejects.toMatchObject({ code: 'InvalidRequestException' });
    await expect(store.add('alice', 'p'.repeat(257))).rejects.toMatchObject({ code: 'InvalidRequestException' });
    await expect(store.add('alice', 42)).rejects.toMatchObject({ code: 'InvalidRequestException' });
    await store.add('a.lice_O@x-y', 'a long enough password');
    await expect(store.add('a.lice_O@x-y', 'another long password')).rejects.toMatchObject({ code: 'ResourceAlreadyExistsException' });
  });

  it('tell listeners when an account is removed or its password changes, and keep the last account', async () => {
    const store = open(data.dir);
    const changes: [string, OperatorChange][] = [];
    store.onChange((name, change) => changes.push([name, change]));
    await store.add('alice', 'correct horse battery');
    await store.add('bob', 'another good password');
    await store.setPassword('alice', 'a brand new password');
    expect(await store.verify('alice', 'correct horse battery')).toBe(false);
    expect(await store.verify('alice', 'a brand new password')).toBe(true);
    store.remove('bob');
    expect(() => store.remove('bob')).toThrow(expect.objectContaining({ code: 'ResourceNotFoundException' }));
    expect(() => store.remove('alice')).toThrow(expect.objectContaining({ code: 'LastOperator' }));
    await expect(store.setPassword('bob', 'a brand new password')).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
    expect(changes).toEqual([['alice', 'password'], ['bob', 'removed']]);
    expect(open(data.dir).list().map((o) => o.username)).toEqual(['alice']);
  });

  it('refuse to start on a damaged operators file', () => {
    writeFileSync(join(data.dir, OPERATORS_FILE), '{"version":1,"operators":[{"username":"a"}]}');
    expect(() => open(data.dir)).toThrow(expect.objectContaining({ code: 'OperatorsFileInvalid' }));
  });
});

describe('the first operator', () => {
  it('is "admin" with a random password in a 0600 credentials file when there is none', async () => {
    const store = open(data.dir);
    const boot = await bootstrapOperators(store, data.dir, {});
    expect(boot).toEqual({ source: 'created', username: 'admin', changed: true, credentialsFile: join(data.dir, OPERATOR_CREDENTIALS_FILE) });
    const saved = JSON.parse(readFileSync(boot.credentialsFile, 'utf8')) as { username: string; password: string };
    expect(saved.username).toBe('admin');
    expect(saved.password.length).toBeGreaterThanOrEqual(12);
    expect(modeOf(boot.credentialsFile)).toBe(0o600);
    expect(await store.verify('admin', saved.password)).toBe(true);
    // the next start changes nothing
    expect(await bootstrapOperators(open(data.dir), data.dir, {})).toMatchObject({ source: 'existing', changed: false });
  });

  it('is made again from the credentials file when the accounts file is gone', async () => {
    await bootstrapOperators(open(data.dir), data.dir, {});
    const saved = JSON.parse(readFileSync(join(data.dir, OPERATOR_CREDENTIALS_FILE), 'utf8')) as { password: string };
    writeFileSync(join(data.dir, OPERATORS_FILE), '{"version":1,"operators":[]}');
    const store = open(data.dir);
    expect(await bootstrapOperators(store, data.dir, {})).toMatchObject({ source: 'file', username: 'admin' });
    expect(await store.verify('admin', saved.password)).toBe(true);
  });

  it('takes IOT_OPERATOR_PASSWORD (and IOT_OPERATOR_USERNAME): created, left alone while equal, reset when it differs', async () => {
    const store = open(data.dir);
    const changes: string[] = [];
    store.onChange((name, change) => changes.push(`${name}:${change}`));
    const env = { IOT_OPERATOR_USERNAME: 'ops', IOT_OPERATOR_PASSWORD: 'from the environment' };
    expect(await bootstrapOperators(store, data.dir, env)).toMatchObject({ source: 'environment', username: 'ops', changed: true });
    expect(existsSync(join(data.dir, OPERATOR_CREDENTIALS_FILE))).toBe(false);
    expect(await bootstrapOperators(store, data.dir, env)).toMatchObject({ changed: false });
    expect(await bootstrapOperators(store, data.dir, { ...env, IOT_OPERATOR_PASSWORD: 'another from the env' })).toMatchObject({ changed: true });
    expect(await store.verify('ops', 'another from the env')).toBe(true);
    expect(changes).toEqual(['ops:password']);
    expect(await bootstrapOperators(open(data.dir), data.dir, { IOT_OPERATOR_PASSWORD: 'admin gets this one' })).toMatchObject({ username: 'admin', changed: true });
  });

  it('refuses a short IOT_OPERATOR_PASSWORD without echoing it', async () => {
    let message = '';
    try {
      await bootstrapOperators(open(data.dir), data.dir, { IOT_OPERATOR_PASSWORD: 'tiny secret' });
    } catch (err) {
      expect(err).toMatchObject({ code: 'ConfigInvalid' });
      message = (err as Error).message;
    }
    expect(message).toContain('IOT_OPERATOR_PASSWORD');
    expect(message).not.toContain('tiny secret');
  });
});
