// The fleet: N devices driven by ONE scheduler tick. Per-device timers would drift and cost a
// timer each; instead every tick computes, from absolute time, how many publishes each device
// owes (k-th publish due at origin + k / rate, plus its jitter: schedule.ts), so the schedule
// never drifts and a stalled tick catches up with a bounded burst.
// A shard process runs a slice of the fleet (options.shard) with the ids, seeds and start times
// those devices have in the whole fleet; sharded-fleet.ts merges the slices' results.

import type { AnomalyLabel } from './anomalies.js';
import { createAnomalyStats, DeviceAnomalies, type AnomalyStats } from './anomaly-injector.js';
import { readCaFile } from './credentials.js';
import { SimDevice, type DeviceHooks, type DeviceOptions, type FleetCounters, type ShadowEvent } from './device.js';
import { SimError } from './errors.js';
import { createFaultStats, FaultInjector } from './fault-injector.js';
import { formatFaultSpec } from './faults.js';
import { LabelWriter } from './labels.js';
import { resolveFleetOptions, type FleetOptions, type FleetOptionsInput } from './options.js';
import { PROFILES } from './profiles/index.js';
import { createRandom, deriveSeed } from './random.js';
import { buildSummary, LatencyRecorder, type AnomalySummary, type FaultSummary, type LatencySnapshot, type ShadowSummary, type Summary } from './report.js';
import { PublishSchedule } from './schedule.js';
import { shardDeviceIndexes } from './shard-plan.js';

/** Mixed into a device's seed for its jitter stream. */
const JITTER_STREAM = 0x6a177e5;

/** The most publishes one device may send in one tick; beyond that the backlog is skipped. */
export function burstLimit(ratePerSec: number, tickMs: number): number {
  return Math.max(2, Math.ceil((ratePerSec * tickMs) / 1000) * 2);
}

export interface FleetRun {
  /** resolves with the summary once the run is over and all connections are closed */
  done: Promise<Summary>;
  /** the same, with what merging it with other shards needs */
  result: Promise<FleetResult>;
  /** live counters (read-only use), e.g. for progress lines */
  counters: Readonly<FleetCounters>;
}

/** A run's summary plus what sharded-fleet.ts needs to merge several (a failed run's error
 * carries it as `result`, and its summary as `summary`). */
export interface FleetResult {
  summary: Summary;
  /** the PUBACK latency samples (QoS 1), to compute percentiles over all shards */
  latency: LatencySnapshot | null;
  /** epoch ms of the first scheduled publish (NaN when no device connected) and of the stop */
  firstPublishEpochMs: number;
  stoppedEpochMs: number;
}

export function startFleet(input: FleetOptionsInput): FleetRun {
  const options = resolveFleetOptions(input);
  const counters: FleetCounters = {
    sent: 0,
    acknowledged: 0,
    errors: 0,
    skipped: 0,
    reconnects: 0,
    connected: 0,
    inflight: 0,
  };
  const result = run(options, counters);
  const done = result.then((r) => r.summary);
  // callers await one of the two; the other must not count as an unhandled rejection
  done.catch(() => undefined);
  return { done, result, counters };
}

export function runFleet(input: FleetOptionsInput): Promise<Summary> {
  return startFleet(input).done;
}

