// Fires the --fault specs at their times on the devices of this process. Driven by the fleet's
// scheduler tick with the time since the fleet started, so it needs no timers of its own; every
// tick costs only the faults that are due (flapping devices are visited in the order of their
// drop times, never all of them per tick).

import { faultDeviceIndexes, type FaultSpec } from './faults.js';

/** Fleet-wide fault counters (one object, shared by the devices and the injector). */
export interface FaultStats {
  /** connections dropped by a fault (socket destroyed without DISCONNECT) */
  disconnects: number;
  /** reconnections after a dropped connection */
  reconnects: number;
  /** devices that vanished for good (abrupt-disconnect) */
  vanished: number;
  /** QoS 1 publishes awaiting their PUBACK when their connection was dropped */
  inflightAtDisconnect: number;
  /** ... of which mqtt.js resent after reconnecting and the broker then acknowledged */
  redelivered: number;
  /** ... of which were never acknowledged: the device vanished, or the run ended first */
  lost: number;
}

export function createFaultStats(): FaultStats {
  return { disconnects: 0, reconnects: 0, vanished: 0, inflightAtDisconnect: 0, redelivered: 0, lost: 0 };
}

/** What a fault does to one device (SimDevice implements it). */
export interface FaultTarget {
  /** 1-based index in the whole fleet (the n of <prefix>-<n>) */
  readonly index: number;
  /** destroys the socket; mqtt.js reconnects after its reconnect period */
  dropConnection(): void;
  /** destroys the socket and never reconnects */
  vanish(): void;
}

interface Schedule {
  /** this process's devices the spec hits, in the spec's order */
  targets: FaultTarget[];
  /** flapping: each target's offset into the period, as a share of it: its position among ALL
   * the devices the spec hits (every shard included) over their number */
  offsets: number[];
  startMs: number;
  /** 0 = once */
  periodMs: number;
  vanish: boolean;
  /** flapping: next target to drop and the period it is in */
  next: number;
  cycle: number;
}

export class FaultInjector {
  private readonly schedules: Schedule[];

  /** `targets`: the devices of this process (a shard holds a slice of the fleet of `total`). */
  constructor(specs: readonly FaultSpec[], total: number, targets: readonly FaultTarget[]) {
    const byIndex = new Map(targets.map((t) => [t.index, t]));
    this.schedules = specs.map((spec) => {
      const all = faultDeviceIndexes(spec, total);
      const here = all.flatMap((n, position) => (byIndex.has(n) ? [{ target: byIndex.get(n)!, offset: position / all.length }] : []));
      return {
        targets: here.map((h) => h.target),
        offsets: here.map((h) => h.offset),
        startMs: spec.atS * 1000,
        periodMs: spec.kind === 'flapping' ? spec.periodS! * 1000 : 0,
        vanish: spec.kind === 'abrupt-disconnect',
        next: 0,
        cycle: 0,
      };
    });
  }

  /** Fires everything due at `elapsedMs` after the fleet started. */
  tick(elapsedMs: number): void {
    for (const s of this.schedules) {
      if (s.targets.length === 0 || elapsedMs < s.startMs) continue;
      if (s.periodMs === 0) {
        if (s.cycle > 0) continue;
        s.cycle = 1;
        // a storm hits every device in the same tick: they all come back together
        for (const target of s.targets) {
          if (s.vanish) target.vanish();
          else target.dropConnection();
        }
        continue;
      }
      // flapping: a target drops at start + (cycle + offset) * period, so drops are spread evenly
      // over each period instead of all flapping devices dropping at once
      const n = s.targets.length;
      while (elapsedMs >= s.startMs + (s.cycle + s.offsets[s.next]) * s.periodMs) {
        s.targets[s.next].dropConnection();
        if (++s.next === n) {
          s.next = 0;
          s.cycle++;
        }
      }
    }
  }
}
