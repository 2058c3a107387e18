import { tmpdir } from 'node:os';
import { parseCliArgs } from '../../../devices-sim/cli-args.js';
import { SimError } from '../../../devices-sim/errors.js';

function errorOf(argv: string[]): SimError {
  try {
    parseCliArgs(argv);
  } catch (error) {
    return error as SimError;
  }
  throw new Error(`expected ${argv.join(' ')} to be rejected`);
}

describe('parseCliArgs', () => {
  it('fills defaults when no flag is given', () => {
    const command = parseCliArgs([]);
    expect(command.kind).toBe('run');
    if (command.kind !== 'run') return;
    expect(command.options).toMatchObject({ devices: 10, rate: 1, durationS: 10, qos: 0, prefix: 'sim', url: 'mqtt://127.0.0.1:1883', maxInflight: 100, tickMs: 10 });
    expect(command.json).toBe(false);
  });

  it('reads every documented flag, with fractional per-device rates and ramp-up in seconds', () => {
    const command = parseCliArgs([
      '--devices', '25', '--rate', '0.5', '--duration', '0', '--qos', '1', '--url', 'mqtt://broker:1884',
      '--prefix', 'lab', '--username', 'u', '--password', 'p', '--seed', '99', '--ramp-up', '2.5', '--jitter', '0.2', '--json',
      '--max-inflight', '20', '--tick-ms', '40',
    ]);
    expect(command).toEqual({
      kind: 'run',
      json: true,
      options: expect.objectContaining({
        devices: 25, rate: 0.5, durationS: 0, qos: 1, url: 'mqtt://broker:1884', prefix: 'lab',
        username: 'u', password: 'p', seed: 99, rampUpMs: 2500, jitter: 0.2, maxInflight: 20, tickMs: 40,
      }),
      rowLatency: { metricsUrl: 'http://broker:8080/metrics' },
    });
  });

  it('reads /metrics for the row latency from the broker\'s host by default, from --metrics-url, or not at all', () => {
    const latency = (argv: string[]) => {
      const command = parseCliArgs(argv);
      return command.kind === 'run' ? command.rowLatency : 'help';
    };
    expect(latency([])).toEqual({ metricsUrl: 'http://127.0.0.1:8080/metrics' });
    expect(latency(['--url', 'ws://10.1.2.3:9000/mqtt'])).toEqual({ metricsUrl: 'http://10.1.2.3:9000/metrics' });
    expect(latency(['--url', 'wss://iot.example:8443/mqtt'])).toEqual({ metricsUrl: 'https://iot.example:8443/metrics' });
    expect(latency(['--metrics-url', 'http://stats:9100/metrics', '--datastore', 'telemetry_store'])).toEqual({ metricsUrl: 'http://stats:9100/metrics', datastore: 'telemetry_store' });
    expect(latency(['--metrics-url', 'none'])).toBeUndefined();
    expect(errorOf(['--metrics-url', 'stats:9100']).message).toMatch(/--metrics-url must be an http:\/\/ or https:\/\/ URL or "none", got "stats:9100"/);
    expect(errorOf(['--metrics-url', 'none', '--datastore', 'x']).message).toMatch(/--datastore only applies when the latency is measured/);
    expect(errorOf(['--datastore', 'no such']).message).toMatch(/--datastore must be a datastore name/);
  });

  it('takes --report PATH without its extension and rejects a path in a missing directory', () => {
    const withReport = parseCliArgs(['--report', `${tmpdir()}/run-1.json`]);
    expect(withReport).toMatchObject({ kind: 'run', report: `${tmpdir()}/run-1` });
    expect(parseCliArgs([])).not.toHaveProperty('report');
    expect(errorOf(['--report', '/no/such/dir/run']).message).toMatch(/--report "\/no\/such\/dir\/run": the directory \/no\/such\/dir does not exist/);
    expect(errorOf(['--report', '']).message).toMatch(/--report must name a file path/);
  });

  it('returns help for --help and -h', () => {
    expect(parseCliArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseCliArgs(['-h', '--devices', 'x'])).toEqual({ kind: 'help' });
  });

  it.each([
    [['--devices', 'abc'], /--devices expects a number, got "abc"/],
    [['--devices', '0'], /--devices must be between 1 and/],
    [['--devices', '2.5'], /--devices must be an integer/],
    [['--rate', '0'], /--rate must be greater than 0/],
    [['--duration=-3'], /--duration must be between 0 and/],
    [['--qos', '2'], /--qos must be 0 or 1, got "2"/],
    [['--jitter', '1.5'], /--jitter must be between 0 and 1, got 1.5/],
    [['--jitter', 'lots'], /--jitter expects a number, got "lots"/],
    [['--url', 'localhost:1883'], /--url must look like mqtt:\/\/host:port/],
    [['--prefix', 'a/b'], /--prefix may only contain/],
    [['--username', 'u'], /--username and --password must be given together/],
    [['--ramp-up', 'soon'], /--ramp-up expects a number/],
    [['--max-inflight', '0'], /--max-inflight must be between 1 and 65535, got 0/],
    [['--max-inflight', '2.5'], /--max-inflight must be an integer, got 2.5/],
    [['--tick-ms', '5000'], /--tick-ms must be between 1 and 1000, got 5000/],
    [['--tick-ms', 'fast'], /--tick-ms expects a number, got "fast"/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--devices'], /--devices/],
    [['stray'], /positional/i],
  ])('rejects %j with a coded error naming the flag', (argv, message) => {
    const error = errorOf(argv as string[]);
    expect(error).toBeInstanceOf(SimError);
    expect(error.code).toBe('InvalidArgumentException');
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(message);
  });
});
