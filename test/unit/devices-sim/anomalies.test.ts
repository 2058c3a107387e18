import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatAnomalySpec, parseAnomalySpec, type AnomalyLabel, type AnomalySpec, type Metric } from '../../../devices-sim/anomalies.js';
import { createAnomalyStats, DeviceAnomalies } from '../../../devices-sim/anomaly-injector.js';
import { parseCliArgs } from '../../../devices-sim/cli-args.js';
import { SimError } from '../../../devices-sim/errors.js';
import { LabelWriter } from '../../../devices-sim/labels.js';
import { createEnvironmentProfile, type EnvironmentReading } from '../../../devices-sim/profiles/environment.js';
import { createRandom, deriveSeed } from '../../../devices-sim/random.js';
import { buildSummary, formatSummary } from '../../../devices-sim/report.js';
import { errorOf } from './sim-error.js';

const T0 = Date.UTC(2026, 0, 15, 9);

interface Row {
  ts: number;
  normal: EnvironmentReading;
  sent: EnvironmentReading | null;
}

/** One device publishing `messages` readings `intervalMs` apart, next to the same seed without anomalies. */
function simulate(specs: AnomalySpec[], { messages = 60, intervalMs = 1000, ratePerMinute = 0, seed = 7 } = {}) {
  const baseline = createEnvironmentProfile(createRandom(deriveSeed(seed, 1)));
  const profile = createEnvironmentProfile(createRandom(deriveSeed(seed, 1)));
  const labels: AnomalyLabel[] = [];
  const stats = createAnomalyStats();
  const injector = new DeviceAnomalies('dev-1', specs, createRandom(deriveSeed(seed, -2)), ratePerMinute, stats, (l) => labels.push(l));
  const rows: Row[] = [];
  for (let k = 0; k < messages; k++) {
    const ts = T0 + k * intervalMs;
    const normal = baseline.next(ts);
    rows.push({ ts, normal, sent: injector.apply(profile.next(ts), ts, k * intervalMs) });
  }
  injector.finish();
  return { rows, labels, stats };
}

const spec = (text: string) => parseAnomalySpec(text);
/** Indexes of the rows whose `metric` was sent different from the baseline (or not sent). */
const changed = (rows: Row[], metric: Metric) => rows.flatMap((r, k) => (r.sent === null || r.sent[metric] !== r.normal[metric] ? [k] : []));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);


