// Entry of one shard process of a sharded run (forked by sharded-fleet.ts, never run by hand):
// waits for its options, runs its slice of the fleet with startFleet, reports its counters
// while running and its result at the end. Ctrl-C in a terminal reaches every process of the
// group, so a shard stops on SIGINT/SIGTERM as on the parent's "stop"; without a parent (it
// died) there is nobody to report to, so it stops and exits.

import type { AnomalyLabel } from './anomalies.js';
import { startFleet, type FleetResult, type FleetRun } from './fleet.js';
import { PROGRESS_INTERVAL_MS, type FromShard, type ToShard } from './shard-protocol.js';

const abort = new AbortController();

function send(message: FromShard): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, undefined, () => resolve());
  });
}

let signals = 0;
const onSignal = () => {
  if (++signals > 1) process.exit(130); // a second Ctrl-C: now, as the parent does
  abort.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('disconnect', () => {
  abort.abort();
  setTimeout(() => process.exit(1), 3000).unref();
});

let started = false;
process.on('message', (message: ToShard) => {
  if (message.type === 'start') {
    started = true;
    void run(message);
  } else if (!started) {
    process.exit(0); // stopped before it started (another shard failed to come up)
  } else {
    abort.abort();
  }
});

async function run({ options }: Extract<ToShard, { type: 'start' }>): Promise<void> {
  // the parent writes the labels file: one writer for all shards
  const anomalies = options.anomalies && { ...options.anomalies, onLabel: (label: AnomalyLabel) => void send({ type: 'label', label }) };
  let fleet: FleetRun;
  try {
    fleet = startFleet({ ...options, anomalies, signal: abort.signal, log: (line) => void send({ type: 'log', line }) });
  } catch (error) {
    await send({ type: 'failed', message: (error as Error).message });
    process.exit(1);
  }
  const progress = setInterval(() => void send({ type: 'progress', counters: { ...fleet.counters } }), PROGRESS_INTERVAL_MS);
  try {
    const result = await fleet.result;
    clearInterval(progress);
    await send({ type: 'progress', counters: { ...fleet.counters } });
    await send({ type: 'done', result });
  } catch (error) {
    clearInterval(progress);
    const result = (error as { result?: FleetResult }).result;
    await send({ type: 'failed', message: (error as Error).message, ...(result ? { result } : {}) });
  }
  process.exit(0); // mqtt.js reconnect timers of never-connected clients must not keep us alive
}

void send({ type: 'ready' });