async function run(options: FleetOptions, counters: FleetCounters): Promise<FleetResult> {
  const latency = options.qos === 1 ? new LatencyRecorder(createRandom(deriveSeed(options.seed, -1))) : null;
  let firstPublishAt = Number.NaN;
  const profile = PROFILES[options.profile];
  const shadow: ShadowSummary = { reported: 0, applied: 0, ignored: 0 };
  const faultStats = options.faults?.length ? createFaultStats() : undefined;
  const hooks: DeviceHooks = {
    faults: faultStats,
    onLatency: (ms: number) => latency?.record(ms),
    onFirstConnect: (device: SimDevice, atMs: number) => {
      device.origin = atMs;
      if (Number.isNaN(firstPublishAt)) firstPublishAt = atMs;
    },
    onShadow: (event: ShadowEvent) => {
      shadow[event]++;
    },
  };
  const anomalies = anomalySetup(options); // opens the labels file: a bad path fails before connecting
  const tlsOf = await deviceTls(options);
  const devices: SimDevice[] = [];
  const schedules: PublishSchedule[] = []; // by position in `devices`
  const indexes = options.shard ? shardDeviceIndexes(options.devices, options.shard.index, options.shard.count) : Array.from({ length: options.devices }, (_, k) => k + 1);
  for (const i of indexes) {
    const random = createRandom(deriveSeed(options.seed, i));
    const deviceOptions: DeviceOptions = {
      url: options.url,
      deviceId: `${options.prefix}-${i}`,
      index: i,
      qos: options.qos,
      username: options.username,
      password: options.password,
      tls: tlsOf(i),
      reconnectPeriodMs: options.reconnectPeriodMs,
      connectTimeoutMs: options.connectTimeoutMs,
      maxInflight: options.maxInflight,
      payloadBytes: options.payloadBytes,
      payloadBytesMax: options.payloadBytesMax,
    };
    const injector = anomalies?.injectorFor(deviceOptions.deviceId, i);
    devices.push(new SimDevice(deviceOptions, profile.create(random, deviceOptions.deviceId), counters, hooks, injector));
    // its own stream, so jitter leaves the readings (and a sharded run's timing) as they were
    schedules.push(new PublishSchedule(options.rate, options.jitter, createRandom(deriveSeed(deriveSeed(options.seed, i), JITTER_STREAM))));
  }

  const startedAt = performance.now();
  const burst = burstLimit(options.rate, options.tickMs);
  const injector = options.faults?.length ? new FaultInjector(options.faults, options.devices, devices) : undefined;
  let started = 0;

  const tick = () => {
    const now = performance.now();
    // Ramp-up: device n (1-based, in the whole fleet) starts at startedAt + rampUp * (n - 1) / N.
    while (started < devices.length && now >= startedAt + (options.rampUpMs * (devices[started].index - 1)) / options.devices) {
      devices[started++].start();
    }
    for (let i = 0; i < started; i++) {
      const device = devices[i];
      if (device.vanished) continue; // gone for good: it owes nothing
      const owed = schedules[i].dueBy(device.origin, now) - device.attempted;
      if (owed <= 0) continue;
      const toSend = Math.min(owed, burst);
      counters.skipped += owed - toSend;
      device.attempted += owed;
      // publishNext counts its own skips (offline, too many unacknowledged); a flood sends several
      for (let k = 0; k < toSend; k++) for (let n = device.messagesPerPublish(); n > 0; n--) device.publishNext();
    }
    // after this tick's publishes: a fault hits devices with QoS 1 publishes just written and
    // unacknowledged, as a real network failure hits a busy device
    injector?.tick(now - startedAt);
  };

  await new Promise<void>((resolve) => {
    const timer = setInterval(tick, options.tickMs);
    let stopTimer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearInterval(timer);
      if (stopTimer) clearTimeout(stopTimer);
      options.signal?.removeEventListener('abort', finish);
      resolve();
    };
    if (options.durationS > 0) stopTimer = setTimeout(finish, options.durationS * 1000);
    if (options.signal?.aborted) finish();
    else options.signal?.addEventListener('abort', finish, { once: true });
    tick();
  });
  const stoppedAt = performance.now();
  const stoppedEpochMs = Date.now();
  const anomalySummary = await anomalies?.finish();

  await waitFor(() => counters.inflight === 0, options.drainTimeoutMs);
  // A client that never connected may not call back from end(); do not let it hold the run.
  await Promise.race([Promise.all(devices.map((d) => d.stop())), delay(2000)]);

  const durationMs = Number.isNaN(firstPublishAt) ? 0 : stoppedAt - firstPublishAt;
  const faults: FaultSummary | undefined = faultStats && { ...faultStats, specs: options.faults!.map(formatFaultSpec) };
  const summary = buildSummary(
    {
      devices: devices.length,
      connected: counters.connected,
      qos: options.qos,
      sent: counters.sent,
      acknowledged: counters.acknowledged,
      errors: counters.errors,
      skipped: counters.skipped,
      reconnects: counters.reconnects,
    },
    durationMs,
    latency,
    anomalySummary,
    profile.obeysShadow ? { ...shadow } : undefined,
    faults,
  );
  const result: FleetResult = {
    summary,
    latency: latency?.snapshot() ?? null,
    firstPublishEpochMs: stoppedEpochMs - (stoppedAt - firstPublishAt),
    stoppedEpochMs,
  };
  if (counters.connected === 0) {
    const error = new SimError(
      'ConnectionFailedException',
      `no device could connect to ${options.url} (${counters.errors} connection errors)`,
    );
    throw Object.assign(error, { summary, result });
  }
  return result;
}