describe('anomaly injection, one kind at a time (seed 7, one reading per second)', () => {
  it('a spike adds its magnitude to exactly one reading of its metric, the first at its start', () => {
    const { rows, labels } = simulate([spec('spike:temperature@10:+8')]);
    expect(changed(rows, 'temperature')).toEqual([10]);
    expect(changed(rows, 'humidity')).toEqual([]);
    expect(changed(rows, 'battery')).toEqual([]);
    expect(rows[10].sent!.temperature).toBeCloseTo(rows[10].normal.temperature + 8, 2);
    expect(labels).toEqual([{ deviceId: 'dev-1', metric: 'temperature', kind: 'spike', startTs: T0 + 10_000, endTs: T0 + 10_000, magnitude: 8, messages: 1 }]);
  });

  it('a shift offsets every reading of its window and none after it', () => {
    const { rows, labels } = simulate([spec('shift:humidity@20:-5:10s')]);
    expect(changed(rows, 'humidity')).toEqual(range(20, 29));
    for (const k of range(20, 29)) expect(rows[k].sent!.humidity).toBeCloseTo(rows[k].normal.humidity - 5, 2);
    expect(changed(rows, 'temperature')).toEqual([]);
    expect(labels).toEqual([{ deviceId: 'dev-1', metric: 'humidity', kind: 'shift', startTs: T0 + 20_000, endTs: T0 + 29_000, magnitude: -5, messages: 10 }]);
  });

  it('a shift without a duration lasts until the run ends and is labelled up to the last message', () => {
    const { rows, labels } = simulate([spec('shift:battery@50')]);
    expect(changed(rows, 'battery')).toEqual(range(50, 59));
    expect(rows[55].sent!.battery).toBeCloseTo(rows[55].normal.battery - 15, 2); // the default for battery
    expect(labels).toEqual([expect.objectContaining({ kind: 'shift', startTs: T0 + 50_000, endTs: T0 + 59_000, magnitude: -15, messages: 10 })]);
  });

  it('a drift ramps linearly from 0 at its start to the magnitude at its end, then stops', () => {
    const { rows, labels } = simulate([spec('drift:temperature@10:+6:30s')]);
    for (const k of range(10, 39)) expect(rows[k].sent!.temperature).toBeCloseTo(rows[k].normal.temperature + (6 * (k - 10)) / 30, 2);
    expect(changed(rows, 'temperature')).toEqual(range(11, 39)); // the ramp is 0 at its first reading
    expect(labels).toEqual([expect.objectContaining({ kind: 'drift', startTs: T0 + 10_000, endTs: T0 + 39_000, magnitude: 6, messages: 30 })]);
  });

  it('stuck repeats the last value sent before the window for exactly its duration', () => {
    const { rows, labels } = simulate([spec('stuck:humidity@15:10s')]);
    const held = rows[14].sent!.humidity;
    for (const k of range(15, 24)) expect(rows[k].sent!.humidity).toBe(held);
    expect(changed(rows, 'humidity').every((k) => k >= 15 && k <= 24)).toBe(true);
    for (const k of [...range(0, 14), ...range(25, 59)]) expect(rows[k].sent).toEqual(rows[k].normal);
    expect(labels).toEqual([{ deviceId: 'dev-1', metric: 'humidity', kind: 'stuck', startTs: T0 + 15_000, endTs: T0 + 24_000, magnitude: null, messages: 10 }]);
  });

  it('a dropout withholds every message of its window, and the readings after it are those of the same seed', () => {
    const { rows, labels, stats } = simulate([spec('dropout@5:3s')]);
    expect(rows.flatMap((r, k) => (r.sent === null ? [k] : []))).toEqual([5, 6, 7]);
    for (const k of [...range(0, 4), ...range(8, 59)]) expect(rows[k].sent).toEqual(rows[k].normal);
    expect(stats.withheld).toBe(3);
    expect(labels).toEqual([{ deviceId: 'dev-1', metric: null, kind: 'dropout', startTs: T0 + 5000, endTs: T0 + 7000, magnitude: null, messages: 3 }]);
  });

  it('a flood asks for F messages per scheduled one inside its window only, labels every message of it, and leaves the readings alone', () => {
    const labels: AnomalyLabel[] = [];
    const injector = new DeviceAnomalies('dev-1', [spec('flood@5:4:3s')], createRandom(1), 0, createAnomalyStats(), (l) => labels.push(l));
    const profile = createEnvironmentProfile(createRandom(deriveSeed(7, 1)));
    const baseline = createEnvironmentProfile(createRandom(deriveSeed(7, 1)));
    const perPublish: number[] = [];
    let sent = 0;
    for (let k = 0; k < 10; k++) {
      const elapsed = k * 1000;
      const n = injector.messagesPerPublish(elapsed);
      perPublish.push(n);
      for (let j = 0; j < n; j++) {
        const ts = T0 + elapsed + j;
        expect(injector.apply(profile.next(ts), ts, elapsed)).toEqual(baseline.next(ts));
        sent++;
      }
    }
    injector.finish();
    expect(perPublish).toEqual([1, 1, 1, 1, 1, 4, 4, 4, 1, 1]);
    expect(sent).toBe(19);
    expect(labels).toEqual([{ deviceId: 'dev-1', metric: null, kind: 'flood', startTs: T0 + 5000, endTs: T0 + 7003, magnitude: 4, messages: 12 }]);
  });

  it('noise adds zero-mean Gaussian noise of the given standard deviation inside its window only', () => {
    const { rows, labels } = simulate([spec('noise:temperature@5:2:10s')], { messages: 300, intervalMs: 100 });
    const inside = range(50, 149);
    const diffs = inside.map((k) => rows[k].sent!.temperature - rows[k].normal.temperature);
    const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
    const sd = Math.sqrt(diffs.reduce((a, d) => a + (d - mean) ** 2, 0) / diffs.length);
    expect(sd).toBeGreaterThan(1.5);
    expect(sd).toBeLessThan(2.5);
    expect(Math.abs(mean)).toBeLessThan(0.6);
    expect(changed(rows, 'temperature').every((k) => k >= 50 && k <= 149)).toBe(true);
    expect(labels).toEqual([expect.objectContaining({ kind: 'noise', startTs: T0 + 5000, endTs: T0 + 14_900, magnitude: 2, messages: 100 })]);
  });

  it('keeps injected values inside the sensor range', () => {
    const { rows } = simulate([spec('spike:humidity@3:+500'), spec('spike:battery@4:-500')]);
    expect(rows[3].sent!.humidity).toBe(100);
    expect(rows[4].sent!.battery).toBe(0);
  });

  it('counts an anomaly whose window no message reached, and labels nothing for it', () => {
    const { labels, stats } = simulate([spec('spike:temperature@600'), spec('spike:temperature@1')]);
    expect(labels).toHaveLength(1);
    expect(stats).toMatchObject({ injected: 1, notReached: 1, byKind: expect.objectContaining({ spike: 1 }) });
  });

  it('random anomalies are reproducible by seed, and every reading outside a labelled window is the normal one', () => {
    const run = () => simulate([], { messages: 3600, ratePerMinute: 0.5 });
    const first = run();
    expect(run().labels).toEqual(first.labels);
    expect(first.labels.length).toBeGreaterThan(5);
    expect(new Set(first.labels.map((l) => l.kind)).size).toBeGreaterThan(2);
    const inLabel = (ts: number) => first.labels.some((l) => ts >= l.startTs && ts <= l.endTs);
    for (const row of first.rows) if (!inLabel(row.ts)) expect(row.sent).toEqual(row.normal);
    // dropouts withhold exactly the messages of their labels
    const dropouts = first.labels.filter((l) => l.kind === 'dropout');
    const withheld = first.rows.filter((r) => r.sent === null).map((r) => r.ts);
    expect(withheld.length).toBe(dropouts.reduce((n, l) => n + l.messages, 0));
    for (const ts of withheld) expect(dropouts.some((l) => ts >= l.startTs && ts <= l.endTs)).toBe(true);
  });
});

