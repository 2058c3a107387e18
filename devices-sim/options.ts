// Fleet options: defaults and validation in one place, shared by runFleet and the CLI.

import { resolveAnomalyDevices, type AnomalyOptions } from './anomalies.js';
import type { AccessKey } from './credentials.js';
import { SimError } from './errors.js';
import { faultDeviceCount, formatFaultSpec, MAX_FAULT_SPECS, type FaultSpec } from './faults.js';
import { checkPayloadBytes } from './payload.js';
import { DEFAULT_PROFILE, profileNamed, type ProfileName } from './profiles/index.js';

/** How the fleet gets its own credentials before connecting (see provision.ts). */
export interface ProvisionSettings {
  /** base URL of the AWS-compatible API (the broker's HTTP port), e.g. http://127.0.0.1:8080 */
  endpoint: string;
  /** the admin access key the API calls are signed with */
  credentials: AccessKey;
  region: string;
  /** where each device's certificate, key and certificate id are cached between runs */
  certsDir: string;
  /** devices provisioned at the same time */
  concurrency: number;
}

export interface FleetOptions {
  /** broker URL, e.g. mqtt://127.0.0.1:1883 */
  url: string;
  devices: number;
  /** messages per second PER DEVICE */
  rate: number;
  /** seconds of publishing; 0 = until `signal` aborts */
  durationS: number;
  qos: 0 | 1;
  /** client ids and device ids are `<prefix>-<n>`, n from 1 */
  prefix: string;
  username?: string;
  password?: string;
  /** create things, certificates and the fleet policy first; each device connects with its own certificate */
  provision?: ProvisionSettings;
  /** PEM file of the CA that signed the broker's certificate (mqtts://); when provisioning
   * without it, the CA is fetched from `<endpoint>/api/ca-certificate.pem` */
  caFile?: string;
  /** progress lines (provisioning); the CLI writes them to stderr */
  log?: (line: string) => void;
  /** seed of the profiles' noise and baselines (same seed, same per-device baselines) */
  seed: number;
  /** devices connect spread evenly over this many ms */
  rampUpMs: number;
  /** scheduler tick */
  tickMs: number;
  /** 0..1: each publish is due up to this share of the interval (1 / rate) after its ideal time,
   * uniformly at random; 0 = exactly periodic (schedule.ts) */
  jitter: number;
  reconnectPeriodMs: number;
  connectTimeoutMs: number;
  /** after the stop, how long to wait for outstanding PUBACKs */
  drainTimeoutMs: number;
  /** per device, unacknowledged QoS 1 publishes beyond which publishes are skipped */
  maxInflight: number;
  /** stops the run early (SIGINT in the CLI); the summary is still produced */
  signal?: AbortSignal;
  /** injected anomalies and their labels (see anomalies.ts); once resolved, `devices` lists ids;
   * every spec's metric must be one of the profile's */
  anomalies?: AnomalyOptions;
  /** what the devices are and report (profiles/index.ts); default environment */
  profile: ProfileName;
  /** pad every telemetry payload with a `pad` attribute to this many bytes (64..131072);
   * undefined = no padding */
  payloadBytes?: number;
  /** with payloadBytes: each payload's size is spread over payloadBytes..payloadBytesMax instead */
  payloadBytesMax?: number;
  /** injected connection faults (faults.ts); devices chosen by index in the whole fleet */
  faults?: FaultSpec[];
  /** run only this slice of the fleet (a shard process of a --shards run): the devices whose
   * 1-based index n has (n - 1) % count === index; ids, seeds and start times stay those of the
   * whole fleet, so a sharded run sends what an unsharded one does */
  shard?: ShardSlice;
  /** TLS material already provisioned (by the parent of a sharded run), by device index: used
   * instead of provisioning again */
  provisioned?: ProvisionedMaterial;
}

export interface ShardSlice {
  index: number;
  count: number;
}

export interface ProvisionedMaterial {
  ca: string;
  /** device index (1-based) -> its certificate and key */
  devices: Record<number, { cert: string; key: string }>;
}

export type FleetOptionsInput = Partial<FleetOptions> & Pick<FleetOptions, 'url'>;

export const FLEET_DEFAULTS = {
  devices: 10,
  rate: 1,
  durationS: 10,
  qos: 0 as 0 | 1,
  prefix: 'sim',
  seed: 1,
  rampUpMs: 1000,
  tickMs: 10,
  jitter: 0,
  reconnectPeriodMs: 1000,
  connectTimeoutMs: 10_000,
  drainTimeoutMs: 5000,
  maxInflight: 100,
  profile: DEFAULT_PROFILE,
} satisfies Partial<FleetOptions>;

export const PROVISION_DEFAULTS = {
  region: 'us-east-1',
  certsDir: './data/sim-certs',
  concurrency: 8,
} satisfies Partial<ProvisionSettings>;

/** Upper bounds that catch typos (an extra zero) before they open thousands of sockets. */
const MAX_DEVICES = 100_000;
const MAX_RATE_PER_DEVICE = 10_000;

function invalid(message: string): never {
  throw new SimError('InvalidArgumentException', message);
}

