// The analytics facade: channels (raw archive), pipelines (compiled activity chains), datastores
// (DuckDB) and datasets (saved SQL) behind one object. The broker's composition root is its only
// user; it talks in AWS IoT Analytics definitions and plain counters.
//
// Data path: ingest() → channel archive (group commit, resolves once on disk) → the channel's
// runner (bounded queue, archive order) → every pipeline reading that channel → the datastore's
// batching writer → 'rows' event after commit.
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type {
  ArchivedMessage,
  ChannelDescription,
  DatastoreDescription,
  LoggingOptions,
  Page,
  PipelineDescription,
  ResourceKind,
  ResourceMeta,
  ResourceStatistics,
  Tag,
  ChannelDefinition,
  DatasetDefinition,
  DatasetResult,
  DatastoreDefinition,
  IncomingChannelMessage,
  PipelineActivity,
  PipelineDefinition,
  PipelineMessage,
  ReprocessingRequest,
  RowsEvent,
} from './types.js';
import type { BatchPutMessageErrorEntry, ChannelCounters, ChannelOptions } from './channels/index.js';
import { Channel, checkRetention, prepareBatch } from './channels/index.js';
import type { ActivityCounters, CompiledPipeline } from './pipelines/index.js';
import { compilePipeline, compileSingleActivity, compileSingleBatchActivity, createLambdaHost, decodePayload } from './pipelines/index.js';
import type { EnrichLookups, LambdaHost, LambdaHostOptions } from './pipelines/index.js';
import type { RowSource, RunnerCounters, RunnerOptions } from './pipelines/runner.js';
import { readCommittedOffsets, recordStart, resumeAfter } from './progress.js';
import { ChannelRunner } from './pipelines/runner.js';
import type { ReprocessingCounters, ReprocessingOptions } from './pipelines/reprocessing.js';
import { Reprocessing, archivedUpTo, checkReprocessingRequest } from './pipelines/reprocessing.js';
import { readArchiveFiles, resolveArchivePaths } from './channels/archive-files.js';
import type { Database, DatabaseOptions, ExportRange, ExportResult } from './datastore/index.js';
import { openDatabase } from './datastore/index.js';
import { DatasetService } from './datasets/index.js';
import { AnalyticsError, invalidRequest, notFound } from './errors.js';
import { checkResourceName } from './names.js';
import type { ArnScope } from './resources.js';
import {
  MAX_ACTIVITIES,
  MAX_TAGS,
  RESOURCE_LIMITS,
  checkFileFormat,
  checkLoggingOptions,
  checkPartitions,
  checkPartitionsFit,
  checkStorage,
  checkTags,
  echoRetention,
  limitExceeded,
  parseResourceArn,
  resourceArn,
  tagList,
} from './resources.js';
import type { PageRequest } from './paging.js';
import { paginate } from './paging.js';
import type { AlertCounters, AlertStore, AlertStoreOptions } from './anomaly/alerts.js';
import { openAlertStore } from './anomaly/alerts.js';
import { DetectorResources, type DetectorDescription } from './anomaly/detector-resources.js';
import type { StoredDefinitions } from './definitions.js';
import { DefinitionsFile, emptyDefinitions, loadDefinitions } from './definitions.js';

export interface AnalyticsOptions {
  dataDir: string;
  /** fsync every channel write before it is acknowledged (default false) */
  fsync?: boolean;
  /** channel archive settings (flush count/delay, pending caps, segment size...) */
  channel?: Omit<ChannelOptions, 'fsync'>;
  /** per-channel processing queue settings */
  runner?: RunnerOptions;
  /** StartPipelineReprocessing: chunk size, chunks in flight, summaries kept per pipeline */
  reprocessing?: ReprocessingOptions;
  /** DuckDB and datastore-writer settings */
  database?: DatabaseOptions;
  /** time limit of a dataset query (ms) */
  datasetTimeoutMs?: number;
  /** region and account named in the resource ARNs (the broker's settings; defaults us-east-1, 000000000000) */
  region?: string;
  accountId?: string;
  /** how often datastore retention runs (default 1 h; also once at open). Channels sweep themselves (channel.retentionCheckMs). */
  retentionCheckMs?: number;
  /** clock for retention and timestamps (tests); channels use it too unless channel.now is set */
  now?: () => number;
  /** the device registry and shadows the deviceRegistryEnrich / deviceShadowEnrich activities read
   * (the broker injects them; without them those activities are refused) */
  enrich?: EnrichLookups;
  /** lambda activities: functions directory (default `<dataDir>/functions`), time limit, queue, memory */
  lambda?: Partial<LambdaHostOptions>;
  /** the alert store: open-alert cap, write batching (anomaly/alerts.ts) */
  alerts?: AlertStoreOptions;
}

const DAY_MS = 86_400_000;

export interface PipelineCountersSnapshot {
  channelName: string;
  datastoreName: string;
  rowsOut: number;
  writeErrors: number;
  activities: Record<string, ActivityCounters>;
  /** StartPipelineReprocessing runs of this pipeline (messages replayed, rows written, ...) */
  reprocessing: ReprocessingCounters;
}

export interface AnalyticsCounters {
  channels: Record<string, ChannelCounters & { processing: RunnerCounters }>;
  pipelines: Record<string, PipelineCountersSnapshot>;
  /** writer counters plus retentionDeletedRows (rows removed by the retention sweep) */
  datastores: Record<string, Record<string, number>>;
  /** definitions found in the data directory that could not be restored at open */
  restoreErrors: number;
  /** the alert store: raised, updated, acknowledged, cleared, dropped, open, writes */
  alerts: AlertCounters;
  /** per detector resource: rows, points scored, anomalies, alerts raised, devices tracked, ... */
  detectors: Record<string, DetectorDescription['counters']>;
}