describe('the --anomaly syntax', () => {
  it('reads kind, metric, start, signed magnitude and a duration ending in s, with defaults for the rest', () => {
    expect(spec('spike:temperature@30:+8')).toEqual({ kind: 'spike', metric: 'temperature', atS: 30, magnitude: 8, durationS: 0 });
    expect(spec('shift:humidity@1.5:-4:20s')).toEqual({ kind: 'shift', metric: 'humidity', atS: 1.5, magnitude: -4, durationS: 20 });
    expect(spec('drift:battery@0')).toEqual({ kind: 'drift', metric: 'battery', atS: 0, magnitude: -15, durationS: 60 });
    expect(spec('stuck:humidity@60:20s')).toEqual({ kind: 'stuck', metric: 'humidity', atS: 60, magnitude: null, durationS: 20 });
    expect(spec('noise:temperature@5')).toEqual({ kind: 'noise', metric: 'temperature', atS: 5, magnitude: 3, durationS: Number.POSITIVE_INFINITY });
    expect(spec('dropout@10:5s')).toEqual({ kind: 'dropout', metric: null, atS: 10, magnitude: null, durationS: 5 });
    expect(spec('flood@10')).toEqual({ kind: 'flood', metric: null, atS: 10, magnitude: 10, durationS: Number.POSITIVE_INFINITY });
    expect(spec('flood@2:5:30s')).toEqual({ kind: 'flood', metric: null, atS: 2, magnitude: 5, durationS: 30 });
    expect(formatAnomalySpec(spec('flood@2:5:30s'))).toBe('flood@2:5:30s');
  });

  it.each([
    ['spike:temperature', /expected KIND:METRIC@SECONDS/],
    ['blip:temperature@3', /unknown kind "blip" \(one of spike, shift, drift, stuck, dropout, noise, flood\)/],
    ['flood:temperature@3', /flood takes no metric \(whole messages are added\)/],
    ['flood@3:1', /flood factor must be a whole number of messages per scheduled one from 2 to 100, got 1/],
    ['flood@3:2.5', /flood factor must be a whole number/],
    ['flood@3:101', /from 2 to 100, got 101/],
    ['spike:temp@3', /unknown metric "temp" \(one of temperature, humidity, battery\)/],
    ['spike@3', /missing metric/],
    ['dropout:temperature@3', /dropout takes no metric/],
    ['spike:temperature@-1', /start "-1" must be a number of seconds >= 0/],
    ['spike:temperature@soon', /start "soon" must be a number/],
    ['spike:temperature@3:big', /magnitude "big" must be a number/],
    ['spike:temperature@3:0', /magnitude must be a number other than 0/],
    ['spike:temperature@3:+5:10s', /spike takes no duration/],
    ['stuck:humidity@3:20', /stuck takes no magnitude \(a duration ends with "s"/],
    ['shift:humidity@3:10s:+2', /the magnitude comes before the duration/],
    ['shift:humidity@3:0s', /duration must be a number of seconds > 0/],
    ['noise:humidity@3:-2', /noise magnitude is a standard deviation and must be > 0/],
    ['shift:humidity@3:1:2s:3', /expected KIND:METRIC@SECONDS/],
  ])('rejects "%s" with InvalidArgumentException', (text, message) => {
    const error = errorOf(() => parseAnomalySpec(text));
    expect(error).toBeInstanceOf(SimError);
    expect(error.code).toBe('InvalidArgumentException');
    expect(error.message).toMatch(message);
    expect(error.message).toContain(`"${text}"`);
  });
});

describe('the anomaly flags of npm run sim', () => {
  it('turn --anomaly, --anomaly-devices, --anomaly-rate and --labels into fleet options with device ids', () => {
    const command = parseCliArgs([
      '--devices', '5', '--anomaly', 'spike:temperature@3', '--anomaly', 'dropout@4:2s',
      '--anomaly-devices', 'sim-2,sim-4', '--anomaly-rate', '0.1', '--labels', 'out.jsonl',
    ]);
    if (command.kind !== 'run') throw new Error('expected a run');
    expect(command.options.anomalies).toMatchObject({
      specs: [spec('spike:temperature@3'), spec('dropout@4:2s')],
      devices: ['sim-2', 'sim-4'],
      ratePerMinute: 0.1,
      labelsFile: 'out.jsonl',
    });
  });

  it('choose the first device by default, and the first N with a count', () => {
    const ids = (argv: string[]) => {
      const command = parseCliArgs(['--devices', '4', '--anomaly', 'stuck:battery@1', ...argv]);
      return command.kind === 'run' ? command.options.anomalies?.devices : undefined;
    };
    expect(ids([])).toEqual(['sim-1']);
    expect(ids(['--anomaly-devices', '3'])).toEqual(['sim-1', 'sim-2', 'sim-3']);
  });

  it.each([
    [['--anomaly', 'spike:temp@3'], /^--anomaly "spike:temp@3": unknown metric/],
    [['--anomaly', 'spike:humidity@3', '--anomaly-devices', '11'], /--anomaly-devices must be a count between 1 and 10/],
    [['--anomaly', 'spike:humidity@3', '--anomaly-devices', 'sim-11'], /--anomaly-devices: "sim-11" is not a device of this fleet \(sim-1 to sim-10\)/],
    [['--anomaly', 'spike:humidity@3', '--anomaly-devices', 'sim-1,,sim-2'], /--anomaly-devices expects a count or comma-separated device ids/],
    [['--anomaly-rate', '1'], /--anomaly-rate must be a probability per minute between 0 and 0.99/],
    [['--anomaly-rate', 'often'], /--anomaly-rate expects a number, got "often"/],
    [['--labels', 'x.jsonl'], /--labels only applies with --anomaly or --anomaly-rate/],
    [['--anomaly', 'spike:humidity@3', '--labels', '/nonexistent-dir/x.jsonl'], /--labels "\/nonexistent-dir\/x.jsonl": the directory \/nonexistent-dir does not exist/],
    [['--anomaly-devices', '2'], /--anomaly-devices only applies with --anomaly or --anomaly-rate/],
    [Array.from({ length: 101 }, () => ['--anomaly', 'spike:battery@1']).flat(), /--anomaly may be given at most 100 times/],
  ])('reject %j with InvalidArgumentException pointing to --help', (argv, message) => {
    const error = errorOf(() => parseCliArgs(argv));
    expect(error.code).toBe('InvalidArgumentException');
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/\(see --help\)$/);
  });
});

