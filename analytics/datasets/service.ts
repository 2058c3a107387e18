// Datasets as AWS IoT Analytics has them (spec §5): definitions (create, update, delete, list),
// contents (versions generated asynchronously, CSV files, versioning and retention), triggers
// (schedules and "after another dataset") and local content delivery.
//
// Runs: at most `maxConcurrent` (2, the AWS limit) contents are generated at once; the rest wait
// in a bounded queue. A CreateDatasetContent that finds the queue full is refused with
// ThrottlingException; a trigger that does is dropped and counted. One content per dataset is
// created at a time (a second request gets ResourceAlreadyExistsException).
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { DatasetDefinition, DatasetResult, ResourceMeta } from '../types.js';
import { AnalyticsError, notFound } from '../errors.js';
import type { Database } from '../datastore/index.js';
import { datasetSql, normaliseDataset, runDataset } from './dataset.js';
import { applyDeltaFilter, manualWindow, scheduledWindow, type DeltaWindow } from './delta.js';
import { translatePresto } from './presto.js';
import { parseSchedule, type Schedule } from './schedule.js';
import { DatasetScheduler, systemClock, type Clock } from './scheduler.js';
import { ContentFiles, type ContentVersion } from './contents.js';
import { versionsToPrune } from './versions.js';
import { toCsv } from './csv.js';
import { checkDatasetSql } from './sql-guard.js';
import { readContentTable, type ContentTable } from './content-table.js';

export type { ContentVersion, ContentState } from './contents.js';
export type { ContentTable } from './content-table.js';

/** A content finished: it SUCCEEDED (its CSV is written) or FAILED (why in `reason`). */
export interface DatasetContentEvent {
  datasetName: string;
  versionId: string;
  state: 'SUCCEEDED' | 'FAILED';
  /** epoch ms */
  completedAt: number;
  reason?: string;
}

/** Where definitions live: the analytics definitions file (shared with the other resources). */
export interface DatasetDefinitionStore {
  datasets: Record<string, DatasetDefinition>;
  meta: Record<string, ResourceMeta>;
  save(): Promise<void>;
}

export interface DatasetServiceOptions {
  dataDir: string;
  db: Database;
  store: DatasetDefinitionStore;
  clock?: Clock;
  /** time limit of one query (ms) */
  timeoutMs?: number;
  /** contents generated at once (AWS: 2) */
  maxConcurrent?: number;
  /** runs waiting for a slot */
  maxQueued?: number;
  /** datasets at most (AWS: 100) */
  maxDatasets?: number;
  /** versions kept per dataset whatever the versioning says (bounds index.json) */
  maxVersionsKept?: number;
}

export interface DatasetCounters {
  runsSucceeded: number;
  runsFailed: number;
  /** triggered runs dropped because the queue was full or the dataset was still creating content */
  triggersDropped: number;
  deliveryErrors: number;
  queued: number;
  running: number;
}

/** `$LATEST`, `$LATEST_SUCCEEDED` or a version id. */
export type VersionSelector = string;

interface Job {
  datasetName: string;
  versionId: string;
  /** scheduled runs: the fire time and the schedule's period; manual runs: undefined */
  scheduled?: { at: number; periodMs: number };
  /** re-run of a version: its window */
  window?: DeltaWindow;
}

export class DatasetService {
  private readonly contents = new Map<string, ContentVersion[]>();
  private readonly files: ContentFiles;
  private readonly scheduler: DatasetScheduler;
  private readonly clock: Clock;
  private readonly queue: Job[] = [];
  private readonly runs = new Set<Promise<void>>();
  private running = 0;
  private closed = false;
  private readonly stats = { runsSucceeded: 0, runsFailed: 0, triggersDropped: 0, deliveryErrors: 0 };
  private readonly listeners = new Set<(e: DatasetContentEvent) => void>();
  /** callers of finished(), by `<dataset>/<versionId>` */
  private readonly waiters = new Map<string, { resolve: (v: ContentVersion) => void; reject: (e: Error) => void }[]>();

