import type { FleetResult } from '../../../devices-sim/fleet.js';
import { createRandom } from '../../../devices-sim/random.js';
import { buildSummary, LatencyRecorder, percentile, summarizeLatency } from '../../../devices-sim/report.js';
import { mergeShardResults } from '../../../devices-sim/shard-merge.js';
import { AUTO_SHARD_RATE, autoShards, shardDeviceIndexes } from '../../../devices-sim/shard-plan.js';

describe('the split of a fleet over shards', () => {
  it.each([
    [10, 1],
    [10, 3],
    [7, 7],
    [1000, 4],
  ])('gives %i devices over %i shards disjoint slices that together hold every device once', (total, count) => {
    const slices = Array.from({ length: count }, (_, k) => shardDeviceIndexes(total, k, count));
    const all = slices.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: total }, (_, k) => k + 1));
    // as even as possible: sizes differ by at most one
    const sizes = slices.map((s) => s.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('interleaves devices, so each shard has some early and some late in the ramp-up', () => {
    expect(shardDeviceIndexes(7, 0, 3)).toEqual([1, 4, 7]);
    expect(shardDeviceIndexes(7, 2, 3)).toEqual([3, 6]);
  });

  it('"auto" keeps one process up to the documented rate and uses one per CPU above it, never more than devices', () => {
    expect(autoShards(100, AUTO_SHARD_RATE / 100, 8)).toBe(1);
    expect(autoShards(100, AUTO_SHARD_RATE / 50, 8)).toBe(8);
    expect(autoShards(3, AUTO_SHARD_RATE, 8)).toBe(3);
  });
});

/** A shard's result with the given latencies (ms) recorded, sent = acknowledged = their count. */
function shardResult(latencies: number[], capacity: number, firstPublish: number, stopped: number, seed: number): FleetResult {
  const recorder = new LatencyRecorder(createRandom(seed), capacity);
  for (const ms of latencies) recorder.record(ms);
  const n = latencies.length;
  const summary = buildSummary({ devices: 2, connected: 2, qos: 1, sent: n, acknowledged: n, errors: 1, skipped: 2, reconnects: 3 }, stopped - firstPublish, recorder);
  return { summary, latency: recorder.snapshot(), firstPublishEpochMs: firstPublish, stoppedEpochMs: stopped };
}

describe('merging shard results', () => {
  it('adds up the counters and spans the duration from the first shard start to the last stop', () => {
    const a = shardResult([1, 2, 3], 100, 10_000, 14_000, 1);
    const b = shardResult([4, 5], 100, 10_500, 15_000, 2);
    const merged = mergeShardResults([a, b], { qos: 1 });
    expect(merged).toMatchObject({ devices: 4, connected: 4, sent: 5, acknowledged: 5, errors: 2, skipped: 4, reconnects: 6, durationS: 5, msgPerSec: 1 });
    expect(merged.shards).toEqual([
      { shard: 0, devices: 2, connected: 2, sent: 3, acknowledged: 3, errors: 1 },
      { shard: 1, devices: 2, connected: 2, sent: 2, acknowledged: 2, errors: 1 },
    ]);
  });

  it('computes latency percentiles over all samples together, not as an average of the shards', () => {
    // one fast busy shard and one slow quiet one: the average of their p50s would be ~50 ms
    const fast = Array.from({ length: 900 }, (_, k) => 1 + (k % 10));
    const slow = Array.from({ length: 100 }, (_, k) => 100 + k);
    const merged = mergeShardResults([shardResult(fast, 10_000, 0, 1000, 1), shardResult(slow, 10_000, 0, 1000, 2)], { qos: 1 });
    const union = Float64Array.from([...fast, ...slow]).sort();
    expect(merged.latencyMs).toEqual({ p50: percentile(union, 50), p90: percentile(union, 90), p99: percentile(union, 99), max: 199, count: 1000 });
    expect(merged.latencyMs!.p50).toBeLessThan(11);
  });

  it('weighs each shard by what it measured when its reservoir kept only a sample', () => {
    // shard A measured 20 000 latencies of 10 ms but kept 1 000; shard B kept all its 1 000 of 50 ms:
    // 95 % of all measurements are 10 ms, so p90 is 10 and p99 is 50
    const merged = summarizeLatency([
      { samples: new Float64Array(1000).fill(10), seen: 20_000, max: 10 },
      { samples: new Float64Array(1000).fill(50), seen: 1000, max: 50 },
    ]);
    expect(merged).toEqual({ p50: 10, p90: 10, p99: 50, max: 50, count: 21_000 });
  });

  it('summarises one recorder exactly as before sharding existed', () => {
    const recorder = new LatencyRecorder(createRandom(7), 50);
    for (let k = 1; k <= 500; k++) recorder.record(k % 37);
    expect(summarizeLatency([recorder.snapshot()])).toEqual(recorder.summarize());
    expect(recorder.summarize()!.count).toBe(500);
  });

  it('keeps the summary of the shards that ended when one crashed, and has no latency for QoS 0', () => {
    const a = shardResult([1, 2], 100, 0, 2000, 1);
    const merged = mergeShardResults([a, undefined], { qos: 0 });
    expect(merged.sent).toBe(2);
    expect(merged.latencyMs).toBeNull();
    expect(merged.shards![1]).toEqual({ shard: 1, devices: 0, connected: 0, sent: 0, acknowledged: 0, errors: 0 });
  });

  it('adds up the fault counters of the shards', () => {
    const faults = { disconnects: 2, reconnects: 2, vanished: 0, inflightAtDisconnect: 3, redelivered: 3, lost: 0, specs: ['reconnect-storm@1'] };
    const a = shardResult([1], 100, 0, 1000, 1);
    const b = shardResult([1], 100, 0, 1000, 2);
    const merged = mergeShardResults([{ ...a, summary: { ...a.summary, faults } }, { ...b, summary: { ...b.summary, faults: { ...faults, lost: 1 } } }], { qos: 1 });
    expect(merged.faults).toEqual({ disconnects: 4, reconnects: 4, vanished: 0, inflightAtDisconnect: 6, redelivered: 6, lost: 1, specs: ['reconnect-storm@1'] });
  });
});
