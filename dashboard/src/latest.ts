// The latest measurements per device from the live feed, for the fleet table. Bounded: beyond
// `maxDevices` new devices are counted, not stored. Pure.

import type { DecodedRow } from './frames.js';

export interface DeviceLatest {
  deviceId: string;
  /** the newest value of each metric the device has reported */
  values: Record<string, number>;
  /** epoch ms of the newest row */
  lastSeen: number;
  /** rows received for this device since the page opened */
  rows: number;
}

export class LatestByDevice {
  private readonly devices = new Map<string, DeviceLatest>();
  private readonly overflow = new Set<string>();
  private version = 0;

  constructor(private readonly maxDevices = 10_000) {}

  /** Increments on every change, so a renderer can skip work when nothing moved. */
  get revision(): number {
    return this.version;
  }

  get droppedDevices(): number {
    return this.overflow.size;
  }

  get(deviceId: string): DeviceLatest | undefined {
    return this.devices.get(deviceId);
  }

  update(rows: readonly DecodedRow[]): void {
    let changed = false;
    for (const row of rows) {
      if (row.deviceId === null) continue;
      let entry = this.devices.get(row.deviceId);
      if (!entry) {
        if (this.devices.size >= this.maxDevices) {
          if (this.overflow.size < 100_000) this.overflow.add(row.deviceId);
          continue;
        }
        entry = { deviceId: row.deviceId, values: {}, lastSeen: 0, rows: 0 };
        this.devices.set(row.deviceId, entry);
      }
      entry.rows++;
      changed = true;
      // Rows arrive in commit order, but a late row must not overwrite a newer reading.
      if (row.at < entry.lastSeen) continue;
      entry.lastSeen = row.at;
      // A metric the row lacks keeps its previous value rather than blanking the cell.
      Object.assign(entry.values, row.values);
    }
    if (changed) this.version++;
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
