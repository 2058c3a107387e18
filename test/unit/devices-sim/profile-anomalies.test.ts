import { parseAnomalySpec, profileMetrics, type AnomalyLabel, type AnomalySpec } from '../../../devices-sim/anomalies.js';
import { createAnomalyStats, DeviceAnomalies } from '../../../devices-sim/anomaly-injector.js';
import { parseCliArgs } from '../../../devices-sim/cli-args.js';
import { SimError } from '../../../devices-sim/errors.js';
import { resolveFleetOptions } from '../../../devices-sim/options.js';
import { PROFILE_NAMES, PROFILES, type ProfileName } from '../../../devices-sim/profiles/index.js';
import type { Reading } from '../../../devices-sim/profiles/profile.js';
import { createRandom, deriveSeed } from '../../../devices-sim/random.js';
import { errorOf } from './sim-error.js';

const T0 = Date.UTC(2026, 0, 15, 9);


/** One device of `profile` with its anomalies, next to the same seed without them. */
function simulate(profile: ProfileName, specs: AnomalySpec[], { messages = 60, ratePerMinute = 0 } = {}) {
  const baseline = PROFILES[profile].create(createRandom(deriveSeed(3, 1)), 'dev-1');
  const device = PROFILES[profile].create(createRandom(deriveSeed(3, 1)), 'dev-1');
  const labels: AnomalyLabel[] = [];
  const injector = new DeviceAnomalies('dev-1', specs, createRandom(9), ratePerMinute, createAnomalyStats(), (l) => labels.push(l), PROFILES[profile].metrics);
  const rows: { normal: Reading; sent: Reading | null }[] = [];
  for (let k = 0; k < messages; k++) {
    const ts = T0 + k * 1000;
    rows.push({ normal: baseline.next(ts), sent: injector.apply(device.next(ts), ts, k * 1000) });
  }
  injector.finish();
  return { rows, labels };
}

describe('anomalies on the metrics of each profile', () => {
  it('name each profile\'s numeric metrics, the plug\'s on/off state not among them', () => {
    expect(profileMetrics('environment')).toEqual(['temperature', 'humidity', 'battery']);
    expect(profileMetrics('vibration')).toEqual(['rmsVelocity', 'peakAcceleration', 'spindleRpm', 'bearingTemperature']);
    expect(profileMetrics('gps')).toEqual(['lat', 'lon', 'speed', 'heading', 'battery']);
    expect(profileMetrics('plug')).toEqual(['power', 'voltage', 'current', 'energy']);
  });

  it.each(PROFILE_NAMES.flatMap((p) => profileMetrics(p).map((m) => [p, m] as const)))(
    '%s: a spike on %s changes exactly one reading, by the profile\'s default magnitude unless the range holds it',
    (profile, metric) => {
      const spec = parseAnomalySpec(`spike:${metric}@10`, profile);
      expect(spec.magnitude).toBe(PROFILES[profile].metrics[metric].anomaly.spike);
      const { rows, labels } = simulate(profile, [spec]);
      const changed = rows.flatMap((r, k) => (r.sent![metric] !== r.normal[metric] ? [k] : []));
      expect(changed).toEqual([10]);
      const { range, wraps } = PROFILES[profile].metrics[metric];
      const expected = (rows[10].normal[metric] as number) + spec.magnitude!;
      if (!wraps && expected >= range[0] && expected <= range[1]) expect(rows[10].sent![metric]).toBeCloseTo(expected, 3);
      expect(labels).toEqual([expect.objectContaining({ metric, kind: 'spike', messages: 1 })]);
      // every other attribute of the payload is untouched
      for (const [key, value] of Object.entries(rows[10].normal)) if (key !== metric) expect(rows[10].sent![key]).toEqual(value);
    },
  );

  it('keep the metric\'s resolution and range: rpm stays whole, an angle wraps, power cannot go negative', () => {
    const rpm = simulate('vibration', [parseAnomalySpec('shift:spindleRpm@5:-123.456:5s', 'vibration')]).rows;
    expect(Number.isInteger(rpm[7].sent!.spindleRpm)).toBe(true);
    expect(rpm[7].sent!.spindleRpm).toBe(Math.round((rpm[7].normal.spindleRpm as number) - 123.456));
    const heading = simulate('gps', [parseAnomalySpec('shift:heading@5:+350:5s', 'gps')]).rows;
    expect(heading[7].sent!.heading).toBeCloseTo((((heading[7].normal.heading as number) + 350) % 360), 1);
    expect(simulate('plug', [parseAnomalySpec('spike:power@5:-100000', 'plug')]).rows[5].sent!.power).toBe(0);
  });

  it('flatline a plug\'s power with stuck while its on/off state keeps being reported', () => {
    const { rows } = simulate('plug', [parseAnomalySpec('stuck:power@5:10s', 'plug')]);
    for (let k = 5; k < 15; k++) {
      expect(rows[k].sent!.power).toBe(rows[4].sent!.power);
      expect(rows[k].sent!.state).toBe('on');
    }
  });

  it('pick random anomalies among the profile\'s own metrics only', () => {
    const { labels } = simulate('vibration', [], { messages: 3600, ratePerMinute: 0.5 });
    const metrics = new Set(labels.map((l) => l.metric).filter((m) => m !== null));
    expect(metrics.size).toBeGreaterThan(1);
    for (const m of metrics) expect(profileMetrics('vibration')).toContain(m);
  });

  it('match metric names case-insensitively and store the profile\'s spelling', () => {
    expect(parseAnomalySpec('drift:RMSVELOCITY@30', 'vibration')).toEqual({ kind: 'drift', metric: 'rmsVelocity', atS: 30, magnitude: 4, durationS: 60 });
  });
});

