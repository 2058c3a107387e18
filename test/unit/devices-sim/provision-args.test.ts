import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVICE_POLICY_NAME, parseProvisionArgs, SimError } from '../../../devices-sim/index.js';

const KEY = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' };
const failure = (argv: string[], env: Record<string, string> = KEY) => {
  try {
    parseProvisionArgs(argv, env);
  } catch (error) {
    return error as SimError;
  }
  throw new Error('expected the arguments to be refused');
};

describe('npm run provision arguments', () => {
  it('takes several things, the default policy, endpoint and output folder, and the key from the environment', () => {
    const command = parseProvisionArgs(['--thing', 'a', '--thing', 'b', '--thing', 'a'], KEY);
    expect(command).toEqual({
      kind: 'provision',
      thingNames: ['a', 'b'],
      policyName: DEVICE_POLICY_NAME,
      settings: { endpoint: 'http://127.0.0.1:8080', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' }, region: 'us-east-1', certsDir: './data/device-certs', concurrency: 8 },
    });
  });

  it('reads the key from a credentials file when one is named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'provision-args-'));
    try {
      const file = join(dir, 'admin-credentials.json');
      writeFileSync(file, JSON.stringify({ accessKeyId: 'AKIAFILE', secretAccessKey: 's3' }));
      const command = parseProvisionArgs(['--thing', 'x', '--credentials', file, '--out', dir, '--policy', 'p1'], {});
      expect(command).toMatchObject({ policyName: 'p1', settings: { credentials: { accessKeyId: 'AKIAFILE' }, certsDir: dir } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses no thing, an unknown flag, a bad endpoint and a bad policy name with InvalidArgumentException', () => {
    expect(failure([])).toMatchObject({ code: 'InvalidArgumentException', message: expect.stringMatching(/at least one thing/) });
    expect(failure(['--thing', 'x', '--devices', '3']).message).toMatch(/devices/);
    expect(failure(['--thing', 'x', '--endpoint', 'localhost:8080']).message).toMatch(/endpoint must look like http:\/\/host:port/);
    expect(failure(['--thing', 'x', '--policy', 'a:b']).message).toMatch(/policy name/);
  });

  it('says where the key was looked for when there is none', () => {
    expect(failure(['--thing', 'x', '--credentials', '/nonexistent/admin-credentials.json'], {}).message).toMatch(/\/nonexistent\/admin-credentials.json cannot be read/);
  });
});