export interface RunPipelineActivityResult {
  /** output payloads (compact JSON); messages the activity dropped are left out */
  payloads: Buffer[];
  /** empty on success, the failure text otherwise */
  logResult: string;
}

export interface Analytics extends EventEmitter {
  putChannel(def: ChannelDefinition): Promise<void>;
  putDatastore(def: DatastoreDefinition): Promise<void>;
  putPipeline(def: PipelineDefinition): Promise<void>;
  putDataset(def: DatasetDefinition): Promise<void>;
  /** the AWS dataset API: definitions, contents (versions, CSV), triggers, delivery */
  readonly datasets: DatasetService;
  /** alerts (our extension): the sink raisers call, the lifecycle API, events for MQTT and the live feed */
  readonly alerts: AlertStore;
  /** detector resources and data-quality alarms on datastore columns (our extension): they read
   * each datastore's rows as committed and raise into `alerts` (anomaly/detector-resources.ts) */
  readonly detectors: DetectorResources;
  ingest(channelName: string, msgs: IncomingChannelMessage[]): Promise<void>;
  runDataset(datasetName: string): Promise<DatasetResult>;
  /** archived messages of a channel with receivedAt in [startTime, endTime) (SampleChannelData, replay) */
  readChannel(channelName: string, range?: { startTime?: number; endTime?: number }): AsyncGenerator<ArchivedMessage>;
  /** RunPipelineActivity: one transform activity over raw payloads, nothing stored */
  runPipelineActivity(activity: PipelineActivity, payloads: Buffer[]): Promise<RunPipelineActivityResult>;
  getChannel(name: string): ChannelDefinition | undefined;
  getDatastore(name: string): DatastoreDefinition | undefined;
  getPipeline(name: string): PipelineDefinition | undefined;
  getDataset(name: string): DatasetDefinition | undefined;
  listChannels(): string[];
  listDatastores(): string[];
  listDatasets(): string[];
  listPipelines(): string[];
  counters(): AnalyticsCounters;

  // The AWS IoT Analytics control plane. Create refuses an existing name (409, with resourceId
  // and resourceArn) and counts the account quotas (410); put*() above stays the idempotent upsert
  // of configuration as code. Update keeps members it is not given. Delete refuses a channel or
  // datastore a pipeline still uses. Times in the descriptions are epoch ms.
  createChannel(def: ChannelDefinition): Promise<ChannelDescription>;
  updateChannel(def: ChannelDefinition): Promise<void>;
  deleteChannel(name: string): Promise<void>;
  describeChannel(name: string, includeStatistics?: boolean): Promise<{ channel: ChannelDescription; statistics?: ResourceStatistics }>;
  listChannelDescriptions(page?: PageRequest): Page<ChannelDescription>;
  createDatastore(def: DatastoreDefinition): Promise<DatastoreDescription>;
  updateDatastore(def: DatastoreDefinition): Promise<void>;
  deleteDatastore(name: string): Promise<void>;
  describeDatastore(name: string, includeStatistics?: boolean): Promise<{ datastore: DatastoreDescription; statistics?: ResourceStatistics }>;
  listDatastoreDescriptions(page?: PageRequest): Page<DatastoreDescription>;
  createPipeline(def: PipelineDefinition): Promise<PipelineDescription>;
  updatePipeline(def: PipelineDefinition): Promise<void>;
  deletePipeline(name: string): Promise<void>;
  describePipeline(name: string): PipelineDescription;
  listPipelineDescriptions(page?: PageRequest): Page<PipelineDescription>;
  /** StartPipelineReprocessing: validates, then replays in the background; resolves to the run's
   * id. 404 unknown pipeline, 409 while one of its runs is RUNNING, 400 bad range or s3Paths. */
  startPipelineReprocessing(pipelineName: string, req?: ReprocessingRequest): Promise<string>;
  /** CancelPipelineReprocessing: stops the run between chunks (resolves once stopped); an ended
   * run keeps its status; 404 for an unknown pipeline or id. */
  cancelPipelineReprocessing(pipelineName: string, reprocessingId: string): Promise<void>;
  /** BatchPutMessage: per-message rule breaks come back as entries; the rest is archived before it resolves */
  batchPutMessage(channelName: string, messages: unknown): Promise<BatchPutMessageErrorEntry[]>;
  /** SampleChannelData: the newest `maxMessages` (1..10) raw messages in [startTime, endTime) */
  sampleChannel(channelName: string, maxMessages: number, range?: { startTime?: number; endTime?: number }): Promise<ArchivedMessage[]>;
  resourceArn(kind: ResourceKind, name: string): string;
  tagResource(arn: string, tags: Tag[]): Promise<void>;
  untagResource(arn: string, tagKeys: string[]): Promise<void>;
  listTagsForResource(arn: string): Tag[];
  putLoggingOptions(options: LoggingOptions): Promise<void>;
  getLoggingOptions(): LoggingOptions | undefined;
  /** Runs retention now: channel day partitions and datastore rows older than numberOfDays. */
  sweepRetention(): Promise<void>;
  /** Our extension: the datastore's rows of whole UTC days as hive-partitioned Parquet under
   * <dataDir>/exports/<datastore>/ (datastore/export.ts). */
  exportDatastore(name: string, range?: ExportRange): Promise<ExportResult>;

  flush(): Promise<void>;
  close(): Promise<void>;
  on(event: 'rows', listener: (e: RowsEvent) => void): this;
  emit(event: 'rows', e: RowsEvent): boolean;
}

interface OpenChannel {
  channel: Channel;
  runner: ChannelRunner;
}

