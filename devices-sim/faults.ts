// Injected connection faults: what they are, their text form `KIND[:N]@SECONDS[:PERIODs]` (the
// --fault flag, in the style of --anomaly) and which devices they hit. The scheduling is in
// fault-injector.ts; the device side (dropping a socket, vanishing) in device.ts.
//
// Every fault is abrupt: the device's socket is destroyed without an MQTT DISCONNECT, so the
// broker sees a lost connection (and publishes its "disconnected" lifecycle event for it), as
// it would when a network or a device dies.

import { SimError } from './errors.js';

export const FAULT_KINDS = ['reconnect-storm', 'flapping', 'abrupt-disconnect'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** How many devices a fault hits: all of them, a count, or a share of the fleet (0 < f <= 1). */
export type FaultDevices = { all: true } | { count: number } | { fraction: number };

export interface FaultSpec {
  kind: FaultKind;
  devices: FaultDevices;
  /** seconds after the fleet started (each shard's own start) */
  atS: number;
  /** flapping: seconds between two drops of the same device; null for the other kinds */
  periodS: number | null;
}

export const FAULT_SYNTAX = 'reconnect-storm[:N]@SECONDS, flapping:N@SECONDS[:PERIODs] or abrupt-disconnect:N@SECONDS';
/** Bounds that catch typos before they schedule thousands of timers. */
export const MAX_FAULT_SPECS = 20;
export const DEFAULT_FLAP_PERIOD_S = 10;
export const MIN_FLAP_PERIOD_S = 1;

function invalid(message: string): never {
  throw new SimError('InvalidArgumentException', message);
}

/** Parses one --fault value; throws InvalidArgumentException naming the value and what is wrong. */
export function parseFaultSpec(text: string): FaultSpec {
  const fail: (why: string) => never = (why) => invalid(`fault "${text}": ${why}`);
  const at = text.indexOf('@');
  if (at < 0) fail(`expected ${FAULT_SYNTAX}`);
  const [kindText, devicesText, ...extraHead] = text.slice(0, at).split(':');
  const kind = FAULT_KINDS.find((k) => k === kindText.trim().toLowerCase());
  if (!kind) fail(`unknown kind "${kindText}" (one of ${FAULT_KINDS.join(', ')})`);
  const [atText, ...tail] = text.slice(at + 1).split(':');
  if (extraHead.length > 0 || tail.length > 1) fail(`expected ${FAULT_SYNTAX}`);

  let devices: FaultDevices;
  if (devicesText === undefined) {
    if (kind !== 'reconnect-storm') fail(`${kind} needs a number of devices: ${kind}:N@SECONDS (N a count such as 3, or a share such as 25% or 0.25)`);
    devices = { all: true };
  } else {
    devices = parseDevices(devicesText, fail);
  }
  const atS = Number(atText.trim());
  if (atText.trim() === '' || !Number.isFinite(atS) || atS < 0) fail(`start "${atText}" must be a number of seconds >= 0`);

  let periodS: number | null = null;
  if (kind === 'flapping') {
    periodS = DEFAULT_FLAP_PERIOD_S;
    if (tail.length === 1) {
      const match = /^\s*(\d+(?:\.\d+)?)s\s*$/i.exec(tail[0]);
      if (!match) fail(`period "${tail[0]}" must be seconds followed by "s", e.g. 5s`);
      periodS = Number(match[1]);
      if (periodS < MIN_FLAP_PERIOD_S) fail(`period "${tail[0]}" must be at least ${MIN_FLAP_PERIOD_S}s`);
    }
  } else if (tail.length === 1) {
    fail(`only flapping takes a period; ${kind} happens once`);
  }
  return { kind, devices, atS, periodS };
}

/** "3" (a count), "25%" or "0.25" (a share of the fleet). */
function parseDevices(raw: string, fail: (why: string) => never): FaultDevices {
  const text = raw.trim();
  const why = `devices "${raw}" must be a count (1, 2, ...) or a share of the fleet (25% or 0.25)`;
  if (/^\d+$/.test(text)) {
    const count = Number(text);
    if (count < 1) fail(why);
    return { count };
  }
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  const fraction = percent ? Number(percent[1]) / 100 : /^0?\.\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(fraction > 0 && fraction <= 1)) fail(why);
  return { fraction };
}

/** The --fault text of a spec (the report lists the faults of a run this way). */
export function formatFaultSpec(spec: FaultSpec): string {
  const d = spec.devices;
  const devices = 'all' in d ? '' : 'count' in d ? `:${d.count}` : `:${Math.round(d.fraction * 10_000) / 100}%`;
  return `${spec.kind}${devices}@${spec.atS}${spec.periodS !== null ? `:${spec.periodS}s` : ''}`;
}

/** How many devices of a fleet of `total` the spec hits; throws when it asks for more than exist. */
export function faultDeviceCount(spec: FaultSpec, total: number): number {
  const d = spec.devices;
  if ('all' in d) return total;
  if ('fraction' in d) return Math.max(1, Math.round(d.fraction * total));
  if (d.count > total) invalid(`fault "${formatFaultSpec(spec)}": ${d.count} devices, but the fleet has only ${total}`);
  return d.count;
}

/**
 * The 1-based indexes of the devices a spec hits, in a fleet of `total`: a storm and flapping hit
 * the first N devices, an abrupt disconnect the last N, so the two combined hit different devices
 * (until they add up to more than the fleet). By index, so every shard agrees.
 */
export function faultDeviceIndexes(spec: FaultSpec, total: number): number[] {
  const n = faultDeviceCount(spec, total);
  const first = spec.kind === 'abrupt-disconnect' ? total - n + 1 : 1;
  return Array.from({ length: n }, (_, k) => first + k);
}
