// The messages between a sharded run's parent (sharded-fleet.ts) and its shard processes
// (shard-worker.ts), over the IPC channel of child_process.fork with the "advanced" (structured
// clone) serialization, so latency samples travel as a Float64Array. Only data crosses: no
// functions, no AbortSignal.

import type { AnomalyLabel } from './anomalies.js';
import type { FleetCounters } from './device.js';
import type { FleetResult } from './fleet.js';
import type { FleetOptionsInput } from './options.js';

/** A shard's fleet options: the parent's, minus callbacks, signal and provisioning settings. */
export type ShardOptions = Omit<FleetOptionsInput, 'signal' | 'log' | 'provision'>;

export type ToShard = { type: 'start'; options: ShardOptions } | { type: 'stop' };

export type FromShard =
  | { type: 'ready' }
  | { type: 'progress'; counters: FleetCounters }
  | { type: 'log'; line: string }
  | { type: 'label'; label: AnomalyLabel }
  | { type: 'done'; result: FleetResult }
  /** the run failed; `result` when it still produced one (no device could connect) */
  | { type: 'failed'; message: string; result?: FleetResult };

/** How often a shard reports its counters (the parent's progress bar redraws every 500 ms). */
export const PROGRESS_INTERVAL_MS = 250;
