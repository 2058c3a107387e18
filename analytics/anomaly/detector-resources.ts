// The detector resources of the analytics service (issue 6): anomaly detectors and data-quality
// alarms bound to datastore columns. Definitions persist with the other analytics definitions
// (the facade's store); each runs as a Monitor fed with its datastore's rows as they commit, and
// one timer (only while a silent or flood alarm exists) drives the time-based checks.
//
// A put replaces the running monitor: its state (detector history, counters) starts afresh, like a
// pipeline's activities after UpdatePipeline. A delete clears the resource's open alerts.
import { AnalyticsError, notFound } from '../errors.js';
import { checkResourceName } from '../names.js';
import type { AlertSink } from './alert.js';
import type { Monitor, MonitorCounters } from './monitors.js';
import { anomalyMonitor } from './monitors.js';
import { qualityMonitor } from './quality.js';
import type { DetectorResourceDefinition } from './resource-definition.js';
import { resolveDetectorResource } from './resource-definition.js';

/** Detector resources per service. */
export const MAX_DETECTOR_RESOURCES = 1000;

export interface DetectorDescription {
  definition: DetectorResourceDefinition;
  /** `failedBatches`: row batches the monitor threw on (their rows are not evaluated) */
  counters: MonitorCounters & { failedBatches: number };
}

export interface DetectorResourcesOptions {
  /** the persisted definitions (mutated in place) and how to save them */
  store: { readonly detectors: Record<string, DetectorResourceDefinition>; save(): Promise<void> };
  datastoreExists(name: string): boolean;
  /** where alerts go; looked up per alert so the sink can be set after the resources exist */
  sink(): AlertSink | undefined;
  /** called once, when the first resource appears: the owner starts delivering rows (onRows) */
  startRows(): void;
  now(): number;
  /** how often silent devices and flood windows are checked (default 1000 ms) */
  checkIntervalMs?: number;
}

export class DetectorResources {
  private readonly monitors = new Map<string, Monitor>();
  private readonly failedBatches = new WeakMap<Monitor, number>();
  /** datastore name → its monitors, rebuilt on every change */
  private byDatastore = new Map<string, Monitor[]>();
  private timer: NodeJS.Timeout | null = null;
  private rowsStarted = false;
  private closed = false;

  constructor(private readonly opts: DetectorResourcesOptions) {}

  /** Re-creates stored resources; returns how many no longer validate (skipped, kept on disk). */
  restore(): number {
    let errors = 0;
    for (const def of Object.values(this.opts.store.detectors)) {
      try {
        this.install(resolveDetectorResource(def));
      } catch {
        errors++;
      }
    }
    return errors;
  }

  /** Creates or replaces a resource; refused (nothing changes) when the definition is invalid or
   * its datastore does not exist. */
  async put(input: unknown): Promise<DetectorDescription> {
    if (this.closed) throw new AnalyticsError('ServiceUnavailableException', 'analytics is closed');
    const spec = resolveDetectorResource(input);
    if (!this.opts.datastoreExists(spec.datastoreName)) throw notFound(`detector "${spec.name}": datastore "${spec.datastoreName}" does not exist`);
    if (!this.monitors.has(spec.name) && this.monitors.size >= MAX_DETECTOR_RESOURCES) {
      throw new AnalyticsError('LimitExceededException', `at most ${MAX_DETECTOR_RESOURCES} detectors`);
    }
    this.install(spec);
    this.opts.store.detectors[spec.name] = spec.def;
    await this.opts.store.save();
    return this.describe(spec.name);
  }

  describe(name: string): DetectorDescription {
    const m = this.monitors.get(name);
    if (!m) throw notFound(`detector "${name}" does not exist`);
    return { definition: structuredClone(m.spec.def), counters: { ...m.counters(), failedBatches: this.failedBatches.get(m) ?? 0 } };
  }

  list(): DetectorDescription[] {
    return [...this.monitors.keys()].sort().map((n) => this.describe(n));
  }

  async delete(name: string): Promise<void> {
    checkResourceName(name, 'detectorName');
    const m = this.monitors.get(name);
    if (!m) throw notFound(`detector "${name}" does not exist`);
    this.monitors.delete(name);
    this.reindex();
    m.resolveAll(this.opts.now());
    delete this.opts.store.detectors[name];
    await this.opts.store.save();
  }

  /** Names of the resources bound to a datastore (the facade refuses deleting it while any is). */
  usersOf(datastoreName: string): string[] {
    return (this.byDatastore.get(datastoreName) ?? []).map((m) => m.spec.name).sort();
  }

  /** Rows of a datastore as committed. A monitor that throws loses that batch, never the writer's. */
  onRows(datastoreName: string, rows: readonly Record<string, unknown>[], committedAt: number): void {
    const list = this.byDatastore.get(datastoreName);
    if (!list) return;
    for (const m of list) {
      try {
        m.onRows(rows, committedAt);
      } catch {
        this.failedBatches.set(m, (this.failedBatches.get(m) ?? 0) + 1);
      }
    }
  }

  /** The time-based checks, now (the timer calls this; tests call it with their clock). */
  check(now = this.opts.now()): void {
    for (const m of this.monitors.values()) m.check(now);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private install(spec: ReturnType<typeof resolveDetectorResource>): void {
    const monitor = spec.type === 'anomaly' ? anomalyMonitor(spec, this.opts.sink) : qualityMonitor(spec, this.opts.sink);
    this.monitors.set(spec.name, monitor);
    this.reindex();
    if (!this.rowsStarted) {
      this.rowsStarted = true;
      this.opts.startRows();
    }
  }

  private reindex(): void {
    const m = new Map<string, Monitor[]>();
    let timed = false;
    for (const mon of this.monitors.values()) {
      const list = m.get(mon.spec.datastoreName) ?? [];
      list.push(mon);
      m.set(mon.spec.datastoreName, list);
      if (mon.spec.type === 'silent' || mon.spec.type === 'flood') timed = true;
    }
    this.byDatastore = m;
    if (timed && !this.timer && !this.closed) {
      this.timer = setInterval(() => this.check(), this.opts.checkIntervalMs ?? 1000);
      this.timer.unref();
    } else if (!timed && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