  constructor(private readonly opts: DatasetServiceOptions) {
    this.clock = opts.clock ?? systemClock;
    this.files = new ContentFiles(join(opts.dataDir, 'datasets'));
    this.scheduler = new DatasetScheduler(this.clock, (name, at, schedule) => this.onSchedule(name, at, schedule));
  }

  /** Loads the persisted definitions and content indexes; a run interrupted by the last stop is FAILED. */
  async restore(): Promise<number> {
    let errors = 0;
    for (const [name, stored] of Object.entries(this.opts.store.datasets)) {
      try {
        const def = normaliseDataset(stored);
        this.opts.store.datasets[name] = def;
        this.opts.store.meta[name] ??= this.freshMeta();
        const versions = await this.files.loadIndex(name);
        let changed = false;
        for (const v of versions) {
          if (v.state === 'CREATING') {
            Object.assign(v, { state: 'FAILED', reason: 'interrupted: the server stopped while the content was being created', completionTime: this.clock.now() });
            changed = true;
          }
        }
        this.contents.set(name, versions);
        if (changed) await this.files.saveIndex(name, versions);
        this.arm(def);
      } catch {
        delete this.opts.store.datasets[name];
        errors++;
      }
    }
    return errors;
  }

  // ---------- definitions ----------

  /** CreateDataset: ResourceAlreadyExistsException when the name is taken. */
  async create(input: unknown, tags: Record<string, string> = {}): Promise<DatasetDefinition> {
    this.assertOpen();
    const def = normaliseDataset(input);
    if (this.opts.store.datasets[def.datasetName]) {
      throw new AnalyticsError('ResourceAlreadyExistsException', `dataset ${def.datasetName} already exists`);
    }
    await this.checkSql(def);
    return this.write(def, tags);
  }

  /** Config as code and the facade's putDataset: create or replace, idempotent. */
  async put(input: unknown): Promise<DatasetDefinition> {
    this.assertOpen();
    const def = normaliseDataset(input);
    await this.checkSql(def);
    return this.write(def);
  }

  /** UpdateDataset: the complete new definition (members left out go back to their defaults). */
  async update(datasetName: string, input: Record<string, unknown>): Promise<void> {
    this.assertOpen();
    this.get(datasetName);
    const def = normaliseDataset({ ...input, datasetName });
    await this.checkSql(def);
    await this.write(def);
  }

  get(datasetName: string): DatasetDefinition {
    const def = this.opts.store.datasets[datasetName];
    if (!def) throw notFound(`dataset ${datasetName} does not exist`);
    return def;
  }

  find(datasetName: string): DatasetDefinition | undefined {
    const def = this.opts.store.datasets[datasetName];
    return def && structuredClone(def);
  }

  meta(datasetName: string): ResourceMeta {
    this.get(datasetName);
    return (this.opts.store.meta[datasetName] ??= this.freshMeta());
  }

  names(): string[] {
    return Object.keys(this.opts.store.datasets).sort();
  }

