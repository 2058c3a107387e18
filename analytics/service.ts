// The analytics service behind the facade: the state every resource shares, the data path and
// the service's lifecycle (restore at open, flush, close, counters). The AWS control plane lives
// in control-plane/{channels,datastores,pipelines}.ts, tags and metadata in resource-meta.ts,
// retention in retention.ts and RunPipelineActivity in run-activity.ts; the methods here that
// belong to them are one-line delegations, passing this service as their ServiceCore.
//
// Data path: ingest() → channel archive (group commit, resolves once on disk) → the channel's
// runner (bounded queue, archive order) → every pipeline reading that channel → the datastore's
// batching writer → 'rows' event after commit.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { ArchivedMessage, ChannelDefinition, ChannelDescription, DatasetDefinition, DatasetResult, DatastoreDefinition, DatastoreDescription, IncomingChannelMessage, LoggingOptions, Page,
  PipelineActivity, PipelineDefinition, PipelineDescription, ReprocessingRequest, ResourceKind, ResourceStatistics, RowsEvent, Tag } from './types.js';
import type { BatchPutMessageErrorEntry } from './channels/index.js';
import type { CompiledPipeline, LambdaHost } from './pipelines/index.js';
import { createLambdaHost } from './pipelines/index.js';
import { forgetDeletedPipelines, readCommittedOffsets, resumeAfter } from './progress.js';
import { Reprocessing } from './pipelines/reprocessing.js';
import type { Database, ExportRange, ExportResult, HistoryRequest, HistoryResult, RowLagSnapshot } from './datastore/index.js';
import { DatasetService } from './datasets/index.js';
import { AnalyticsError, notFound } from './errors.js';
import type { ArnScope } from './resources.js';
import { resourceArn } from './resources.js';
import type { PageRequest } from './paging.js';
import type { AlertStore } from './anomaly/alerts.js';
import { DetectorResources } from './anomaly/detector-resources.js';
import type { StoredDefinitions } from './definitions.js';
import { DefinitionsFile, emptyDefinitions } from './definitions.js';
import type { Analytics, AnalyticsCounters, AnalyticsOptions, RunPipelineActivityResult } from './facade-types.js';
import type { OpenChannel, ServiceCore } from './service-context.js';
import * as channelApi from './control-plane/channels.js';
import * as datastoreApi from './control-plane/datastores.js';
import * as pipelineApi from './control-plane/pipelines.js';
import * as meta from './resource-meta.js';
import { scheduleRetentionSweeps, sweepRetention } from './retention.js';
import { runPipelineActivity } from './run-activity.js';

// The ServiceCore members are public (the control-plane modules read them); outside analytics/
// only the Analytics interface is visible.
export class AnalyticsService extends EventEmitter implements Analytics, ServiceCore {
  readonly defs: StoredDefinitions = emptyDefinitions();
  readonly file: DefinitionsFile;
  readonly datasets: DatasetService;
  readonly detectors: DetectorResources;
  readonly channels = new Map<string, OpenChannel>();
  readonly pipelines = new Map<string, CompiledPipeline>();
  readonly reprocessing: Reprocessing;
  byChannel = new Map<string, CompiledPipeline[]>();
  readonly subscribedWriters = new Set<string>();
  readonly lambdas: LambdaHost;
  rowsWanted = false;
  private restoreErrors = 0;
  closing: Promise<void> | null = null;
  readonly retentionDeletedRows = new Map<string, number>();
  private retentionTimer: NodeJS.Timeout | null = null;
  readonly arnScope: ArnScope;
  readonly now: () => number;

  constructor(
    readonly opts: AnalyticsOptions,
    readonly db: Database,
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
    await forgetDeletedPipelines(this.db, offsets, (name) => stored.pipelines[name] !== undefined);
    for (const [name, { channel, runner }] of this.channels) {
      let from = channel.lastSequence;
      for (const p of this.byChannel.get(name) ?? []) {
        const after = resumeAfter(offsets, p.pipelineName, name, channel.processedSeq);
        runner.startPipelineAfter(p.pipelineName, after);
        from = Math.min(from, after);
      }
      if (channel.lastSequence > from) await runner.replay(channel.readAfter(from));
    }
    this.retentionTimer = scheduleRetentionSweeps(this, this.opts.retentionCheckMs ?? 3_600_000);
  }

