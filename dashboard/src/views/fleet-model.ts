// What the fleet table shows, as pure functions: which devices pass the search and filters, in
// which order, and how their live values read.

import type { FleetDevice } from '../../../broker/contract.js';
import { compareIds, type DeviceLatest } from '../latest.js';

export interface FleetFilter {
  /** substring of the thing name, an attribute's name or value (case-insensitive) */
  query: string;
  connectedOnly: boolean;
  withAlerts: boolean;
}

export const NO_FILTER: FleetFilter = { query: '', connectedOnly: false, withAlerts: false };

export function matchesQuery(device: FleetDevice, query: string): boolean {
  const needle = query.trim().toLowerCase();
  if (needle === '') return true;
  if (device.thingName.toLowerCase().includes(needle)) return true;
  return Object.entries(device.attributes ?? {}).some(
    ([name, value]) => name.toLowerCase().includes(needle) || String(value).toLowerCase().includes(needle) || `${name}=${value}`.toLowerCase().includes(needle),
  );
}

/** The devices to list, sorted by name with numbers compared as numbers (sim-2 before sim-10). */
export function filterFleet(devices: readonly FleetDevice[], filter: FleetFilter): FleetDevice[] {
  return devices
    .filter((d) => (!filter.connectedOnly || d.connected) && (!filter.withAlerts || d.openAlerts > 0) && matchesQuery(d, filter.query))
    .sort((a, b) => compareIds(a.thingName, b.thingName));
}

/** The later of the snapshot's last-seen and the newest live row of the device. */
export function lastSeenOf(device: FleetDevice, latest: DeviceLatest | undefined): number | undefined {
  const times = [device.lastSeen, latest?.lastSeen].filter((t): t is number => typeof t === 'number' && t > 0);
  return times.length === 0 ? undefined : Math.max(...times);
}

/** "temperature 21.34 · humidity 45.1 · battery 88": a device's newest values, the first few metrics. */
export function formatLatestValues(values: Record<string, number> | undefined, maxMetrics = 4): string {
  const entries = Object.entries(values ?? {});
  if (entries.length === 0) return '—';
  const shown = entries.slice(0, maxMetrics).map(([name, value]) => `${name} ${formatMetric(value)}`);
  if (entries.length > maxMetrics) shown.push(`+${entries.length - maxMetrics}`);
  return shown.join(' · ');
}

/** Two decimals below 100, one up to 1000, none above: readable in a table cell. */
export function formatMetric(value: number): string {
  const abs = Math.abs(value);
  return value.toFixed(abs >= 1000 ? 0 : abs >= 100 ? 1 : 2);
}

export interface FleetSummary {
  devices: number;
  connected: number;
  withAlerts: number;
}

export function summarize(devices: readonly FleetDevice[]): FleetSummary {
  return {
    devices: devices.length,
    connected: devices.filter((d) => d.connected).length,
    withAlerts: devices.filter((d) => d.openAlerts > 0).length,
  };
}