  /** DeleteDataset: the definition, its timers and its contents. */
  async delete(datasetName: string): Promise<void> {
    this.assertOpen();
    this.get(datasetName);
    delete this.opts.store.datasets[datasetName];
    delete this.opts.store.meta[datasetName];
    this.scheduler.remove(datasetName);
    this.contents.delete(datasetName);
    this.failWaiters((key) => key.startsWith(`${datasetName}/`), () => notFound(`dataset ${datasetName} was deleted before its content was done`));
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i].datasetName === datasetName) this.queue.splice(i, 1);
    await this.opts.store.save();
    await this.files.removeDataset(datasetName);
  }

  /** Runs the query now and returns rows (our /api/datasets/{name}/run; no window, nothing stored). */
  runNow(datasetName: string): Promise<DatasetResult> {
    this.assertOpen();
    return runDataset(this.get(datasetName), this.opts.db, this.queryOptions());
  }

  // ---------- contents ----------

  /** CreateDatasetContent: the new version id; the content is generated in the background.
   * `versionId` re-runs that version's deltaTime window (deltaTime datasets only). */
  createContent(datasetName: string, versionId?: string): string {
    this.assertOpen();
    const def = this.get(datasetName);
    const versions = this.versionsOf(datasetName);
    const busy = versions.find((v) => v.state === 'CREATING');
    if (busy) throw new AnalyticsError('ResourceAlreadyExistsException', `dataset ${datasetName}: content ${busy.versionId} is still being created; wait for it`);
    if (this.queue.length >= this.maxQueued()) throw new AnalyticsError('ThrottlingException', `${this.queue.length} dataset contents are waiting to be generated; try again later`);
    const now = this.clock.now();
    if (versionId !== undefined) {
      if (!deltaOf(def)) throw new AnalyticsError('InvalidRequestException', `dataset ${datasetName}: versionId can only be given for a dataset with a deltaTime filter`);
      const old = versions.find((v) => v.versionId === versionId);
      if (!old?.window) throw notFound(`dataset ${datasetName} has no content version ${versionId} with a delta window`);
      Object.assign(old, { state: 'CREATING', creationTime: now, completionTime: undefined, reason: undefined });
      this.enqueue({ datasetName, versionId, window: old.window });
      return versionId;
    }
    const id = randomUUID();
    versions.push({ versionId: id, state: 'CREATING', creationTime: now, scheduleTime: now });
    this.enqueue({ datasetName, versionId: id });
    return id;
  }

  /** GetDatasetContent's version: `$LATEST_SUCCEEDED` (default), `$LATEST` or an id. */
  content(datasetName: string, selector: VersionSelector = '$LATEST_SUCCEEDED'): ContentVersion {
    this.get(datasetName);
    const versions = this.versionsOf(datasetName);
    const newestFirst = [...versions].sort((a, b) => b.creationTime - a.creationTime);
    const found =
      selector === '$LATEST' ? newestFirst[0]
      : selector === '$LATEST_SUCCEEDED' ? newestFirst.find((v) => v.state === 'SUCCEEDED')
      : versions.find((v) => v.versionId === selector);
    if (!found) throw notFound(`dataset ${datasetName} has no content ${selector === '$LATEST_SUCCEEDED' ? 'that SUCCEEDED' : selector}`);
    return { ...found };
  }

  /** ListDatasetContents: newest first, filtered on scheduleTime [onOrAfter, before). */
  listContents(datasetName: string, range: { scheduledOnOrAfter?: number; scheduledBefore?: number } = {}): ContentVersion[] {
    this.get(datasetName);
    return this.versionsOf(datasetName)
      .filter((v) => (range.scheduledOnOrAfter === undefined || v.scheduleTime >= range.scheduledOnOrAfter) && (range.scheduledBefore === undefined || v.scheduleTime < range.scheduledBefore))
      .sort((a, b) => b.creationTime - a.creationTime)
      .map((v) => ({ ...v }));
  }

  /** DeleteDatasetContent: the version and its file. */
  async deleteContent(datasetName: string, selector: VersionSelector = '$LATEST_SUCCEEDED'): Promise<void> {
    this.assertOpen();
    const { versionId } = this.content(datasetName, selector);
    const versions = this.versionsOf(datasetName);
    versions.splice(versions.findIndex((v) => v.versionId === versionId), 1);
    this.failWaiters((key) => key === `${datasetName}/${versionId}`, () => notFound(`dataset ${datasetName}: content ${versionId} was deleted before it was done`));
    await this.files.saveIndex(datasetName, versions);
    await this.files.removeVersions(datasetName, [versionId]);
  }

  /** Every content that finishes from now on (any trigger), synchronously; returns the unsubscribe function. */
  subscribe(listener: (e: DatasetContentEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the version once it SUCCEEDED or FAILED (at once when it already has);
   * rejects with ResourceNotFoundException for an unknown version or when the dataset is deleted. */
  async finished(datasetName: string, versionId: string): Promise<ContentVersion> {
    const v = this.content(datasetName, versionId);
    if (v.state !== 'CREATING') return v;
    return new Promise((resolve, reject) => {
      const key = `${datasetName}/${versionId}`;
      const list = this.waiters.get(key) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(key, list);
    });
  }

  /** A finished version with the rows of its CSV (at most `maxRows`, typed by the columns the
   * query reported), read back from its content file: the query is not run again. */
  async contentTable(datasetName: string, selector: VersionSelector, maxRows: number): Promise<{ version: ContentVersion; table: ContentTable }> {
    const version = this.content(datasetName, selector);
    if (version.state !== 'SUCCEEDED') return { version, table: { columns: version.columns ?? [], rows: [], truncated: false } };
    return { version, table: await readContentTable(this.files.csvPath(datasetName, version.versionId), version.columns, maxRows) };
  }

  /** The CSV file of a SUCCEEDED version, or undefined when there is none (any more). */
  contentFile(datasetName: string, versionId: string): string | undefined {
    const v = this.contents.get(datasetName)?.find((x) => x.versionId === versionId);
    return v?.state === 'SUCCEEDED' ? this.files.csvPath(datasetName, versionId) : undefined;
  }

  counters(): DatasetCounters {
    return { ...this.stats, queued: this.queue.length, running: this.running };
  }

  /** Resolves once the queue is empty and nothing runs (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.runs.size > 0) await Promise.all([...this.runs]);
    await this.files.idle();
  }

  /** Stops the timers, drops queued runs and waits for the running ones. */
  async close(): Promise<void> {
    this.closed = true;
    this.scheduler.close();
    for (const job of this.queue.splice(0)) {
      const v = this.contents.get(job.datasetName)?.find((x) => x.versionId === job.versionId);
      if (v) Object.assign(v, { state: 'FAILED', reason: 'the server stopped before the content was generated', completionTime: this.clock.now() });
      await this.files.saveIndex(job.datasetName, this.versionsOf(job.datasetName)).catch(() => undefined);
      if (v) this.announce(job.datasetName, v);
    }
    await Promise.all([...this.runs]);
    await this.files.idle();
  }

  // ---------- internals ----------

  private async write(def: DatasetDefinition, tags?: Record<string, string>): Promise<DatasetDefinition> {
    const name = def.datasetName;
    const isNew = !this.opts.store.datasets[name];
    const max = this.opts.maxDatasets ?? 100;
    if (isNew && Object.keys(this.opts.store.datasets).length >= max) {
      throw new AnalyticsError('LimitExceededException', `at most ${max} datasets; delete one first`);
    }
    const now = this.clock.now();
    const meta = this.opts.store.meta[name];
    this.opts.store.meta[name] = meta ? { ...meta, lastUpdateTime: now } : { ...this.freshMeta(), tags: { ...tags } };
    this.opts.store.datasets[name] = def;
    if (!this.contents.has(name)) this.contents.set(name, isNew ? [] : await this.files.loadIndex(name));
    this.arm(def);
    await this.opts.store.save();
    return structuredClone(def);
  }

  private freshMeta(): ResourceMeta {
    const now = this.clock.now();
    return { creationTime: now, lastUpdateTime: now, tags: {} };
  }

  private arm(def: DatasetDefinition): void {
    const schedules = (def.triggers ?? []).flatMap((t) => (t.schedule ? [parseSchedule(t.schedule.expression)] : []));
    this.scheduler.set(def.datasetName, schedules);
  }

  private versionsOf(datasetName: string): ContentVersion[] {
    let list = this.contents.get(datasetName);
    if (!list) this.contents.set(datasetName, (list = []));
    return list;
  }

  private onSchedule(datasetName: string, at: number, schedule: Schedule): void {
    this.trigger(datasetName, at, { at, periodMs: schedule.periodAt(at) });
  }

  /** A run asked for by a trigger: dropped (and counted) when it cannot be queued. */
  private trigger(datasetName: string, at: number, scheduled?: Job['scheduled']): void {
    if (this.closed || !this.opts.store.datasets[datasetName]) return;
    const versions = this.versionsOf(datasetName);
    if (versions.some((v) => v.state === 'CREATING') || this.queue.length >= this.maxQueued()) {
      this.stats.triggersDropped++;
      return;
    }
    const versionId = randomUUID();
    versions.push({ versionId, state: 'CREATING', creationTime: this.clock.now(), scheduleTime: at });
    this.enqueue(scheduled ? { datasetName, versionId, scheduled } : { datasetName, versionId });
  }

  private enqueue(job: Job): void {
    this.queue.push(job);
    void this.files.saveIndex(job.datasetName, this.versionsOf(job.datasetName)).catch(() => undefined);
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.running < this.maxConcurrent() && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      const run = this.generate(job).finally(() => {
        this.running--;
        this.runs.delete(run);
        this.pump();
      });
      this.runs.add(run);
    }
  }

  private async generate(job: Job): Promise<void> {
    const { datasetName, versionId } = job;
    const def = this.opts.store.datasets[datasetName];
    const version = this.contents.get(datasetName)?.find((v) => v.versionId === versionId);
    if (!def || !version) return; // deleted while queued
    let csv: string | undefined;
    try {
      const { sql, window } = this.querySql(def, job);
      if (window) version.window = window;
      // again at run time: a definition stored before a check was added, or a deltaTime rewrite
      await checkDatasetSql(this.opts.db, sql, this.queryOptions());
      const result = await this.opts.db.query(sql, this.queryOptions());
      csv = toCsv(result.columns, result.rows);
      version.rows = result.rows.length;
      version.columns = result.columns.map((c) => ({ name: c.name, type: c.type }));
    } catch (e) {
      const code = e instanceof AnalyticsError ? `${e.code}: ` : '';
      Object.assign(version, { state: 'FAILED', reason: `${code}${(e as Error).message}`, completionTime: this.clock.now() });
      this.stats.runsFailed++;
    }
    // the dataset or the version may have been deleted while the query ran
    const current = this.contents.get(datasetName);
    if (!current?.includes(version)) return;
    if (csv !== undefined) {
      try {
        await this.files.writeCsv(datasetName, versionId, csv);
        Object.assign(version, { state: 'SUCCEEDED', completionTime: this.clock.now() });
        this.stats.runsSucceeded++;
      } catch (e) {
        Object.assign(version, { state: 'FAILED', reason: `the content file could not be written: ${(e as Error).message}`, completionTime: this.clock.now() });
        this.stats.runsFailed++;
      }
    }
    await this.prune(def, current);
    await this.files.saveIndex(datasetName, current).catch(() => undefined);
    this.announce(datasetName, version);
    if (version.state === 'SUCCEEDED') {
      await this.deliver(def, version);
      // chained datasets: every dataset with a {dataset: {name}} trigger on this one
      for (const other of Object.values(this.opts.store.datasets)) {
        if (other.triggers?.some((t) => t.dataset?.name === datasetName)) this.trigger(other.datasetName, this.clock.now());
      }
    }
  }

  /** Tells subscribers and waiters that a version finished (a listener's error is not ours). */
  private announce(datasetName: string, version: ContentVersion): void {
    if (version.state === 'CREATING') return;
    const event: DatasetContentEvent = { datasetName, versionId: version.versionId, state: version.state, completedAt: version.completionTime ?? this.clock.now() };
    if (version.reason !== undefined) event.reason = version.reason;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a subscriber's failure must not fail the run or keep others from hearing of it
      }
    }
    const key = `${datasetName}/${version.versionId}`;
    const waiting = this.waiters.get(key);
    if (!waiting) return;
    this.waiters.delete(key);
    for (const w of waiting) w.resolve({ ...version });
  }

  private failWaiters(matches: (key: string) => boolean, error: () => Error): void {
    for (const [key, waiting] of this.waiters) {
      if (!matches(key)) continue;
      this.waiters.delete(key);
      for (const w of waiting) w.reject(error());
    }
  }

  private querySql(def: DatasetDefinition, job: Job): { sql: string; window?: DeltaWindow } {
    const sql = datasetSql(def);
    const delta = deltaOf(def);
    if (!delta) return { sql };
    const now = this.clock.now();
    let window = job.window;
    if (!window && job.scheduled) window = scheduledWindow(job.scheduled.at, job.scheduled.periodMs, delta.offsetSeconds);
    if (!window) {
      const previous = this.versionsOf(def.datasetName)
        .filter((v) => v.state === 'SUCCEEDED' && v.window)
        .reduce<number | undefined>((end, v) => Math.max(end ?? -Infinity, v.window!.end), undefined);
      window = manualWindow(previous, now, delta.offsetSeconds);
    }
    const tables = new Set(this.opts.db.listDatastores().map((n) => n.toLowerCase()));
    return { sql: applyDeltaFilter(sql, tables, translatePresto(delta.timeExpression), window), window };
  }

  private async prune(def: DatasetDefinition, versions: ContentVersion[]): Promise<void> {
    const drop = new Set(versionsToPrune(versions, def.retentionPeriod, def.versioningConfiguration, this.clock.now()));
    // a hard bound on what one dataset keeps, whatever its versioning says
    const hardMax = this.opts.maxVersionsKept ?? 10_000;
    if (versions.length - drop.size > hardMax) {
      const oldestFirst = versions.filter((v) => !drop.has(v.versionId) && v.state !== 'CREATING').sort((a, b) => a.creationTime - b.creationTime);
      for (const v of oldestFirst.slice(0, versions.length - drop.size - hardMax)) drop.add(v.versionId);
    }
    if (drop.size === 0) return;
    for (let i = versions.length - 1; i >= 0; i--) if (drop.has(versions[i].versionId)) versions.splice(i, 1);
    await this.files.removeVersions(def.datasetName, [...drop]).catch(() => undefined);
  }

  /** s3DestinationConfiguration → `<dataDir>/deliveries/<bucket>/<key>` with placeholders filled. */
  private async deliver(def: DatasetDefinition, version: ContentVersion): Promise<void> {
    for (const rule of def.contentDeliveryRules ?? []) {
      const s3 = rule.destination.s3DestinationConfiguration;
      if (!s3) continue;
      try {
        const target = deliveryPath(this.opts.dataDir, s3.bucket, s3.key, version);
        await mkdir(dirname(target), { recursive: true });
        await copyFile(this.files.csvPath(def.datasetName, version.versionId), target);
      } catch {
        this.stats.deliveryErrors++;
      }
    }
  }

  /** Refuses at definition time SQL that could never run (files, other statements); see sql-guard.ts. */
  private async checkSql(def: DatasetDefinition): Promise<void> {
    try {
      await checkDatasetSql(this.opts.db, datasetSql(def), this.queryOptions());
    } catch (e) {
      throw e instanceof AnalyticsError && e.code === 'InvalidRequestException' ? new AnalyticsError(e.code, `dataset ${def.datasetName}: ${e.message}`) : e;
    }
  }

  private queryOptions(): { timeoutMs?: number } {
    return this.opts.timeoutMs === undefined ? {} : { timeoutMs: this.opts.timeoutMs };
  }

  private maxConcurrent(): number {
    return this.opts.maxConcurrent ?? 2;
  }

  private maxQueued(): number {
    return this.opts.maxQueued ?? 64;
  }

  private assertOpen(): void {
    if (this.closed) throw new AnalyticsError('ServiceUnavailableException', 'datasets are closed');
  }
}

function deltaOf(def: DatasetDefinition): { offsetSeconds: number; timeExpression: string } | undefined {
  return def.actions[0].queryAction.filters?.[0]?.deltaTime;
}

/** The local file a delivery rule writes: placeholders replaced, never outside the bucket directory. */
export function deliveryPath(dataDir: string, bucket: string, key: string, version: Pick<ContentVersion, 'versionId' | 'scheduleTime' | 'creationTime'>): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  const filled = key
    .replaceAll('!{iotanalytics:scheduleTime}', iso(version.scheduleTime))
    .replaceAll('!{iotanalytics:scheduledTime}', iso(version.scheduleTime))
    .replaceAll('!{iotanalytics:versionId}', version.versionId)
    .replaceAll('!{iotanalytics:versioned}', version.versionId)
    .replaceAll('!{iotanalytics:creationTime}', iso(version.creationTime));
  const base = resolve(dataDir, 'deliveries', bucket);
  const target = resolve(base, filled.replace(/^\/+/, ''));
  if (!target.startsWith(base + sep)) throw new AnalyticsError('InvalidRequestException', `delivery key ${key} leaves the bucket directory`);
  return target;
}
