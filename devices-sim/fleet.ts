// The fleet: N devices driven by ONE scheduler tick. Per-device timers would drift and cost a
// timer each; instead every tick computes, from absolute time, how many publishes each device
// owes (k-th publish due at origin + k / rate), so the schedule never drifts and a stalled tick
// catches up with a bounded burst.

import type { AnomalyLabel } from './anomalies.js';
import { createAnomalyStats, DeviceAnomalies, type AnomalyStats } from './anomaly-injector.js';
import { readCaFile } from './credentials.js';
import { SimDevice, type DeviceOptions, type FleetCounters, type ShadowEvent } from './device.js';
import { SimError } from './errors.js';
import { LabelWriter } from './labels.js';
import { resolveFleetOptions, type FleetOptions, type FleetOptionsInput } from './options.js';
import { PROFILES } from './profiles/index.js';
import { createRandom, deriveSeed } from './random.js';
import { buildSummary, LatencyRecorder, type AnomalySummary, type ShadowSummary, type Summary } from './report.js';

/** How many publishes a device owes at `now`: the first is due at its origin. */
export function publishesDue(origin: number, ratePerSec: number, now: number): number {
  if (!(now >= origin)) return 0; // also false while origin is NaN (not connected yet)
  return Math.floor(((now - origin) * ratePerSec) / 1000) + 1;
}

/** The most publishes one device may send in one tick; beyond that the backlog is skipped. */
export function burstLimit(ratePerSec: number, tickMs: number): number {
  return Math.max(2, Math.ceil((ratePerSec * tickMs) / 1000) * 2);
}

export interface FleetRun {
  /** resolves with the summary once the run is over and all connections are closed */
  done: Promise<Summary>;
  /** live counters (read-only use), e.g. for progress lines */
  counters: Readonly<FleetCounters>;
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
  return { done: run(options, counters), counters };
}

export function runFleet(input: FleetOptionsInput): Promise<Summary> {
  return startFleet(input).done;
}

async function run(options: FleetOptions, counters: FleetCounters): Promise<Summary> {
  const latency = options.qos === 1 ? new LatencyRecorder(createRandom(deriveSeed(options.seed, -1))) : null;
  let firstPublishAt = Number.NaN;
  const profile = PROFILES[options.profile];
  const shadow: ShadowSummary = { reported: 0, applied: 0, ignored: 0 };
  const hooks = {
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
  for (let i = 1; i <= options.devices; i++) {
    const random = createRandom(deriveSeed(options.seed, i));
    const deviceOptions: DeviceOptions = {
      url: options.url,
      deviceId: `${options.prefix}-${i}`,
      qos: options.qos,
      username: options.username,
      password: options.password,
      tls: tlsOf(i),
      reconnectPeriodMs: options.reconnectPeriodMs,
      connectTimeoutMs: options.connectTimeoutMs,
      maxInflight: options.maxInflight,
      payloadBytes: options.payloadBytes,
    };
    const injector = anomalies?.injectorFor(deviceOptions.deviceId, i);
    devices.push(new SimDevice(deviceOptions, profile.create(random, deviceOptions.deviceId), counters, hooks, injector));
  }

  const startedAt = performance.now();
  const burst = burstLimit(options.rate, options.tickMs);
  let started = 0;

  const tick = () => {
    const now = performance.now();
    // Ramp-up: device i (0-based) starts at startedAt + rampUp * i / N.
    while (started < devices.length && now >= startedAt + (options.rampUpMs * started) / devices.length) {
      devices[started++].start();
    }
    for (let i = 0; i < started; i++) {
      const device = devices[i];
      const owed = publishesDue(device.origin, options.rate, now) - device.attempted;
      if (owed <= 0) continue;
      const toSend = Math.min(owed, burst);
      counters.skipped += owed - toSend;
      device.attempted += owed;
      for (let k = 0; k < toSend; k++) device.publishNext(); // counts its own skips when offline
    }
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
  const anomalySummary = await anomalies?.finish();

  await waitFor(() => counters.inflight === 0, options.drainTimeoutMs);
  // A client that never connected may not call back from end(); do not let it hold the run.
  await Promise.race([Promise.all(devices.map((d) => d.stop())), delay(2000)]);

  const durationMs = Number.isNaN(firstPublishAt) ? 0 : stoppedAt - firstPublishAt;
  const summary = buildSummary(
    {
      devices: options.devices,
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
  );
  if (counters.connected === 0) {
    const error = new SimError(
      'ConnectionFailedException',
      `no device could connect to ${options.url} (${counters.errors} connection errors)`,
    );
    throw Object.assign(error, { summary });
  }
  return summary;
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
