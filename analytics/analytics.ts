// The analytics facade: channels (raw archive), pipelines (compiled activity chains), datastores
// (DuckDB) and datasets (saved SQL) behind one object. The broker's composition root is its only
// user; it talks in AWS IoT Analytics definitions and plain counters.
//
// Data path: ingest() → channel archive (group commit, resolves once on disk) → the channel's
// runner (bounded queue, archive order) → every pipeline reading that channel → the datastore's
// batching writer → 'rows' event after commit.
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  ArchivedMessage,
  ChannelDefinition,
  DatasetDefinition,
  DatasetResult,
  DatastoreDefinition,
  IncomingChannelMessage,
  PipelineActivity,
  PipelineDefinition,
  PipelineMessage,
  RowsEvent,
} from './types.js';
import type { ChannelCounters, ChannelOptions } from './channels/index.js';
import { Channel, checkRetention } from './channels/index.js';
import type { ActivityCounters, CompiledPipeline } from './pipelines/index.js';
import { compilePipeline, compileSingleActivity, decodePayload } from './pipelines/index.js';
import type { RunnerCounters, RunnerOptions } from './pipelines/runner.js';
import { ChannelRunner } from './pipelines/runner.js';
import type { Database, DatabaseOptions } from './datastore/index.js';
import { openDatabase } from './datastore/index.js';
import { runDataset, validateDataset } from './datasets/index.js';
import { AnalyticsError, notFound } from './errors.js';
import { checkResourceName } from './names.js';
import type { StoredDefinitions } from './definitions.js';
import { DefinitionsFile, loadDefinitions } from './definitions.js';

export interface AnalyticsOptions {
  dataDir: string;
  /** fsync every channel write before it is acknowledged (default false) */
  fsync?: boolean;
  /** channel archive settings (flush count/delay, pending caps, segment size...) */
  channel?: Omit<ChannelOptions, 'fsync'>;
  /** per-channel processing queue settings */
  runner?: RunnerOptions;
  /** DuckDB and datastore-writer settings */
  database?: DatabaseOptions;
  /** time limit of a dataset query (ms) */
  datasetTimeoutMs?: number;
}

export interface PipelineCountersSnapshot {
  channelName: string;
  datastoreName: string;
  rowsOut: number;
  writeErrors: number;
  activities: Record<string, ActivityCounters>;
}

export interface AnalyticsCounters {
  channels: Record<string, ChannelCounters & { processing: RunnerCounters }>;
  pipelines: Record<string, PipelineCountersSnapshot>;
  datastores: Record<string, Record<string, number>>;
  /** definitions found in the data directory that could not be restored at open */
  restoreErrors: number;
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
  ingest(channelName: string, msgs: IncomingChannelMessage[]): Promise<void>;
  runDataset(datasetName: string): Promise<DatasetResult>;
  /** archived messages of a channel with receivedAt in [startTime, endTime) (SampleChannelData, replay) */
  readChannel(channelName: string, range?: { startTime?: number; endTime?: number }): AsyncGenerator<ArchivedMessage>;
  /** RunPipelineActivity: one transform activity over raw payloads, nothing stored */
  runPipelineActivity(activity: PipelineActivity, payloads: Buffer[]): RunPipelineActivityResult;
  getChannel(name: string): ChannelDefinition | undefined;
  getDatastore(name: string): DatastoreDefinition | undefined;
  getPipeline(name: string): PipelineDefinition | undefined;
  getDataset(name: string): DatasetDefinition | undefined;
  listChannels(): string[];
  listDatastores(): string[];
  listDatasets(): string[];
  listPipelines(): string[];
  counters(): AnalyticsCounters;
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
  const db = await openDatabase(join(opts.dataDir, 'iotcore.duckdb'), opts.database);
  const a = new AnalyticsService(opts, db);
  try {
    await a.restore(await loadDefinitions(opts.dataDir));
  } catch (e) {
    await a.close().catch(() => undefined);
    throw e;
  }
  return a;
}