  putChannel(def: ChannelDefinition, persist = true): Promise<void> {
    return channelApi.putChannel(this, def, persist);
  }
  putDatastore(def: DatastoreDefinition, persist = true): Promise<void> {
    return datastoreApi.putDatastore(this, def, persist);
  }
  putPipeline(def: PipelineDefinition, persist = true): Promise<void> {
    return pipelineApi.putPipeline(this, def, persist);
  }

  async putDataset(def: DatasetDefinition): Promise<void> {
    this.assertOpen();
    await this.datasets.put(def);
  }

  ingest(channelName: string, msgs: IncomingChannelMessage[]): Promise<void> {
    // The usual case, room in the runner now, costs no promise besides the archive's own: this
    // runs once per device message.
    const ch = this.closing ? undefined : this.channels.get(channelName);
    const count = msgs.length;
    if (ch !== undefined && ch.runner.tryReserve(count)) {
      return ch.channel.append(msgs).then(
        () => ch.runner.release(count),
        (e: unknown) => {
          ch.runner.release(count);
          throw e;
        },
      );
    }
    return this.ingestWhenRoom(channelName, msgs);
  }

  private async ingestWhenRoom(channelName: string, msgs: IncomingChannelMessage[]): Promise<void> {
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


  runPipelineActivity(activity: PipelineActivity, payloads: Buffer[]): Promise<RunPipelineActivityResult> {
    return runPipelineActivity(activity, payloads, { enrich: this.opts.enrich, lambdas: this.lambdas });
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

  createChannel(def: ChannelDefinition): Promise<ChannelDescription> { return channelApi.createChannel(this, def); }
  updateChannel(def: ChannelDefinition): Promise<void> { return channelApi.updateChannel(this, def); }
  deleteChannel(name: string): Promise<void> { return channelApi.deleteChannel(this, name); }
  describeChannel(name: string, includeStatistics = false): Promise<{ channel: ChannelDescription; statistics?: ResourceStatistics }> { return channelApi.describeChannel(this, name, includeStatistics); }
  listChannelDescriptions(page: PageRequest = {}): Page<ChannelDescription> { return channelApi.listChannelDescriptions(this, page); }
  batchPutMessage(channelName: string, messages: unknown): Promise<BatchPutMessageErrorEntry[]> { return channelApi.batchPutMessage(this, channelName, messages); }
  sampleChannel(channelName: string, maxMessages: number, range: { startTime?: number; endTime?: number } = {}): Promise<ArchivedMessage[]> { return channelApi.sampleChannel(this, channelName, maxMessages, range); }

  createDatastore(def: DatastoreDefinition): Promise<DatastoreDescription> { return datastoreApi.createDatastore(this, def); }
  updateDatastore(def: DatastoreDefinition): Promise<void> { return datastoreApi.updateDatastore(this, def); }
  deleteDatastore(name: string): Promise<void> { return datastoreApi.deleteDatastore(this, name); }
  describeDatastore(name: string, includeStatistics = false): Promise<{ datastore: DatastoreDescription; statistics?: ResourceStatistics }> { return datastoreApi.describeDatastore(this, name, includeStatistics); }
  exportDatastore(name: string, range: ExportRange = {}): Promise<ExportResult> { return datastoreApi.exportDatastore(this, name, range); }
  listDatastoreDescriptions(page: PageRequest = {}): Page<DatastoreDescription> { return datastoreApi.listDatastoreDescriptions(this, page); }

  async deviceHistory(req: HistoryRequest): Promise<HistoryResult> {
    this.assertOpen();
    if (!this.defs.datastores[req.datastoreName]) throw notFound(`datastore ${req.datastoreName} does not exist`);
    return this.db.history(req);
  }

  createPipeline(def: PipelineDefinition): Promise<PipelineDescription> { return pipelineApi.createPipeline(this, def); }
  updatePipeline(def: PipelineDefinition): Promise<void> { return pipelineApi.updatePipeline(this, def); }
  deletePipeline(name: string): Promise<void> { return pipelineApi.deletePipeline(this, name); }
  describePipeline(name: string): PipelineDescription { return pipelineApi.describePipeline(this, name); }
  listPipelineDescriptions(page: PageRequest = {}): Page<PipelineDescription> { return pipelineApi.listPipelineDescriptions(this, page); }
  startPipelineReprocessing(pipelineName: string, req: ReprocessingRequest = {}): Promise<string> { return pipelineApi.startPipelineReprocessing(this, pipelineName, req); }
  cancelPipelineReprocessing(pipelineName: string, reprocessingId: string): Promise<void> { return pipelineApi.cancelPipelineReprocessing(this, pipelineName, reprocessingId); }

  resourceArn(kind: ResourceKind, name: string): string {
    return resourceArn(this.arnScope, kind, name);
  }
  tagResource(arn: string, tags: Tag[]): Promise<void> { return meta.tagResource(this, arn, tags); }
  untagResource(arn: string, tagKeys: string[]): Promise<void> { return meta.untagResource(this, arn, tagKeys); }
  listTagsForResource(arn: string): Tag[] { return meta.listTagsForResource(this, arn); }
  putLoggingOptions(options: LoggingOptions): Promise<void> { return meta.putLoggingOptions(this, options); }
  getLoggingOptions(): LoggingOptions | undefined { return meta.getLoggingOptions(this); }

  sweepRetention(): Promise<void> { return sweepRetention(this); }

  counters(): AnalyticsCounters {
    const channels: AnalyticsCounters['channels'] = {};
    for (const [name, { channel, runner }] of this.channels) channels[name] = { ...channel.counters(), processing: runner.counters() };
    const pipelines: AnalyticsCounters['pipelines'] = {};
    for (const [name, p] of this.pipelines) {
      const open = this.channels.get(p.channelName);
      const { rowsOut, writeErrors, lastWriteError } = open?.runner.pipelineCounters(name) ?? { rowsOut: 0, writeErrors: 0 };
      const backlog = open ? open.runner.backlog(name, open.channel.lastSequence) : 0;
      pipelines[name] = { channelName: p.channelName, datastoreName: p.datastoreName, rowsOut, writeErrors, backlog, activities: p.counters(), reprocessing: this.reprocessing.counters(name) };
      // the later of the two failures
      const activityError = p.lastError();
      const lastError = activityError && (!lastWriteError || activityError.at >= lastWriteError.at) ? activityError : lastWriteError;
      if (lastError) pipelines[name].lastError = { ...lastError };
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

  rowLag(): Record<string, RowLagSnapshot> {
    const lag: Record<string, RowLagSnapshot> = {};
    for (const name of Object.keys(this.defs.datastores)) {
      try {
        lag[name] = this.db.writer(name).rowLag();
      } catch {
        // closed database: nothing to report
      }
    }
    return lag;
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
    for (const name of Object.keys(this.defs.channels)) meta.lastArrival(this, 'channel', name);
    for (const name of Object.keys(this.defs.datastores)) meta.lastArrival(this, 'datastore', name);
    await this.file.save(this.defs).catch(() => undefined);
    await this.alerts.close().catch(() => undefined); // after the runners: their last raises are written
    await this.db.close();
  }

  subscribeWriter(name: string): void {
    if (this.subscribedWriters.has(name)) return;
    this.subscribedWriters.add(name);
    const w = this.db.writer(name);
    w.onCommit((rows, committedAt) => this.emit('rows', { datastoreName: name, rows, committedAt }));
  }

  reindex(): void {
    const m = new Map<string, CompiledPipeline[]>();
    for (const p of [...this.pipelines.values()].sort((x, y) => x.pipelineName.localeCompare(y.pipelineName))) {
      const list = m.get(p.channelName) ?? [];
      list.push(p);
      m.set(p.channelName, list);
    }
    this.byChannel = m;
  }

  assertOpen(): void {
    if (this.closing) throw new AnalyticsError('ServiceUnavailableException', 'analytics is closed');
  }
}
