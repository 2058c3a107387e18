import { buildSummary, LatencyRecorder } from '../../../devices-sim/report.js';
import { createRandom } from '../../../devices-sim/random.js';
import { buildRunReport, csvField, flatten, toCsv, urlWithoutCredentials } from '../../../devices-sim/run-report.js';
import type { RunEnvironment } from '../../../devices-sim/run-environment.js';

const environment: RunEnvironment = {
  commit: 'abc1234',
  machine: { cpu: 'Test CPU @ 2.0GHz × 2', cores: 2, memoryGiB: 7.8, os: 'linux 6.1' },
  versions: { node: 'v20.0.0', mqtt: '5.16.0' },
};
const options = { devices: 10, rate: 2, qos: 1 as const, maxInflight: 20, tickMs: 25, profile: 'environment' as const, payloadBytes: undefined, durationS: 5, url: 'mqtt://alice:s3cret@broker:1883' };
const times = { startedAt: new Date('2025-01-02T03:04:05.000Z'), endedAt: new Date('2025-01-02T03:04:10.500Z'), outcome: 'completed' as const };
const counters = { devices: 10, connected: 10, sent: 100, acknowledged: 90, errors: 1, skipped: 3, reconnects: 2 };

function qos1Summary() {
  const recorder = new LatencyRecorder(createRandom(1));
  for (let ms = 1; ms <= 10; ms++) recorder.record(ms);
  return buildSummary({ ...counters, qos: 1 }, 4000, recorder);
}