function checkNumber(name: string, value: number, min: number, max: number, integer: boolean): void {
  if (!Number.isFinite(value)) invalid(`${name} must be a number, got ${String(value)}`);
  if (integer && !Number.isInteger(value)) invalid(`${name} must be an integer, got ${value}`);
  if (value < min || value > max) invalid(`${name} must be between ${min} and ${max}, got ${value}`);
}

/** Fills defaults and validates; throws InvalidArgumentException on a bad value. */
export function resolveFleetOptions(input: FleetOptionsInput): FleetOptions {
  const options: FleetOptions = { ...FLEET_DEFAULTS, ...stripUndefined(input), url: input.url };
  if (!/^(mqtts?|wss?|tcp):\/\/./.test(options.url)) {
    invalid(`url must look like mqtt://host:port (or mqtts://, ws://, wss://), got "${options.url}"`);
  }
  checkNumber('devices', options.devices, 1, MAX_DEVICES, true);
  checkNumber('rate', options.rate, 0, MAX_RATE_PER_DEVICE, false);
  if (options.rate === 0) invalid('rate must be greater than 0 (messages per second per device)');
  checkNumber('duration', options.durationS, 0, Number.MAX_SAFE_INTEGER, false);
  if (options.qos !== 0 && options.qos !== 1) invalid(`qos must be 0 or 1, got ${String(options.qos)}`);
  if (!/^[A-Za-z0-9_.:-]+$/.test(options.prefix)) {
    invalid(`prefix may only contain letters, digits, "_", ".", ":" and "-", got "${options.prefix}"`);
  }
  if ((options.username === undefined) !== (options.password === undefined)) {
    invalid('username and password must be given together');
  }
  checkNumber('seed', options.seed, 0, 0xffffffff, true);
  checkNumber('rampUpMs', options.rampUpMs, 0, 3_600_000, false);
  checkNumber('tickMs', options.tickMs, 1, 1000, false);
  checkNumber('jitter', options.jitter, 0, 1, false);
  checkNumber('reconnectPeriodMs', options.reconnectPeriodMs, 0, 3_600_000, false);
  checkNumber('connectTimeoutMs', options.connectTimeoutMs, 1, 3_600_000, false);
  checkNumber('drainTimeoutMs', options.drainTimeoutMs, 0, 3_600_000, false);
  checkNumber('maxInflight', options.maxInflight, 1, 65_535, true);
  profileNamed(options.profile); // throws for an unknown name
  if (options.payloadBytes !== undefined) checkPayloadBytes(options.payloadBytes);
  if (options.payloadBytesMax !== undefined) {
    checkPayloadBytes(options.payloadBytesMax, 'payloadBytesMax');
    if (options.payloadBytes === undefined || options.payloadBytesMax < options.payloadBytes) {
      throw new SimError('InvalidArgumentException', `payloadBytesMax needs payloadBytes no larger than it, got ${String(options.payloadBytes)}..${options.payloadBytesMax}`);
    }
  }
  if (options.provision) checkProvision(options);
  if (options.faults) checkFaults(options.faults, options.devices);
  if (options.shard) {
    checkNumber('shard count', options.shard.count, 1, options.devices, true);
    checkNumber('shard index', options.shard.index, 0, options.shard.count - 1, true);
  }
  if (options.anomalies) {
    const indexes = resolveAnomalyDevices(options.anomalies, options.prefix, options.devices, options.profile);
    options.anomalies = { ...options.anomalies, devices: indexes.map((n) => `${options.prefix}-${n}`) };
  }
  return options;
}

function checkFaults(faults: readonly FaultSpec[], devices: number): void {
  if (faults.length > MAX_FAULT_SPECS) invalid(`fault may be given at most ${MAX_FAULT_SPECS} times, got ${faults.length}`);
  for (const spec of faults) {
    faultDeviceCount(spec, devices); // throws when it names more devices than the fleet has
    if (spec.kind === 'flapping' && !(spec.periodS! > 0)) invalid(`fault "${formatFaultSpec(spec)}": flapping needs a period`);
  }
}

function checkProvision(options: FleetOptions): void {
  const p = options.provision!;
  if (!options.url.startsWith('mqtts://')) {
    invalid(`url must be mqtts://host:port when provisioning (devices authenticate with their certificates over TLS), got "${options.url}"`);
  }
  if (options.username !== undefined) invalid('username and password cannot be combined with provisioning (each device uses its certificate)');
  // thing names allow no "." and policy names no ":", so provisioned names use the common subset
  if (!/^[A-Za-z0-9_-]+$/.test(options.prefix)) {
    invalid(`prefix may only contain letters, digits, "_" and "-" when provisioning (it names things and the policy), got "${options.prefix}"`);
  }
  if (!/^https?:\/\/[^/]/.test(p.endpoint)) invalid(`endpoint must look like http://host:port, got "${p.endpoint}"`);
  if (!p.credentials?.accessKeyId || !p.credentials.secretAccessKey) invalid('provisioning needs an access key (accessKeyId and secretAccessKey)');
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(p.region)) invalid(`region must be a region name such as us-east-1, got "${p.region}"`);
  if (p.certsDir === '') invalid('certsDir must name a directory');
  checkNumber('concurrency', p.concurrency, 1, 64, true);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