class AnalyticsService extends EventEmitter implements Analytics {
  private readonly defs: StoredDefinitions = { channels: {}, datastores: {}, pipelines: {}, datasets: {} };
  private readonly file: DefinitionsFile;
  private readonly channels = new Map<string, OpenChannel>();
  private readonly pipelines = new Map<string, CompiledPipeline>();
  /** channel name → pipelines reading it, rebuilt whenever a pipeline changes */
  private byChannel = new Map<string, CompiledPipeline[]>();
  private readonly subscribedWriters = new Set<string>();
  private rowsWanted = false;
  private restoreErrors = 0;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly opts: AnalyticsOptions,
    private readonly db: Database,
  ) {
    super();
    this.file = new DefinitionsFile(opts.dataDir);
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
    for (const def of Object.values(stored.datastores)) await this.putDatastore(def, false);
    for (const def of Object.values(stored.channels)) await this.putChannel(def, false);
    for (const def of Object.values(stored.pipelines)) {
      try {
        await this.putPipeline(def, false);
      } catch {
        this.restoreErrors++;
      }
    }
    for (const def of Object.values(stored.datasets)) {
      try {
        await this.putDataset(def, false);
      } catch {
        this.restoreErrors++;
      }
    }
    // Nothing acknowledged is lost: messages archived but not processed before the last stop
    // (crash, kill) go through the pipelines now, once every pipeline is back.
    for (const { channel, runner } of this.channels.values()) {
      if (channel.lastSequence > channel.processedSeq) await runner.replay(channel.readAfter(channel.processedSeq));
    }
  }

  async putChannel(def: ChannelDefinition, persist = true): Promise<void> {
    this.assertOpen();
    const name = checkResourceName(def?.channelName, 'channelName');
    checkRetention(def.retentionPeriod);
    const clean: ChannelDefinition = { channelName: name };
    if (def.retentionPeriod) clean.retentionPeriod = { ...def.retentionPeriod };
    const existing = this.channels.get(name);
    if (existing) {
      await existing.channel.setRetention(clean.retentionPeriod);
    } else {
      const channel = await Channel.open(this.opts.dataDir, clean, { ...this.opts.channel, fsync: this.opts.fsync });
      const runner = new ChannelRunner(name, () => this.byChannel.get(name) ?? [], (ds, rows, at) => this.writeRows(ds, rows, at), this.opts.runner);
      runner.startAt(channel.processedSeq);
      runner.onWatermark = (seq) => channel.markProcessed(seq);
      channel.onArchived((msgs) => runner.enqueue(msgs));
      this.channels.set(name, { channel, runner });
    }
    this.defs.channels[name] = clean;
    if (persist) await this.file.save(this.defs);
  }

  async putDatastore(def: DatastoreDefinition, persist = true): Promise<void> {
    this.assertOpen();
    const name = checkResourceName(def?.datastoreName, 'datastoreName');
    checkRetention(def.retentionPeriod);
    await this.db.ensureDatastore(def);
    const clean: DatastoreDefinition = { datastoreName: name };
    if (def.retentionPeriod) clean.retentionPeriod = { ...def.retentionPeriod };
    this.defs.datastores[name] = clean;
    if (this.rowsWanted) this.subscribeWriter(name);
    if (persist) await this.file.save(this.defs);
  }

  /** Compiles first: an invalid definition throws and never replaces a working pipeline. A
   * replaced pipeline starts with fresh activity counters. */
  async putPipeline(def: PipelineDefinition, persist = true): Promise<void> {
    this.assertOpen();
    const compiled = compilePipeline(def);
    if (!this.channels.has(compiled.channelName)) throw notFound(`pipeline "${compiled.pipelineName}": channel "${compiled.channelName}" does not exist`);
    if (!this.defs.datastores[compiled.datastoreName]) {
      throw notFound(`pipeline "${compiled.pipelineName}": datastore "${compiled.datastoreName}" does not exist`);
    }
    this.pipelines.set(compiled.pipelineName, compiled);
    this.reindex();
    this.defs.pipelines[compiled.pipelineName] = structuredClone(def);
    if (persist) await this.file.save(this.defs);
  }

  async putDataset(def: DatasetDefinition, persist = true): Promise<void> {
    this.assertOpen();
    const name = checkResourceName(def?.datasetName, 'datasetName');
    validateDataset(def);
    this.defs.datasets[name] = structuredClone(def);
    if (persist) await this.file.save(this.defs);
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
    const def = this.defs.datasets[datasetName];
    if (!def) throw notFound(`dataset "${datasetName}" does not exist`);
    return runDataset(def, this.db, this.opts.datasetTimeoutMs === undefined ? {} : { timeoutMs: this.opts.datasetTimeoutMs });
  }

  readChannel(channelName: string, range: { startTime?: number; endTime?: number } = {}): AsyncGenerator<ArchivedMessage> {
    const ch = this.channels.get(channelName);
    if (!ch) throw notFound(`channel "${channelName}" does not exist`);
    return ch.channel.read(range);
  }

  runPipelineActivity(activity: PipelineActivity, payloads: Buffer[]): RunPipelineActivityResult {
    if (!Array.isArray(payloads) || payloads.length < 1 || payloads.length > 10) {
      throw new AnalyticsError('InvalidRequestException', 'payloads must hold 1..10 entries');
    }
    const step = compileSingleActivity(activity);
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
    return this.defs.datasets[name] && structuredClone(this.defs.datasets[name]);
  }

  listChannels(): string[] {
    return [...this.channels.keys()].sort();
  }
  listDatastores(): string[] {
    return Object.keys(this.defs.datastores).sort();
  }
  listDatasets(): string[] {
    return Object.keys(this.defs.datasets).sort();
  }
  listPipelines(): string[] {
    return [...this.pipelines.keys()].sort();
  }

  counters(): AnalyticsCounters {
    const channels: AnalyticsCounters['channels'] = {};
    for (const [name, { channel, runner }] of this.channels) channels[name] = { ...channel.counters(), processing: runner.counters() };
    const pipelines: AnalyticsCounters['pipelines'] = {};
    for (const [name, p] of this.pipelines) {
      const r = this.channels.get(p.channelName)?.runner.pipelineCounters(name) ?? { rowsOut: 0, writeErrors: 0 };
      pipelines[name] = { channelName: p.channelName, datastoreName: p.datastoreName, ...r, activities: p.counters() };
    }
    const datastores: AnalyticsCounters['datastores'] = {};
    for (const name of Object.keys(this.defs.datastores)) {
      try {
        datastores[name] = this.db.writer(name).counters();
      } catch {
        // closed database: no writer counters to report
      }
    }
    return { channels, pipelines, datastores, restoreErrors: this.restoreErrors };
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
    const open = [...this.channels.values()];
    // Close the archives first (flushing them), then let the runners finish, then persist the
    // processed watermarks (now final), then the database.
    await Promise.allSettled(open.map((c) => c.channel.close()));
    await Promise.allSettled(open.map((c) => c.runner.drain()));
    await Promise.allSettled(open.map((c) => c.channel.saveProcessed()));
    await this.file.save(this.defs).catch(() => undefined);
    await this.db.close();
  }

  private writeRows(datastoreName: string, rows: PipelineMessage[], ingestedAt: number): Promise<void> {
    return this.db.writer(datastoreName).append(rows, ingestedAt);
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
