// A fleet over several processes (--shards N): one child process per shard, each with its own
// event loop and sockets, running a disjoint slice of the devices (shard-plan.ts) with the ids,
// seeds and start times of the whole fleet. The parent provisions once (if asked), writes the
// one labels file, sums the shards' live counters for the progress bar, forwards a stop to every
// shard, and merges their results into one summary (shard-merge.ts).

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FleetCounters } from './device.js';
import { SimError } from './errors.js';
import type { FleetResult } from './fleet.js';
import { LabelWriter } from './labels.js';
import { resolveFleetOptions, type FleetOptions, type FleetOptionsInput, type ProvisionedMaterial } from './options.js';
import { PROFILES } from './profiles/index.js';
import type { Summary } from './report.js';
import { mergeShardResults } from './shard-merge.js';
import { shardDeviceIndexes } from './shard-plan.js';
import type { FromShard, ShardOptions, ToShard } from './shard-protocol.js';

export interface ShardedRun {
  /** the merged summary, once every shard has ended */
  done: Promise<Summary>;
  /** the shards' live counters, summed (read-only use) */
  counters: Readonly<FleetCounters>;
}

/** The worker next to this module: shard-worker.ts when run from source (tsx), .js once built. */
const WORKER = fileURLToPath(new URL(`./shard-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

export function startShardedFleet(input: FleetOptionsInput, shards: number): ShardedRun {
  const options = resolveFleetOptions(input);
  if (!Number.isInteger(shards) || shards < 1 || shards > options.devices) {
    throw new SimError('InvalidArgumentException', `shards must be an integer between 1 and the number of devices (${options.devices}), got ${shards}`);
  }
  const counters: FleetCounters = { sent: 0, acknowledged: 0, errors: 0, skipped: 0, reconnects: 0, connected: 0, inflight: 0 };
  const done = run(options, shards, counters);
  return { done, counters };
}

async function run(options: FleetOptions, shards: number, counters: FleetCounters): Promise<Summary> {
  const material = options.provision ? await provisionOnce(options) : undefined;
  const labels = options.anomalies?.labelsFile !== undefined ? new LabelWriter(options.anomalies.labelsFile) : undefined;
  const latest: FleetCounters[] = [];
  const results: (FleetResult | undefined)[] = new Array(shards).fill(undefined);
  const failures: string[] = [];
  const sum = () => {
    for (const key of Object.keys(counters) as (keyof FleetCounters)[]) counters[key] = latest.reduce((n, c) => n + (c?.[key] ?? 0), 0);
  };

  const children = Array.from({ length: shards }, () => forkShard());
  const stop = () => children.forEach((child) => sendTo(child, { type: 'stop' }));
  options.signal?.addEventListener('abort', stop, { once: true });
  let ready = 0;
  const ended = children.map(
    (child, k) =>
      new Promise<void>((resolve) => {
        child.on('message', (message: FromShard) => {
          switch (message.type) {
            case 'ready':
              // all shards start together, so their ramp-ups and fault times line up
              if (++ready === shards) children.forEach((c, j) => sendTo(c, { type: 'start', options: shardOptions(options, j, shards, material) }));
              break;
            case 'progress':
              latest[k] = message.counters;
              sum();
              break;
            case 'log':
              options.log?.(`[shard ${k}] ${message.line}`);
              break;
            case 'label':
              labels?.add(message.label);
              options.anomalies?.onLabel?.(message.label);
              break;
            case 'done':
              results[k] = message.result;
              break;
            case 'failed':
              if (message.result) results[k] = message.result;
              else failures.push(`shard ${k}: ${message.message}`);
              break;
          }
        });
        child.once('exit', (code, signal) => {
          if (results[k] === undefined && !failures.some((f) => f.startsWith(`shard ${k}:`))) {
            failures.push(`shard ${k}: exited (${signal ?? `code ${code}`}) without a result`);
          }
          resolve();
        });
      }),
  );
  // a shard that fails before "ready" would leave the others waiting for "start" forever
  const early = ended.map((p) => p.then(() => ready < shards && stop()));
  void Promise.all(early).catch(() => undefined);
  await Promise.all(ended);
  options.signal?.removeEventListener('abort', stop);
  await labels?.close();
  if (labels?.error) options.log?.(`labels: writing ${labels.path} failed: ${labels.error.message}`);

  const summary = mergeShardResults(results, { qos: options.qos, ...(labels ? { labels: { path: labels.path, dropped: labels.dropped } } : {}) });
  if (failures.length > 0) {
    throw Object.assign(new SimError('ShardFailedException', `${failures.length} of ${shards} shards failed: ${failures.join('; ')}`), { summary });
  }
  if (summary.connected === 0) {
    throw Object.assign(new SimError('ConnectionFailedException', `no device could connect to ${options.url} (${summary.errors} connection errors)`), { summary });
  }
  return summary;
}

function forkShard(): ChildProcess {
  // from source the worker needs tsx's loader; the parent may run without it (jest, node --import)
  const hasLoader = process.execArgv.some((arg) => arg.includes('tsx'));
  const execArgv = WORKER.endsWith('.ts') && !hasLoader ? [...process.execArgv, '--import', 'tsx'] : process.execArgv;
  // the shard's stdout goes to our stderr: stdout carries only the summary
  return fork(WORKER, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 2, 2, 'ipc'] });
}

function sendTo(child: ChildProcess, message: ToShard): void {
  if (child.connected) child.send(message, (error) => void error); // a shard that just exited: nothing to do
}

/** The options shard `shard` runs with: the parent's data only (no callbacks, no signal). */
function shardOptions(options: FleetOptions, shard: number, count: number, material: ProvisionedMaterial | undefined): ShardOptions {
  const { signal: _signal, log: _log, provision: _provision, anomalies, ...rest } = options;
  const slice = material && {
    ca: material.ca,
    devices: Object.fromEntries(shardDeviceIndexes(options.devices, shard, count).map((n) => [n, material.devices[n]])),
  };
  return {
    ...rest,
    shard: { index: shard, count },
    ...(anomalies ? { anomalies: { specs: anomalies.specs, devices: anomalies.devices, ratePerMinute: anomalies.ratePerMinute } } : {}),
    ...(slice ? { provisioned: slice } : {}),
  };
}

/** Provisions the whole fleet here, once, so shards do not race to create the same policy. */
async function provisionOnce(options: FleetOptions): Promise<ProvisionedMaterial> {
  const { provisionFleet } = await import('./provision.js');
  const fleet = await provisionFleet(options.provision!, { prefix: options.prefix, devices: options.devices, caFile: options.caFile, shadow: PROFILES[options.profile].obeysShadow });
  options.log?.(`provisioned ${fleet.devices.length} devices with policy ${fleet.policyName}: ${fleet.issued} new certificates, ${fleet.reused} reused from ${options.provision!.certsDir}`);
  return { ca: fleet.ca, devices: Object.fromEntries(fleet.devices.map((d, k) => [k + 1, { cert: d.cert, key: d.key }])) };
}
