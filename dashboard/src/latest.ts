// The latest reading per device, for the devices table. Bounded: beyond `maxDevices` new devices
// are counted, not stored.

import type { Reading } from './frames.js';

export interface DeviceLatest {
  deviceId: string;
  temperature: number | null;
  humidity: number | null;
  battery: number | null;
  /** epoch ms of the newest row */
  lastSeen: number;
  /** rows received for this device since the page opened */
  rows: number;
}

export class LatestByDevice {
  private readonly devices = new Map<string, DeviceLatest>();
  private readonly overflow = new Set<string>();
  private version = 0;

  constructor(private readonly maxDevices = 500) {}

  /** Increments on every change, so a renderer can skip work when nothing moved. */
  get revision(): number {
    return this.version;
  }

  get droppedDevices(): number {
    return this.overflow.size;
  }

  update(readings: readonly Reading[]): void {
    for (const reading of readings) {
      let entry = this.devices.get(reading.deviceId);
      if (!entry) {
        if (this.devices.size >= this.maxDevices) {
          if (this.overflow.size < 100_000) this.overflow.add(reading.deviceId);
          continue;
        }
        entry = { deviceId: reading.deviceId, temperature: null, humidity: null, battery: null, lastSeen: 0, rows: 0 };
        this.devices.set(reading.deviceId, entry);
      }
      entry.rows++;
      // Rows arrive in commit order, but a late row must not overwrite a newer reading.
      if (reading.seenAt < entry.lastSeen) continue;
      entry.lastSeen = reading.seenAt;
      // A missing attribute keeps the previous value rather than blanking the cell.
      if (reading.temperature !== null) entry.temperature = reading.temperature;
      if (reading.humidity !== null) entry.humidity = reading.humidity;
      if (reading.battery !== null) entry.battery = reading.battery;
    }
    if (readings.length > 0) this.version++;
  }

  /** Devices sorted by id, numbers compared as numbers (sim-2 before sim-10). */
  list(): DeviceLatest[] {
    return [...this.devices.values()].sort((a, b) => compareIds(a.deviceId, b.deviceId));
  }
}

const collator = new Intl.Collator('en', { numeric: true });

export function compareIds(a: string, b: string): number {
  return collator.compare(a, b);
}
