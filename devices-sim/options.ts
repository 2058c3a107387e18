// Fleet options: defaults and validation in one place, shared by runFleet and the CLI.

import { SimError } from './errors.js';

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
  /** seed of the profiles' noise and baselines (same seed, same per-device baselines) */
  seed: number;
  /** devices connect spread evenly over this many ms */
  rampUpMs: number;
  /** scheduler tick */
  tickMs: number;
  reconnectPeriodMs: number;
  connectTimeoutMs: number;
  /** after the stop, how long to wait for outstanding PUBACKs */
  drainTimeoutMs: number;
  /** per device, unacknowledged QoS 1 publishes beyond which publishes are skipped */
  maxInflight: number;
  /** stops the run early (SIGINT in the CLI); the summary is still produced */
  signal?: AbortSignal;
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
  reconnectPeriodMs: 1000,
  connectTimeoutMs: 10_000,
  drainTimeoutMs: 5000,
  maxInflight: 100,
} satisfies Partial<FleetOptions>;

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
  checkNumber('reconnectPeriodMs', options.reconnectPeriodMs, 0, 3_600_000, false);
  checkNumber('connectTimeoutMs', options.connectTimeoutMs, 1, 3_600_000, false);
  checkNumber('drainTimeoutMs', options.drainTimeoutMs, 0, 3_600_000, false);
  checkNumber('maxInflight', options.maxInflight, 1, 65_535, true);
  return options;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