describe('the labels file and the summary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-labels-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one JSON line per label, buffered until closed at the latest', async () => {
    const path = join(dir, 'labels.jsonl');
    const writer = new LabelWriter(path);
    const { labels } = simulate([spec('spike:temperature@1'), spec('dropout@3:2s')]);
    for (const label of labels) writer.add(label);
    await writer.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual(labels);
    expect(writer.dropped).toBe(0);
  });

  it('fails with InvalidArgumentException when the labels file cannot be created', () => {
    const error = errorOf(() => new LabelWriter(join(dir, 'missing-dir', 'labels.jsonl')));
    expect(error.code).toBe('InvalidArgumentException');
    expect(error.message).toMatch(/labels: cannot write ".*missing-dir.*labels.jsonl"/);
  });

  it('adds one line to the summary naming what was injected, by kind, and where the labels are', () => {
    const { stats } = simulate([spec('spike:temperature@1'), spec('dropout@3:2s'), spec('shift:humidity@999')]);
    const counters = { devices: 1, connected: 1, qos: 0 as const, sent: 58, acknowledged: 0, errors: 0, skipped: 0, reconnects: 0 };
    const summary = buildSummary(counters, 60_000, null, { ...stats, labelsFile: 'l.jsonl', labelsDropped: 0 });
    expect(summary.anomalies).toMatchObject({ injected: 2, notReached: 1, withheld: 2 });
    expect(formatSummary(summary).split('\n').at(-1)).toBe('anomalies    2 injected (spike 1, dropout 1), 1 not reached, 2 messages withheld, labels in l.jsonl');
    expect(buildSummary(counters, 60_000, null)).not.toHaveProperty('anomalies');
  });
});
