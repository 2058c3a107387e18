// Detector throughput: points per second per core for every detector in the registry, one
// thread, on a long synthetic series (a daily sine with noise, a few spikes and a level shift).
// The series is generated once into typed arrays so the loop measures the detectors only.
import { machineHeader, table } from './machine.js';
import { DETECTORS, DEFAULT_DETECTOR_NAME } from '../analytics/anomaly/registry.js';

const POINTS = Number(process.env.BENCH_DETECTOR_POINTS ?? 10_000_000);
const STEP_MS = 60_000;

function series(n: number): { values: Float64Array; times: Float64Array } {
  const values = new Float64Array(n);
  const times = new Float64Array(n);
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const t0 = Date.UTC(2024, 0, 1);
  for (let i = 0; i < n; i++) {
    times[i] = t0 + i * STEP_MS;
    const noise = (rand() + rand() + rand() - 1.5) * 2;
    values[i] = 50 + 10 * Math.sin((2 * Math.PI * i) / 1440) + noise + (i > n / 2 ? 15 : 0);
    if (i % 100_003 === 50_000) values[i] += 60; // a spike every ~100k points
  }
  return { values, times };
}

const { values, times } = series(POINTS);
const rows: Record<string, string | number>[] = [];
for (const [name, factory] of Object.entries(DETECTORS)) {
  // warm the JIT on a short prefix with a separate instance, then time a fresh one end to end
  const warm = factory.create();
  for (let i = 0; i < 200_000 && i < POINTS; i++) warm.update(values[i], times[i]);
  const detector = factory.create();
  let sum = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < POINTS; i++) sum += detector.update(values[i], times[i]);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  rows.push({
    detector: name + (name === DEFAULT_DETECTOR_NAME ? ' (default)' : ''),
    points: POINTS,
    seconds: seconds.toFixed(2),
    'points/s/core': Math.round(POINTS / seconds).toLocaleString('en-US'),
    'ns/point': ((seconds * 1e9) / POINTS).toFixed(1),
    'mean score': (sum / POINTS).toFixed(4),
  });
}

console.log(machineHeader('Anomaly detectors: throughput, one thread'));
console.log(`series: ${POINTS.toLocaleString('en-US')} points, daily sine + noise, spikes every ~100k points, level shift halfway`);
console.log(table(rows));