describe('a spec naming a metric the profile lacks', () => {
  it('is refused when parsed for that profile, naming its metrics and the profile that has it', () => {
    const error = errorOf(() => parseAnomalySpec('spike:temperature@3', 'vibration'));
    expect(error.code).toBe('InvalidArgumentException');
    expect(error.message).toBe(
      'anomaly "spike:temperature@3": unknown metric "temperature" (one of rmsVelocity, peakAcceleration, spindleRpm, ' +
        'bearingTemperature) for the vibration profile; "temperature" is a metric of the environment profile',
    );
  });

  it('is refused by the fleet options when it was parsed for another profile', () => {
    const error = errorOf(() =>
      resolveFleetOptions({ url: 'mqtt://h:1883', profile: 'plug', anomalies: { specs: [parseAnomalySpec('shift:humidity@1')] } }),
    );
    expect(error.code).toBe('InvalidArgumentException');
    expect(error.message).toMatch(/^anomaly "shift:humidity@1:\+15": unknown metric "humidity" \(one of power, voltage, current, energy\) for the plug profile/);
  });

  it('is refused on the command line whatever the order of --profile and --anomaly', () => {
    for (const argv of [
      ['--profile', 'gps', '--anomaly', 'spike:temperature@3'],
      ['--anomaly', 'spike:temperature@3', '--profile', 'gps'],
    ]) {
      const error = errorOf(() => parseCliArgs(argv));
      expect(error.code).toBe('InvalidArgumentException');
      expect(error.message).toMatch(/^--anomaly "spike:temperature@3": unknown metric "temperature" \(one of lat, lon, speed, heading, battery\) for the gps profile/);
    }
  });

  it('does not affect a metric two profiles share: battery works for gps with its defaults', () => {
    const command = parseCliArgs(['--profile', 'gps', '--anomaly', 'spike:battery@3']);
    expect(command.kind === 'run' && command.options.anomalies?.specs).toEqual([{ kind: 'spike', metric: 'battery', atS: 3, magnitude: -30, durationS: 0 }]);
  });
});

describe('--profile', () => {
  it('defaults to environment and accepts every profile name', () => {
    const profileOf = (argv: string[]) => {
      const command = parseCliArgs(argv);
      return command.kind === 'run' ? command.options.profile : undefined;
    };
    expect(profileOf([])).toBe('environment');
    for (const name of PROFILE_NAMES) expect(profileOf(['--profile', name])).toBe(name);
  });

  it('refuses an unknown profile in the CLI and in the fleet options', () => {
    expect(errorOf(() => parseCliArgs(['--profile', 'toaster'])).message).toBe(
      '--profile must be one of environment, vibration, gps, plug, got "toaster" (see --help)',
    );
    const error = errorOf(() => resolveFleetOptions({ url: 'mqtt://h:1883', profile: 'toaster' as ProfileName }));
    expect(error).toBeInstanceOf(SimError);
    expect(error.code).toBe('InvalidArgumentException');
  });
});
