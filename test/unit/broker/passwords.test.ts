// Device passwords: scrypt hashes on disk (0600), verification, and the memory of good passwords.
import { readFileSync, statSync } from 'node:fs';
import { openPasswordStore, PASSWORDS_FILE } from '../../../broker/identity/passwords.js';
import { tempDataDir } from '../../helpers/server.js';

// a low scrypt cost keeps the test fast; the algorithm and the file are the same
const CHEAP = { N: 1024, r: 8, p: 1 };
const THINGS = new Set(['sensor-1', 'sensor-2']);

function open(dir: string) {
  return openPasswordStore({ dataDir: dir, region: 'us-east-1', accountId: '000000000000', thingExists: (t) => THINGS.has(t), scrypt: CHEAP });
}

describe('device passwords', () => {
  const data = tempDataDir('iotcore-passwords-');
  afterAll(() => data.remove());

  it('stores a scrypt hash with its salt and parameters, never the password, in a 0600 file', async () => {
    const store = open(data.dir);
    const created = await store.set('sensor-1', 'a password of some length');
    expect(created).toEqual({ thingName: 'sensor-1', username: 'sensor-1', password: 'a password of some length', principalArn: 'arn:aws:iot:us-east-1:000000000000:password/sensor-1', creationDate: expect.any(Number) });
    const text = readFileSync(`${data.dir}/${PASSWORDS_FILE}`, 'utf8');
    expect(text).not.toContain('a password of some length');
    const stored = JSON.parse(text).passwords['sensor-1'];
    expect(stored).toMatchObject({ N: 1024, r: 8, p: 1, salt: expect.any(String), hash: expect.any(String) });
    expect(Buffer.from(stored.salt, 'base64')).toHaveLength(16);
    if (process.platform !== 'win32') expect(statSync(`${data.dir}/${PASSWORDS_FILE}`).mode & 0o777).toBe(0o600);
  });

  it('verifies the right password and refuses a wrong one; an unknown thing is "none"', async () => {
    const store = open(data.dir);
    await store.set('sensor-2', 'sixteen chars ok!');
    expect(await store.verify('sensor-2', 'sixteen chars ok!')).toBe('ok');
    expect(await store.verify('sensor-2', 'sixteen chars ok?')).toBe('wrong');
    expect(await store.verify('no-such-thing', 'sixteen chars ok!')).toBe('none');
  });

  it('generates a strong password when none is given and refuses one shorter than 16 characters', async () => {
    const store = open(data.dir);
    const generated = await store.set('sensor-2');
    expect(generated.password!.length).toBeGreaterThanOrEqual(32);
    expect(await store.verify('sensor-2', generated.password!)).toBe('ok');
    await expect(store.set('sensor-2', 'too short')).rejects.toMatchObject({ code: 'InvalidRequestException' });
    await expect(store.set('ghost', 'a long enough password')).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
  });

  it('keeps passwords across a restart', async () => {
    const first = open(data.dir);
    await first.set('sensor-1', 'persisted password!');
    const second = open(data.dir);
    expect(await second.verify('sensor-1', 'persisted password!')).toBe('ok');
    expect(second.get('sensor-1')).toEqual({ thingName: 'sensor-1', username: 'sensor-1', principalArn: 'arn:aws:iot:us-east-1:000000000000:password/sensor-1', creationDate: expect.any(Number) });
  });

  it('remembers a verified password and forgets it when the password changes or is deleted', async () => {
    const store = open(data.dir);
    const changes: string[] = [];
    store.onChange((t) => changes.push(t));
    await store.set('sensor-1', 'the first password');
    expect(await store.verify('sensor-1', 'the first password')).toBe('ok');
    expect(store.counts().remembered).toBe(1);
    await store.set('sensor-1', 'the second password');
    expect(store.counts().remembered).toBe(0);
    expect(await store.verify('sensor-1', 'the first password')).toBe('wrong');
    expect(await store.verify('sensor-1', 'the second password')).toBe('ok');
    store.delete('sensor-1');
    expect(await store.verify('sensor-1', 'the second password')).toBe('none');
    expect(() => store.get('sensor-1')).toThrow(expect.objectContaining({ code: 'ResourceNotFoundException' }));
    expect(changes).toEqual(['sensor-1', 'sensor-1', 'sensor-1']);
  });
});
