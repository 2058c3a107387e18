import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HELP, parseCliArgs } from '../../../devices-sim/cli-args.js';
import { SimError } from '../../../devices-sim/errors.js';

const KEY = { accessKeyId: 'AKIAEXAMPLEEXAMPLE00', secretAccessKey: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0' };
const ENV_KEY = { AWS_ACCESS_KEY_ID: KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey };
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('provisioning flags of the simulator CLI', () => {
  let dir: string;
  let credentials: string;
  let ca: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    credentials = join(dir, 'admin-credentials.json');
    writeFileSync(credentials, JSON.stringify(KEY));
    ca = join(dir, 'ca.pem');
    writeFileSync(ca, CA_PEM);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function errorOf(argv: string[], env: Record<string, string> = {}): SimError {
    try {
      parseCliArgs(argv, env);
    } catch (error) {
      return error as SimError;
    }
    throw new Error(`expected ${argv.join(' ')} to be rejected`);
  }

  it('reads every provisioning flag into the fleet options', () => {
    const command = parseCliArgs([
      '--provision', '--url', 'mqtts://10.0.0.5:8884', '--endpoint', 'http://10.0.0.5:9090', '--credentials', credentials,
      '--certs-dir', join(dir, 'certs'), '--ca', ca, '--region', 'eu-west-1', '--devices', '3',
    ], {});
    expect(command).toEqual({
      kind: 'run',
      json: false,
      options: expect.objectContaining({
        url: 'mqtts://10.0.0.5:8884',
        devices: 3,
        caFile: ca,
        provision: { endpoint: 'http://10.0.0.5:9090', credentials: KEY, region: 'eu-west-1', certsDir: join(dir, 'certs'), concurrency: 8 },
      }),
      rowLatency: { metricsUrl: 'http://10.0.0.5:8080/metrics' },
    });
  });

  it('defaults to the TLS port, the HTTP API on the same host, us-east-1 and ./data/sim-certs, with the key from the environment', () => {
    const env = ENV_KEY;
    const command = parseCliArgs(['--provision'], env);
    if (command.kind !== 'run') throw new Error('expected a run');
    expect(command.options.url).toBe('mqtts://127.0.0.1:8883');
    expect(command.options.caFile).toBeUndefined();
    expect(command.options.provision).toEqual({ endpoint: 'http://127.0.0.1:8080', credentials: KEY, region: 'us-east-1', certsDir: './data/sim-certs', concurrency: 8 });
    const onHost = parseCliArgs(['--provision', '--url', 'mqtts://broker.lan:8883'], env);
    if (onHost.kind !== 'run') throw new Error('expected a run');
    expect(onHost.options.provision?.endpoint).toBe('http://broker.lan:8080');
  });

  it('keeps plain runs without provisioning, and accepts --ca for an mqtts:// URL with a password', () => {
    const plain = parseCliArgs(['--url', 'mqtt://127.0.0.1:1883', '--username', 'u', '--password', 'p'], {});
    if (plain.kind !== 'run') throw new Error('expected a run');
    expect(plain.options.provision).toBeUndefined();
    expect(plain.options).toMatchObject({ url: 'mqtt://127.0.0.1:1883', username: 'u', password: 'p' });
    const tls = parseCliArgs(['--url', 'mqtts://127.0.0.1:8883', '--ca', ca, '--username', 'u', '--password', 'p'], {});
    if (tls.kind !== 'run') throw new Error('expected a run');
    expect(tls.options).toMatchObject({ url: 'mqtts://127.0.0.1:8883', caFile: ca, username: 'u' });
  });

  it.each([
    [['--provision', '--url', 'mqtt://127.0.0.1:1883'], /--provision needs an mqtts:\/\/ --url/],
    [['--provision', '--credentials', '/nonexistent/admin-credentials.json'], /credentials file \/nonexistent\/admin-credentials.json cannot be read/],
    [['--provision', '--username', 'u', '--password', 'p'], /cannot be combined with --provision/],
    [['--provision', '--endpoint', 'localhost:8080'], /--endpoint must look like http:\/\/host:port/],
    [['--provision', '--region', 'Mars 1'], /--region must be a region name/],
    [['--provision', '--prefix', 'a.b'], /--prefix may only contain letters, digits, "_" and "-" when provisioning/],
    [['--provision', '--certs-dir', ''], /--certs-dir must name a directory/],
    [['--endpoint', 'http://127.0.0.1:8080'], /--endpoint only applies with --provision/],
    [['--certs-dir', 'x'], /--certs-dir only applies with --provision/],
    [['--ca', '/nonexistent/ca.pem', '--url', 'mqtts://127.0.0.1:8883'], /CA file \/nonexistent\/ca.pem cannot be read/],
    [['--ca', 'ca.pem'], /--ca only applies to mqtts:\/\//],
  ])('rejects %j with a coded error that says what to do', (argv, message) => {
    // the access key is in the environment, so each case fails for its own reason only
    const error = errorOf(argv as string[], ENV_KEY);
    expect(error).toBeInstanceOf(SimError);
    expect(error.code).toBe('InvalidArgumentException');
    expect(error.message).toMatch(message);
    expect(error.message).toContain('(see --help)');
    expect(error.message).not.toContain(KEY.secretAccessKey);
  });

  it('refuses --provision without --credentials or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, naming both ways', () => {
    const error = errorOf(['--provision'], {});
    expect(error.code).toBe('InvalidArgumentException');
    expect(error.message).toMatch(/--provision needs an access key: --credentials FILE .*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  });

  it('documents every provisioning flag in --help', () => {
    for (const flag of ['--provision', '--endpoint', '--credentials', '--certs-dir', '--ca', '--region']) expect(HELP).toContain(flag);
  });
});
