// How a fleet is split over processes (--shards): which devices each shard runs and how many
// shards "auto" means. Pure, so the split is unit-tested.

import { availableParallelism } from 'node:os';

/**
 * The offered rate (msg/s over the fleet) up to which "--shards auto" keeps one process; above
 * it, one per CPU. One process reached 10k msg/s offered in the end-to-end benchmark
 * (BENCHMARKS.md) while sharing 2 cores with the server, so half of that leaves its event loop
 * headroom for PUBACKs, reconnects and latency measurement. Give --shards N to choose yourself.
 */
export const AUTO_SHARD_RATE = 5000;

/** The most processes --shards accepts (a typo guard; each shard is a Node process). */
export const MAX_SHARDS = 64;

/**
 * The 1-based device indexes of shard `shard` (0-based) of `count`: every count-th device,
 * starting at shard + 1. Interleaved rather than in blocks so every shard connects its devices
 * over the whole ramp-up, as the unsharded fleet does, and carries the same share of the load
 * at every moment. Disjoint over the shards, and together every index from 1 to `total`.
 */
export function shardDeviceIndexes(total: number, shard: number, count: number): number[] {
  const indexes: number[] = [];
  for (let n = shard + 1; n <= total; n += count) indexes.push(n);
  return indexes;
}

/** "--shards auto": 1 while devices × rate <= AUTO_SHARD_RATE msg/s, else one per CPU (never more
 * shards than devices). */
export function autoShards(devices: number, ratePerDevice: number, cpus = availableParallelism()): number {
  if (devices * ratePerDevice <= AUTO_SHARD_RATE) return 1;
  return Math.max(1, Math.min(cpus, devices, MAX_SHARDS));
}