/** The injectors of the chosen devices, their shared counters and the labels file. */
function anomalySetup(options: FleetOptions) {
  const config = options.anomalies;
  if (!config) return undefined;
  const chosen = new Set(config.devices as string[]); // resolveFleetOptions turned them into ids
  const stats: AnomalyStats = createAnomalyStats();
  const writer = config.labelsFile !== undefined ? new LabelWriter(config.labelsFile) : null;
  const emit = (label: AnomalyLabel) => {
    writer?.add(label);
    config.onLabel?.(label);
  };
  const injectors: DeviceAnomalies[] = [];
  return {
    injectorFor(deviceId: string, index: number): DeviceAnomalies | undefined {
      if (!chosen.has(deviceId)) return undefined;
      // a stream of its own, so the profile's readings stay those of the same seed without anomalies
      const random = createRandom(deriveSeed(deriveSeed(options.seed, -2), index));
      const injector = new DeviceAnomalies(deviceId, config.specs, random, config.ratePerMinute ?? 0, stats, emit, PROFILES[options.profile].metrics);
      injectors.push(injector);
      return injector;
    },
    /** Closes the open windows and the labels file (publishing has stopped). */
    async finish(): Promise<AnomalySummary> {
      for (const injector of injectors) injector.finish();
      await writer?.close();
      if (writer?.error) options.log?.(`labels: writing ${writer.path} failed: ${writer.error.message}`);
      return { ...stats, byKind: { ...stats.byKind }, labelsFile: writer?.path ?? null, labelsDropped: writer?.dropped ?? 0 };
    },
  };
}

/** Per device (1-based) TLS material: its provisioned certificate and key, and the CA. */
async function deviceTls(options: FleetOptions): Promise<(n: number) => DeviceOptions['tls']> {
  const given = options.provisioned;
  if (given) return (n) => ({ ca: given.ca, cert: given.devices[n].cert, key: given.devices[n].key });
  if (options.provision) {
    // Loaded only when provisioning: the AWS SDK is heavy and a plain run does not need it.
    const { provisionFleet } = await import('./provision.js');
    // a plug fleet's policy also allows its shadow topics
    const shadow = PROFILES[options.profile].obeysShadow;
    const fleet = await provisionFleet(options.provision, { prefix: options.prefix, devices: options.devices, caFile: options.caFile, shadow });
    options.log?.(
      `provisioned ${fleet.devices.length} devices with policy ${fleet.policyName}: ` +
        `${fleet.issued} new certificates, ${fleet.reused} reused from ${options.provision.certsDir}`,
    );
    return (n) => ({ ca: fleet.ca, cert: fleet.devices[n - 1].cert, key: fleet.devices[n - 1].key });
  }
  const ca = options.caFile !== undefined ? readCaFile(options.caFile) : undefined;
  return () => (ca !== undefined ? { ca } : undefined);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition() && performance.now() < deadline) await delay(10);
}