export async function openAnalytics(opts: AnalyticsOptions): Promise<Analytics> {
  await mkdir(opts.dataDir, { recursive: true });
  // the one directory DuckDB may write files to (Parquet exports); absolute for allowed_directories
  const exportDirectory = resolve(opts.dataDir, 'exports');
  await mkdir(exportDirectory, { recursive: true });
  const db = await openDatabase(join(opts.dataDir, 'iotcore.duckdb'), { ...opts.database, exportDirectory });
  // open alerts are back before anything (a replay while restoring) can raise
  let alerts: AlertStore;
  try {
    alerts = await openAlertStore(db, { now: opts.now, ...opts.alerts });
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
  const a = new AnalyticsService(opts, db, alerts);
  try {
    await a.restore(await loadDefinitions(opts.dataDir));
  } catch (e) {
    await a.close().catch(() => undefined);
    throw e;
  }
  return a;
}

class AnalyticsService extends EventEmitter implements Analytics {
  private readonly defs: StoredDefinitions = emptyDefinitions();
  private readonly file: DefinitionsFile;
  readonly datasets: DatasetService;
  readonly detectors: DetectorResources;
  private readonly channels = new Map<string, OpenChannel>();
  private readonly pipelines = new Map<string, CompiledPipeline>();
  private readonly reprocessing: Reprocessing;
  /** channel name → pipelines reading it, rebuilt whenever a pipeline changes */
  private byChannel = new Map<string, CompiledPipeline[]>();
  private readonly subscribedWriters = new Set<string>();
  /** worker threads running the lambda activities' functions */
  private readonly lambdas: LambdaHost;
  private rowsWanted = false;
  private restoreErrors = 0;
  private closing: Promise<void> | null = null;
  private readonly retentionDeletedRows = new Map<string, number>();
  private retentionTimer: NodeJS.Timeout | null = null;
  private readonly arnScope: ArnScope;
  private readonly now: () => number;

  constructor(
    private readonly opts: AnalyticsOptions,
    private readonly db: Database,
    readonly alerts: AlertStore,
  ) {
    super();
    this.file = new DefinitionsFile(opts.dataDir);
    this.lambdas = createLambdaHost({ ...opts.lambda, functionsDir: opts.lambda?.functionsDir ?? join(opts.dataDir, 'functions') });
    const defs = this.defs;
    this.datasets = new DatasetService({
      dataDir: opts.dataDir,
      db,
      // getters: restore() replaces defs.meta
      store: { get datasets() { return defs.datasets; }, get meta() { return defs.meta.datasets; }, save: () => this.file.save(this.defs) },
      ...(opts.datasetTimeoutMs === undefined ? {} : { timeoutMs: opts.datasetTimeoutMs }),
    });
    this.arnScope = { region: opts.region ?? 'us-east-1', accountId: opts.accountId ?? '000000000000' };
    this.now = opts.now ?? Date.now;
    this.detectors = new DetectorResources({
      store: { get detectors() { return defs.detectors; }, save: () => this.file.save(this.defs) },
      datastoreExists: (name) => this.defs.datastores[name] !== undefined,
      sink: () => this.alerts,
      // the first resource turns on the stored-row copies of the 'rows' event
      startRows: () => this.on('rows', (e: RowsEvent) => this.detectors.onRows(e.datastoreName, e.rows, e.committedAt)),
      now: () => this.now(),
    });
    // Replayed rows go to the writer without a source position: live processing's stays put.
    this.reprocessing = new Reprocessing((ds, rows, at) => this.db.writer(ds).append(rows, at), { now: this.now, ...opts.reprocessing });
    // Stored-row copies for the 'rows' event are only built once somebody listens.
    this.on('newListener', (event: string) => {
      if (event === 'rows' && !this.rowsWanted) {
        this.rowsWanted = true;
        for (const name of this.db.listDatastores()) this.subscribeWriter(name);
      }
    });
  }

  /** Re-creates the persisted resources; a pipeline that no longer compiles is skipped and counted. */
  async restore(stored: StoredDefinitions): Promise<void> {
    this.defs.meta = stored.meta;
    if (stored.loggingOptions) this.defs.loggingOptions = stored.loggingOptions;
    for (const def of Object.values(stored.datastores)) await this.putDatastore(def, false);
    for (const def of Object.values(stored.channels)) await this.putChannel(def, false);
    for (const def of Object.values(stored.pipelines)) {
      try {
        await this.putPipeline(def, false);
      } catch {
        this.restoreErrors++;
      }
    }
    Object.assign(this.defs.datasets, stored.datasets);
    this.restoreErrors += await this.datasets.restore();
    // detectors before the replay below, so replayed rows reach them
    Object.assign(this.defs.detectors, stored.detectors);
    this.restoreErrors += this.detectors.restore();
    // Nothing acknowledged is lost, nothing is stored twice: each pipeline resumes after what it
    // has committed (progress.ts), once every pipeline is back.
    const offsets = await readCommittedOffsets(this.db);
    for (const [name, { channel, runner }] of this.channels) {
      let from = channel.lastSequence;
      for (const p of this.byChannel.get(name) ?? []) {
        const after = resumeAfter(offsets, p.pipelineName, name, channel.processedSeq);
        runner.startPipelineAfter(p.pipelineName, after);
        from = Math.min(from, after);
      }
      if (channel.lastSequence > from) await runner.replay(channel.readAfter(from));
    }
    // datastore retention: once now, then periodically (channels run their own sweep)
    void this.sweepDatastores().catch(() => undefined);
    this.retentionTimer = setInterval(() => void this.sweepDatastores().catch(() => undefined), this.opts.retentionCheckMs ?? 3_600_000);
    this.retentionTimer.unref();
  }

  async putChannel(def: ChannelDefinition, persist = true): Promise<void> {
    this.assertOpen();
    const name = checkResourceName(def?.channelName, 'channelName');
    checkRetention(def.retentionPeriod);
    checkStorage(def.channelStorage, 'channelStorage', `channels/${name}/`);
    const tags = def.tags === undefined ? undefined : checkTags(def.tags);
    const clean: ChannelDefinition = { channelName: name };
    if (def.retentionPeriod) clean.retentionPeriod = { ...def.retentionPeriod };
    const existing = this.channels.get(name);
    const changed = JSON.stringify(this.defs.channels[name]) !== JSON.stringify(clean);
    if (existing) {
      await existing.channel.setRetention(clean.retentionPeriod);
    } else {
      const clock = this.opts.now ? { now: this.opts.now } : {};
      const channel = await Channel.open(this.opts.dataDir, clean, { ...clock, ...this.opts.channel, fsync: this.opts.fsync });
      const runner = new ChannelRunner(name, () => this.byChannel.get(name) ?? [], (ds, rows, at, source) => this.writeRows(ds, rows, at, source), this.opts.runner);
      runner.startAt(channel.processedSeq);
      runner.onWatermark = (seq) => channel.markProcessed(seq);
      channel.onArchived((msgs) => runner.enqueue(msgs));
      this.channels.set(name, { channel, runner });
    }
    this.defs.channels[name] = clean;
    this.touch('channel', name, changed && persist, tags);
    if (persist) await this.file.save(this.defs);
  }

  async putDatastore(def: DatastoreDefinition, persist = true): Promise<void> {
    this.assertOpen();
    const name = checkResourceName(def?.datastoreName, 'datastoreName');
    checkRetention(def.retentionPeriod);
    checkStorage(def.datastoreStorage, 'datastoreStorage', 'the DuckDB database iotcore.duckdb');
    const format = checkFileFormat(def.fileFormatConfiguration);
    const partitions = checkPartitions(def.datastorePartitions);
    checkPartitionsFit(partitions);
    const tags = def.tags === undefined ? undefined : checkTags(def.tags);
    const previous = this.defs.datastores[name];
    if (previous) {
      // AWS: the file format and the partitions are fixed at creation
      if (JSON.stringify(checkFileFormat(previous.fileFormatConfiguration)) !== JSON.stringify(format)) {
        throw invalidRequest(`datastore "${name}": fileFormatConfiguration cannot be changed after creation`);
      }
      if (JSON.stringify(previous.datastorePartitions) !== JSON.stringify(partitions)) {
        throw invalidRequest(`datastore "${name}": datastorePartitions cannot be changed after creation`);
      }
    }
    await this.db.ensureDatastore(def);
    const clean: DatastoreDefinition = { datastoreName: name };
    if (def.retentionPeriod) clean.retentionPeriod = { ...def.retentionPeriod };
    if (format.parquetConfiguration) clean.fileFormatConfiguration = format;
    if (partitions) clean.datastorePartitions = partitions;
    const changed = JSON.stringify(previous) !== JSON.stringify(clean);
    this.defs.datastores[name] = clean;
    this.touch('datastore', name, changed && persist, tags);
    if (this.rowsWanted) this.subscribeWriter(name);
    if (persist) await this.file.save(this.defs);
    if (persist && changed && clean.retentionPeriod?.numberOfDays) await this.sweepDatastore(name);
  }

  /** Compiles first: an invalid definition throws and never replaces a working pipeline. A
   * replaced pipeline starts with fresh activity counters. */
  async putPipeline(def: PipelineDefinition, persist = true): Promise<void> {
    this.assertOpen();
    if (Array.isArray(def?.pipelineActivities) && def.pipelineActivities.length > MAX_ACTIVITIES) {
      throw limitExceeded(`a pipeline has at most ${MAX_ACTIVITIES} activities, got ${def.pipelineActivities.length}`);
    }
    const tags = def.tags === undefined ? undefined : checkTags(def.tags);
    // restored pipelines skip the function-module check (a missing module fails invocations instead)
    const compiled = compilePipeline(def, { enrich: this.opts.enrich, lambda: this.lambdas, checkFunctions: persist });
    if (!this.channels.has(compiled.channelName)) throw notFound(`pipeline "${compiled.pipelineName}": channel "${compiled.channelName}" does not exist`);
    if (!this.defs.datastores[compiled.datastoreName]) {
      throw notFound(`pipeline "${compiled.pipelineName}": datastore "${compiled.datastoreName}" does not exist`);
    }
    // A new pipeline, or one moved to another channel, starts at that channel's end (a restored
    // one where restore() says); its start is queued before any of its rows.
    let started: Promise<void> | undefined;
    if (persist && this.pipelines.get(compiled.pipelineName)?.channelName !== compiled.channelName) {
      const { channel, runner } = this.channels.get(compiled.channelName)!;
      runner.startPipelineAfter(compiled.pipelineName, channel.lastSequence);
      started = recordStart(this.db.writer(compiled.datastoreName), compiled.pipelineName, compiled.channelName, channel.lastSequence, this.now());
    }
    this.pipelines.set(compiled.pipelineName, compiled);
    this.reindex();
    await started;
    const clean: PipelineDefinition = { pipelineName: compiled.pipelineName, pipelineActivities: structuredClone(def.pipelineActivities) };
    const changed = JSON.stringify(this.defs.pipelines[compiled.pipelineName]) !== JSON.stringify(clean);
    this.defs.pipelines[compiled.pipelineName] = clean;
    this.touch('pipeline', compiled.pipelineName, changed && persist, tags);
    if (persist) await this.file.save(this.defs);
  }

  async putDataset(def: DatasetDefinition): Promise<void> {
    this.assertOpen();
    await this.datasets.put(def);
  }

  async ingest(channelName: string, msgs: IncomingChannelMessage[]): Promise<void> {
    this.assertOpen();
    const ch = this.channels.get(channelName);
    if (!ch) throw notFound(`channel "${channelName}" does not exist`);
    // Backpressure from processing reaches the producer before anything more is archived.
    const release = await ch.runner.reserve(msgs.length);
    try {
      await ch.channel.append(msgs);
    } finally {
      release();
    }
  }

  async runDataset(datasetName: string): Promise<DatasetResult> {
    this.assertOpen();
    return this.datasets.runNow(datasetName);
  }

  readChannel(channelName: string, range: { startTime?: number; endTime?: number } = {}): AsyncGenerator<ArchivedMessage> {
    const ch = this.channels.get(channelName);
    if (!ch) throw notFound(`channel "${channelName}" does not exist`);
    return ch.channel.read(range);
  }

  async runPipelineActivity(activity: PipelineActivity, payloads: Buffer[]): Promise<RunPipelineActivityResult> {
    if (!Array.isArray(payloads) || payloads.length < 1 || payloads.length > 10) {
      throw new AnalyticsError('InvalidRequestException', 'payloads must hold 1..10 entries');
    }
    if (activity?.lambda !== undefined) return this.runLambdaActivity(activity, payloads);
    const step = compileSingleActivity(activity, { enrich: this.opts.enrich });
    const out: Buffer[] = [];
    const log: string[] = [];
    payloads.forEach((p, i) => {
      const m = decodePayload(p);
      if (m === null) {
        log.push(`payload ${i}: not a JSON object, dropped`);
        return;
      }
      try {
        const r = step(m);
        if (r !== null) out.push(Buffer.from(JSON.stringify(r)));
      } catch (e) {
        log.push(`payload ${i}: ${(e as Error).message}`);
      }
    });
    return { payloads: out, logResult: log.join('\n') };
  }

  /** A lambda gets every payload (a non-JSON one as base64 text) and its result is shown whole;
   * a failed invocation is the logResult, with no payloads. */
  private async runLambdaActivity(activity: PipelineActivity, payloads: Buffer[]): Promise<RunPipelineActivityResult> {
    const run = compileSingleBatchActivity(activity, { lambda: this.lambdas });
    let result: unknown[];
    try {
      result = await run(payloads.map((p) => decodePayload(p) ?? p.toString('base64')));
    } catch (e) {
      return { payloads: [], logResult: (e as Error).message };
    }
    const log: string[] = [];
    result.forEach((r, i) => {
      if (typeof r !== 'object' || r === null || Array.isArray(r)) log.push(`result ${i}: not a JSON object, a pipeline drops it`);
    });
    return { payloads: result.map((r) => Buffer.from(JSON.stringify(r))), logResult: log.join('\n') };
  }

  getChannel(name: string): ChannelDefinition | undefined {
    const ch = this.channels.get(name);
    return ch ? structuredClone(this.defs.channels[name]) : undefined;
  }
  getDatastore(name: string): DatastoreDefinition | undefined {
    return this.defs.datastores[name] && structuredClone(this.defs.datastores[name]);
  }
  getPipeline(name: string): PipelineDefinition | undefined {
    return this.defs.pipelines[name] && structuredClone(this.defs.pipelines[name]);
  }
  getDataset(name: string): DatasetDefinition | undefined {
    return this.datasets.find(name);
  }

  listChannels(): string[] {
    return [...this.channels.keys()].sort();
  }
  listDatastores(): string[] {
    return Object.keys(this.defs.datastores).sort();
  }
  listDatasets(): string[] {
    return this.datasets.names();
  }
  listPipelines(): string[] {
    return [...this.pipelines.keys()].sort();
  }

  // ---- control plane (AWS IoT Analytics API) ----

  async createChannel(def: ChannelDefinition): Promise<ChannelDescription> {
    const name = checkResourceName(def?.channelName, 'channelName');
    this.refuseExisting('channel', this.defs.channels[name] ? name : undefined);
    if (this.channels.size >= RESOURCE_LIMITS.channel) throw limitExceeded(`at most ${RESOURCE_LIMITS.channel} channels per account`);
    await this.putChannel(def);
    return this.channelDescription(name);
  }

  async updateChannel(def: ChannelDefinition): Promise<void> {
    const name = checkResourceName(def?.channelName, 'channelName');
    const previous = this.requireDef('channel', name, this.defs.channels[name]);
    await this.putChannel({ ...def, retentionPeriod: def.retentionPeriod ?? previous.retentionPeriod });
  }

  async deleteChannel(name: string): Promise<void> {
    this.assertOpen();
    this.requireDef('channel', name, this.defs.channels[name]);
    this.refuseInUse('channel', name, [...this.pipelines.values()].filter((p) => p.channelName === name));
    const ch = this.channels.get(name)!;
    this.channels.delete(name); // ingest() now answers not found; CreateChannel still 409 until it is gone
    // what was accepted is written and drained before the archive goes away
    await ch.channel.close();
    await ch.runner.drain();
    await ch.channel.remove();
    delete this.defs.channels[name];
    delete this.defs.meta.channels[name];
    await this.file.save(this.defs);
  }

  async describeChannel(name: string, includeStatistics = false): Promise<{ channel: ChannelDescription; statistics?: ResourceStatistics }> {
    const channel = this.channelDescription(name);
    if (!includeStatistics) return { channel };
    const bytes = await this.channels.get(name)!.channel.archiveSizeBytes();
    return { channel, statistics: { size: { estimatedSizeInBytes: bytes, estimatedOn: this.now() } } };
  }

  listChannelDescriptions(page: PageRequest = {}): Page<ChannelDescription> {
    return this.page(this.listChannels(), page, (n) => this.channelDescription(n));
  }

  async createDatastore(def: DatastoreDefinition): Promise<DatastoreDescription> {
    const name = checkResourceName(def?.datastoreName, 'datastoreName');
    // DuckDB table names ignore case: "Readings" and "readings" would share one table
    this.refuseExisting('datastore', Object.keys(this.defs.datastores).find((n) => n.toLowerCase() === name.toLowerCase()));
    if (Object.keys(this.defs.datastores).length >= RESOURCE_LIMITS.datastore) throw limitExceeded(`at most ${RESOURCE_LIMITS.datastore} datastores per account`);
    await this.putDatastore(def);
    return this.datastoreDescription(name);
  }

  async updateDatastore(def: DatastoreDefinition): Promise<void> {
    const name = checkResourceName(def?.datastoreName, 'datastoreName');
    const previous = this.requireDef('datastore', name, this.defs.datastores[name]);
    await this.putDatastore({
      ...previous,
      datastoreStorage: def.datastoreStorage,
      retentionPeriod: def.retentionPeriod ?? previous.retentionPeriod,
      fileFormatConfiguration: def.fileFormatConfiguration ?? previous.fileFormatConfiguration,
    });
  }

  async deleteDatastore(name: string): Promise<void> {
    this.assertOpen();
    this.requireDef('datastore', name, this.defs.datastores[name]);
    this.refuseInUse('datastore', name, [...this.pipelines.values()].filter((p) => p.datastoreName === name));
    const detectors = this.detectors.usersOf(name);
    if (detectors.length > 0) throw invalidRequest(`datastore "${name}" is watched by detector(s) ${detectors.join(', ')}; delete them first (DELETE /api/detectors/{name})`);
    delete this.defs.datastores[name];
    delete this.defs.meta.datastores[name];
    this.subscribedWriters.delete(name);
    this.retentionDeletedRows.delete(name);
    await this.file.save(this.defs);
    await this.db.dropDatastore(name);
  }

  async describeDatastore(name: string, includeStatistics = false): Promise<{ datastore: DatastoreDescription; statistics?: ResourceStatistics }> {
    const datastore = this.datastoreDescription(name);
    if (!includeStatistics) return { datastore };
    const bytes = await this.db.estimatedSizeBytes(name);
    return { datastore, statistics: { size: { estimatedSizeInBytes: bytes, estimatedOn: this.now() } } };
  }

  exportDatastore(name: string, range: ExportRange = {}): Promise<ExportResult> {
    this.assertOpen();
    this.requireDef('datastore', name, this.defs.datastores[name]);
    return this.db.exportDatastore(name, range);
  }

  listDatastoreDescriptions(page: PageRequest = {}): Page<DatastoreDescription> {
    return this.page(this.listDatastores(), page, (n) => this.datastoreDescription(n));
  }

  async createPipeline(def: PipelineDefinition): Promise<PipelineDescription> {
    const name = checkResourceName(def?.pipelineName, 'pipelineName');
    this.refuseExisting('pipeline', this.defs.pipelines[name] ? name : undefined);
    if (this.pipelines.size >= RESOURCE_LIMITS.pipeline) throw limitExceeded(`at most ${RESOURCE_LIMITS.pipeline} pipelines per account`);
    await this.putPipeline(def);
    return this.describePipeline(name);
  }

  async updatePipeline(def: PipelineDefinition): Promise<void> {
    const name = checkResourceName(def?.pipelineName, 'pipelineName');
    this.requireDef('pipeline', name, this.defs.pipelines[name]);
    await this.putPipeline(def);
  }

  async deletePipeline(name: string): Promise<void> {
    this.assertOpen();
    this.requireDef('pipeline', name, this.defs.pipelines[name]);
    // messages in flight finish with the compiled chain they started with
    const gone = this.pipelines.get(name);
    if (gone) this.channels.get(gone.channelName)?.runner.forgetPipeline(name);
    this.pipelines.delete(name);
    this.reindex();
    await this.reprocessing.forget(name);
    delete this.defs.pipelines[name];
    delete this.defs.meta.pipelines[name];
    await this.file.save(this.defs);
  }

  describePipeline(name: string): PipelineDescription {
    const def = this.requireDef('pipeline', name, this.defs.pipelines[name]);
    const meta = this.metaOf('pipeline', name);
    return {
      name,
      arn: this.resourceArn('pipeline', name),
      activities: structuredClone(def.pipelineActivities),
      reprocessingSummaries: this.reprocessing.summaries(name),
      creationTime: meta.creationTime,
      lastUpdateTime: meta.lastUpdateTime,
    };
  }

  listPipelineDescriptions(page: PageRequest = {}): Page<PipelineDescription> {
    return this.page(this.listPipelines(), page, (n) => this.describePipeline(n));
  }

  async startPipelineReprocessing(pipelineName: string, req: ReprocessingRequest = {}): Promise<string> {
    this.assertOpen();
    const pipeline = this.requireDef('pipeline', pipelineName, this.pipelines.get(pipelineName));
    const scope = checkReprocessingRequest(req);
    this.reprocessing.assertIdle(pipelineName);
    const { channel } = this.channels.get(pipeline.channelName)!; // a used channel cannot be deleted
    const lastSeq = channel.counters().lastSeq; // written, not merely admitted
    const source =
      scope.kind === 'files'
        ? readArchiveFiles(await resolveArchivePaths(this.opts.dataDir, pipeline.channelName, scope.s3Paths), pipeline.channelName)
        : channel.read(scope);
    return this.reprocessing.start(pipeline, archivedUpTo(source, lastSeq));
  }

  async cancelPipelineReprocessing(pipelineName: string, reprocessingId: string): Promise<void> {
    this.requireDef('pipeline', pipelineName, this.pipelines.get(pipelineName));
    await this.reprocessing.cancel(pipelineName, reprocessingId);
  }

  async batchPutMessage(channelName: string, messages: unknown): Promise<BatchPutMessageErrorEntry[]> {
    this.assertOpen();
    if (typeof channelName !== 'string' || !this.channels.has(channelName)) throw notFound(`channel "${String(channelName)}" does not exist`);
    const { accepted, errors } = prepareBatch(messages, this.now());
    if (accepted.length > 0) await this.ingest(channelName, accepted);
    return errors;
  }

  async sampleChannel(channelName: string, maxMessages: number, range: { startTime?: number; endTime?: number } = {}): Promise<ArchivedMessage[]> {
    this.assertOpen();
    const ch = this.channels.get(channelName);
    if (!ch) throw notFound(`channel "${channelName}" does not exist`);
    if (!Number.isInteger(maxMessages) || maxMessages < 1 || maxMessages > 10) throw invalidRequest(`maxMessages must be 1..10, got ${maxMessages}`);
    if (range.startTime !== undefined && range.endTime !== undefined && range.startTime >= range.endTime) {
      throw invalidRequest('startTime must be before endTime');
    }
    return ch.channel.sample(maxMessages, range);
  }

  resourceArn(kind: ResourceKind, name: string): string {
    return resourceArn(this.arnScope, kind, name);
  }

  async tagResource(arn: string, tags: Tag[]): Promise<void> {
    const { kind, name } = this.resolveArn(arn);
    const add = checkTags(tags, false);
    const meta = this.metaOf(kind, name);
    const merged = { ...meta.tags, ...add };
    if (Object.keys(merged).length > MAX_TAGS) throw limitExceeded(`a resource can have at most ${MAX_TAGS} tags`);
    meta.tags = merged;
    await this.file.save(this.defs);
  }

  async untagResource(arn: string, tagKeys: string[]): Promise<void> {
    const { kind, name } = this.resolveArn(arn);
    if (!Array.isArray(tagKeys) || tagKeys.length < 1 || tagKeys.length > MAX_TAGS) throw invalidRequest(`tagKeys must hold 1..${MAX_TAGS} keys`);
    const meta = this.metaOf(kind, name);
    for (const key of tagKeys) delete meta.tags[key];
    await this.file.save(this.defs);
  }

  listTagsForResource(arn: string): Tag[] {
    const { kind, name } = this.resolveArn(arn);
    return tagList(this.metaOf(kind, name).tags);
  }

  async putLoggingOptions(options: LoggingOptions): Promise<void> {
    this.assertOpen();
    this.defs.loggingOptions = checkLoggingOptions(options);
    await this.file.save(this.defs);
  }

  getLoggingOptions(): LoggingOptions | undefined {
    return this.defs.loggingOptions && { ...this.defs.loggingOptions };
  }

  async sweepRetention(): Promise<void> {
    this.assertOpen();
    for (const { channel } of this.channels.values()) await channel.applyRetention();
    await this.sweepDatastores();
  }

  /** Deletes rows whose `__dt` lies in a UTC day wholly older than numberOfDays, as the channel
   * archive drops whole day partitions; today's rows are never touched. */
  private async sweepDatastores(): Promise<void> {
    for (const name of Object.keys(this.defs.datastores)) await this.sweepDatastore(name);
  }

  private async sweepDatastore(name: string): Promise<void> {
    const days = this.defs.datastores[name]?.retentionPeriod?.numberOfDays;
    if (!days || this.closing) return;
    const cutoff = this.now() - days * DAY_MS;
    const deleted = await this.db.deleteRowsBefore(name, cutoff - (cutoff % DAY_MS));
    if (deleted > 0) this.retentionDeletedRows.set(name, (this.retentionDeletedRows.get(name) ?? 0) + deleted);
  }

  private channelDescription(name: string): ChannelDescription {
    const def = this.requireDef('channel', name, this.channels.has(name) ? this.defs.channels[name] : undefined);
    const meta = this.metaOf('channel', name);
    const d: ChannelDescription = {
      name,
      arn: this.resourceArn('channel', name),
      status: 'ACTIVE',
      storage: { serviceManagedS3: {} },
      retentionPeriod: echoRetention(def.retentionPeriod),
      creationTime: meta.creationTime,
      lastUpdateTime: meta.lastUpdateTime,
    };
    const last = this.lastArrival('channel', name);
    if (last) d.lastMessageArrivalTime = last;
    return d;
  }

  private datastoreDescription(name: string): DatastoreDescription {
    const def = this.requireDef('datastore', name, this.defs.datastores[name]);
    const meta = this.metaOf('datastore', name);
    const d: DatastoreDescription = {
      name,
      arn: this.resourceArn('datastore', name),
      status: 'ACTIVE',
      storage: { serviceManagedS3: {} },
      retentionPeriod: echoRetention(def.retentionPeriod),
      creationTime: meta.creationTime,
      lastUpdateTime: meta.lastUpdateTime,
      fileFormatConfiguration: checkFileFormat(def.fileFormatConfiguration),
    };
    if (def.datastorePartitions) d.datastorePartitions = structuredClone(def.datastorePartitions);
    const last = this.lastArrival('datastore', name);
    if (last) d.lastMessageArrivalTime = last;
    return d;
  }

  /** Newest arrival (channel) or commit (datastore) time, folded into the metadata. */
  private lastArrival(kind: 'channel' | 'datastore', name: string): number | undefined {
    const meta = this.metaOf(kind, name);
    let live = 0;
    try {
      live = kind === 'channel' ? (this.channels.get(name)?.channel.counters().lastMessageArrivalTime ?? 0) : (this.db.writer(name).counters().lastCommitAt ?? 0);
    } catch {
      // closed database: the stored value stands
    }
    if (live > (meta.lastMessageArrivalTime ?? 0)) meta.lastMessageArrivalTime = live;
    return meta.lastMessageArrivalTime;
  }

  private page<T>(names: string[], req: PageRequest, describe: (name: string) => T): Page<T> {
    const p = paginate(names, (n) => n, req);
    return p.nextToken === undefined ? { items: p.items.map(describe) } : { items: p.items.map(describe), nextToken: p.nextToken };
  }

  private metaOf(kind: ResourceKind, name: string): ResourceMeta {
    const table = this.defs.meta[`${kind}s`];
    table[name] ??= { creationTime: this.now(), lastUpdateTime: this.now(), tags: {} };
    return table[name];
  }

  /** Records a put: a new resource gets its creation time, a changed one its update time (a
   * restore changes nothing). */
  private touch(kind: ResourceKind, name: string, changed: boolean, tags: Record<string, string> | undefined): void {
    const existed = this.defs.meta[`${kind}s`][name] !== undefined;
    const meta = this.metaOf(kind, name);
    if (existed && changed) meta.lastUpdateTime = this.now();
    if (tags) meta.tags = tags;
  }

  private refuseExisting(kind: ResourceKind, existing: string | undefined): void {
    if (existing === undefined) return;
    const arn = this.resourceArn(kind, existing);
    throw new AnalyticsError('ResourceAlreadyExistsException', `${kind} "${existing}" already exists`, { details: { resourceId: existing, resourceArn: arn } });
  }

  private requireDef<T>(kind: ResourceKind, name: string, def: T | undefined): T {
    if (def === undefined) throw notFound(`${kind} "${name}" does not exist`);
    return def;
  }

  private refuseInUse(kind: 'channel' | 'datastore', name: string, users: CompiledPipeline[]): void {
    if (users.length === 0) return;
    const names = users.map((p) => p.pipelineName).sort().join(', ');
    throw invalidRequest(`${kind} "${name}" is used by pipeline(s) ${names}; delete those pipelines or point them elsewhere (UpdatePipeline) first`);
  }

  private resolveArn(arn: string): { kind: ResourceKind; name: string } {
    const r = parseResourceArn(this.arnScope, arn);
    if (!r) throw invalidRequest(`resourceArn ${JSON.stringify(arn)} is not an IoT Analytics ARN of this server (arn:aws:iotanalytics:${this.arnScope.region}:${this.arnScope.accountId}:<channel|datastore|pipeline|dataset>/<name>)`);
    const defs = { channel: this.defs.channels, datastore: this.defs.datastores, pipeline: this.defs.pipelines, dataset: this.defs.datasets }[r.kind];
    this.requireDef(r.kind, r.name, defs[r.name]);
    return r;
  }

  counters(): AnalyticsCounters {
    const channels: AnalyticsCounters['channels'] = {};
    for (const [name, { channel, runner }] of this.channels) channels[name] = { ...channel.counters(), processing: runner.counters() };
    const pipelines: AnalyticsCounters['pipelines'] = {};
    for (const [name, p] of this.pipelines) {
      const r = this.channels.get(p.channelName)?.runner.pipelineCounters(name) ?? { rowsOut: 0, writeErrors: 0 };
      pipelines[name] = { channelName: p.channelName, datastoreName: p.datastoreName, ...r, activities: p.counters(), reprocessing: this.reprocessing.counters(name) };
    }
    const datastores: AnalyticsCounters['datastores'] = {};
    for (const name of Object.keys(this.defs.datastores)) {
      try {
        datastores[name] = { ...this.db.writer(name).counters(), retentionDeletedRows: this.retentionDeletedRows.get(name) ?? 0 };
      } catch {
        // closed database: no writer counters to report
      }
    }
    const detectors: AnalyticsCounters['detectors'] = {};
    for (const d of this.detectors.list()) detectors[d.definition.detectorName] = d.counters;
    return { channels, pipelines, datastores, restoreErrors: this.restoreErrors, alerts: this.alerts.counters(), detectors };
  }

  /** Everything archived before the call is processed and committed (or failed and counted). */
  async flush(): Promise<void> {
    const open = [...this.channels.values()];
    await Promise.all(open.map((c) => c.channel.flush()));
    await Promise.all(open.map((c) => c.runner.drain()));
    const writers = Object.keys(this.defs.datastores).map((n) => this.db.writer(n));
    await Promise.all(writers.map((w) => w.flush()));
  }

  close(): Promise<void> {
    if (!this.closing) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.detectors.close(); // its timer; rows still committing below keep reaching the monitors
    await this.reprocessing.close(); // stops replays between chunks, before the writers close
    await this.datasets.close().catch(() => undefined);
    const open = [...this.channels.values()];
    // Close the archives first (flushing them), then let the runners finish, then persist the
    // processed watermarks (now final), then the database.
    await Promise.allSettled(open.map((c) => c.channel.close()));
    await Promise.allSettled(open.map((c) => c.runner.drain()));
    await this.lambdas.close(); // the runners are done with the functions
    await Promise.allSettled(open.map((c) => c.channel.saveProcessed()));
    // arrival times survive a restart through the metadata
    for (const name of Object.keys(this.defs.channels)) this.lastArrival('channel', name);
    for (const name of Object.keys(this.defs.datastores)) this.lastArrival('datastore', name);
    await this.file.save(this.defs).catch(() => undefined);
    await this.alerts.close().catch(() => undefined); // after the runners: their last raises are written
    await this.db.close();
  }

  private writeRows(datastoreName: string, rows: PipelineMessage[], ingestedAt: number, source: RowSource): Promise<void> {
    return this.db.writer(datastoreName).append(rows, ingestedAt, source);
  }

  private subscribeWriter(name: string): void {
    if (this.subscribedWriters.has(name)) return;
    this.subscribedWriters.add(name);
    const w = this.db.writer(name);
    w.onCommit((rows, committedAt) => this.emit('rows', { datastoreName: name, rows, committedAt }));
  }

  private reindex(): void {
    const m = new Map<string, CompiledPipeline[]>();
    for (const p of [...this.pipelines.values()].sort((x, y) => x.pipelineName.localeCompare(y.pipelineName))) {
      const list = m.get(p.channelName) ?? [];
      list.push(p);
      m.set(p.channelName, list);
    }
    this.byChannel = m;
  }

  private assertOpen(): void {
    if (this.closing) throw new AnalyticsError('ServiceUnavailableException', 'analytics is closed');
  }
}
