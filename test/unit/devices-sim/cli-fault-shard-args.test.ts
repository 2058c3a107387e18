import { availableParallelism } from 'node:os';
import { HELP, parseCliArgs } from '../../../devices-sim/cli-args.js';
import { errorOf } from './sim-error.js';

const run = (argv: string[]) => {
  const command = parseCliArgs(argv);
  if (command.kind !== 'run') throw new Error('expected a run');
  return command;
};

describe('--fault', () => {
  it('is repeatable and reaches the fleet options as parsed specs', () => {
    const { options } = run(['--devices', '10', '--fault', 'reconnect-storm@20', '--fault', 'flapping:10%@5:4s', '--fault', 'abrupt-disconnect:2@30']);
    expect(options.faults).toEqual([
      { kind: 'reconnect-storm', devices: { all: true }, atS: 20, periodS: null },
      { kind: 'flapping', devices: { fraction: 0.1 }, atS: 5, periodS: 4 },
      { kind: 'abrupt-disconnect', devices: { count: 2 }, atS: 30, periodS: null },
    ]);
  });

  it('leaves the options without faults when not given', () => {
    expect(run([]).options.faults).toBeUndefined();
  });

  it.each([
    [['--fault', 'meltdown@3'], '--fault "meltdown@3": unknown kind "meltdown"'],
    [['--fault', 'flapping:2@3:fast'], '--fault "flapping:2@3:fast": period "fast" must be seconds followed by "s"'],
    [['--devices', '3', '--fault', 'abrupt-disconnect:4@1'], '--fault "abrupt-disconnect:4@1": 4 devices, but the fleet has only 3'],
  ])('rejects %j with a coded error naming the flag', (argv, message) => {
    const error = errorOf(() => parseCliArgs(argv));
    expect(error.code).toBe('InvalidArgumentException');
    expect(error.message).toContain(message);
    expect(error.message).toContain('(see --help)');
  });

  it('refuses more than 20 specs', () => {
    const argv = Array.from({ length: 21 }, () => ['--fault', 'reconnect-storm@1']).flat();
    expect(errorOf(() => parseCliArgs(argv)).message).toContain('--fault may be given at most 20 times, got 21');
  });
});

describe('--shards', () => {
  it('is absent from the command for one process, the default', () => {
    expect(run([])).not.toHaveProperty('shards');
    expect(run(['--shards', '1'])).not.toHaveProperty('shards');
  });

  it('takes a number of processes', () => {
    expect(run(['--devices', '4', '--shards', '2']).shards).toBe(2);
  });

  it('"auto" is one process for a small fleet and one per CPU for a fleet above the documented rate', () => {
    expect(run(['--devices', '10', '--rate', '1', '--shards', 'auto'])).not.toHaveProperty('shards');
    const big = run(['--devices', '1000', '--rate', '10', '--shards', 'auto']);
    expect(big.shards ?? 1).toBe(Math.min(availableParallelism(), 1000, 64));
  });

  it.each([
    [['--shards', 'two'], '--shards must be "auto" or a whole number from 1 to 64, got "two"'],
    [['--shards', '0'], '--shards must be "auto" or a whole number from 1 to 64, got "0"'],
    [['--shards', '1.5'], '--shards must be "auto" or a whole number from 1 to 64, got "1.5"'],
    [['--devices', '2', '--shards', '3'], '--shards 3 is more than --devices 2'],
  ])('rejects %j with a coded error naming the flag', (argv, message) => {
    const error = errorOf(() => parseCliArgs(argv));
    expect(error.code).toBe('InvalidArgumentException');
    expect(error.message).toContain(message);
  });
});

describe('--help', () => {
  it('documents the fault kinds, --shards and WebSocket URLs', () => {
    for (const text of ['--fault SPEC', 'reconnect-storm[:N]@S', 'flapping:N@S[:Ps]', 'abrupt-disconnect:N@S', '--shards N|auto', 'ws://host:<http port>/mqtt']) {
      expect(HELP).toContain(text);
    }
  });
});