describe('the run report', () => {
  it('holds offered and achieved rates, counters, PUBACK percentiles, options and where it ran', () => {
    const report = buildRunReport(qos1Summary(), options, times, environment);
    expect(report).toEqual({
      startedAt: '2025-01-02T03:04:05.000Z',
      endedAt: '2025-01-02T03:04:10.500Z',
      outcome: 'completed',
      commit: 'abc1234',
      machine: environment.machine,
      versions: environment.versions,
      options: { devices: 10, rate: 2, jitter: 0, qos: 1, maxInflight: 20, tickMs: 25, profile: 'environment', payloadBytes: null, durationS: 5, url: 'mqtt://broker:1883', shards: 1, faults: null },
      rates: { offered: 20, sent: 25, acknowledged: 22.5 },
      counts: { durationS: 4, connected: 10, sent: 100, acknowledged: 90, errors: 1, skipped: 3, reconnects: 2 },
      pubackLatencyMs: { p50: 5, p90: 9, p99: 10, max: 10, count: 10 },
      rowLatencyMs: { p50: null, p90: null, p99: null, mean: null, count: null, settled: null, datastores: null },
      faults: { disconnects: null, reconnects: null, vanished: null, inflightAtDisconnect: null, redelivered: null, lost: null },
    });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('holds the row latency the run measured, in the columns an unmeasured run leaves empty', () => {
    const rowLatencyMs = { p50: 12.5, p90: 40, p99: 95.1, meanMs: 20.2, count: 90, datastores: ['a_store', 'b_store'], settled: true };
    const measured = buildRunReport({ ...qos1Summary(), rowLatencyMs }, options, times, environment);
    expect(measured.rowLatencyMs).toEqual({ p50: 12.5, p90: 40, p99: 95.1, mean: 20.2, count: 90, settled: true, datastores: 'a_store b_store' });
    const unreadable = buildRunReport({ ...qos1Summary(), rowLatencyMs: null }, options, times, environment);
    expect(Object.keys(flatten(unreadable))).toEqual(Object.keys(flatten(measured)));
    expect(toCsv(measured)).toContain('rowLatencyMs.p99');
    expect(toCsv(measured).split('\r\n')[1]).toContain('12.5,40,95.1,20.2,90,true,a_store b_store');
  });

  it('keeps the same columns for QoS 0, with acknowledgements and latencies empty', () => {
    const qos1 = buildRunReport(qos1Summary(), options, times, environment);
    const qos0 = buildRunReport(buildSummary({ ...counters, acknowledged: 0, qos: 0 }, 4000, null), { ...options, qos: 0 }, times, environment);
    expect(Object.keys(flatten(qos0))).toEqual(Object.keys(flatten(qos1)));
    expect(qos0.rates.acknowledged).toBeNull();
    expect(qos0.counts.acknowledged).toBeNull();
    expect(qos0.pubackLatencyMs).toEqual({ p50: null, p90: null, p99: null, max: null, count: 0 });
    expect(toCsv(qos0).split('\r\n')[1]).toContain(',,,,0');
  });
});

describe('the run report of a sharded run with faults', () => {
  const faults = { disconnects: 10, reconnects: 9, vanished: 1, inflightAtDisconnect: 4, redelivered: 3, lost: 1, specs: ['reconnect-storm@2', 'abrupt-disconnect:1@3'] };

  it('names the shards and faults in its options and says how many in-flight publishes were redelivered or lost', () => {
    const report = buildRunReport({ ...qos1Summary(), faults }, { ...options, shards: 2 }, times, environment);
    expect(report.options).toMatchObject({ shards: 2, faults: 'reconnect-storm@2 abrupt-disconnect:1@3' });
    expect(report.faults).toEqual({ disconnects: 10, reconnects: 9, vanished: 1, inflightAtDisconnect: 4, redelivered: 3, lost: 1 });
    expect(report.counts).toMatchObject({ sent: 100, acknowledged: 90 });
  });

  it('keeps the columns of a plain run, so reports of both kinds stack into one table', () => {
    const plain = buildRunReport(qos1Summary(), options, times, environment);
    const faulty = buildRunReport({ ...qos1Summary(), faults }, { ...options, shards: 4 }, times, environment);
    expect(Object.keys(flatten(faulty))).toEqual(Object.keys(flatten(plain)));
  });
});

describe('urlWithoutCredentials', () => {
  it('removes the user name and password and keeps the rest', () => {
    expect(urlWithoutCredentials('mqtts://dev:p%40ss@broker.example:8883/path')).toBe('mqtts://broker.example:8883/path');
    expect(urlWithoutCredentials('ws://user@host:8080/mqtt')).toBe('ws://host:8080/mqtt');
  });

  it('leaves a URL without credentials exactly as given', () => {
    expect(urlWithoutCredentials('mqtt://127.0.0.1:1883')).toBe('mqtt://127.0.0.1:1883');
  });

  it('still drops an authority part from text that is not a valid URL', () => {
    expect(urlWithoutCredentials('mqtt://u:p@[bad')).toBe('mqtt://[bad');
  });
});

describe('CSV', () => {
  it('flattens nested members into dotted column names in a header row and one data row', () => {
    const csv = toCsv({ a: 1, b: { c: 'x', d: { e: true } }, f: null });
    expect(csv).toBe('a,b.c,b.d.e,f\r\n1,x,true,\r\n');
  });

  it('quotes fields with commas, quotes or line breaks and doubles the quotes (RFC 4180)', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(null)).toBe('');
    expect(csvField(0)).toBe('0');
  });

  it('writes the report as as many header columns as data fields, the machine quoted', () => {
    const report = buildRunReport(qos1Summary(), options, times, { ...environment, machine: { ...environment.machine, cpu: 'Vendor, "Fast" CPU × 2' } });
    const csv = toCsv(report);
    const [header, data, rest] = csv.split('\r\n');
    expect(rest).toBe('');
    expect(header.split(',')).toContain('pubackLatencyMs.p90');
    expect(header.split(',')).toContain('machine.cpu');
    expect(data).toContain('"Vendor, ""Fast"" CPU × 2"');
    expect(data).toContain('mqtt://broker:1883');
    expect(data).not.toContain('s3cret');
  });
});
