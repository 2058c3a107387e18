// The analytics facade's public shape: the options openAnalytics() takes, the counters it reports
// and the Analytics interface the broker's composition root talks to (AWS IoT Analytics
// definitions in, plain counters out). Types only: the implementation is service.ts and the
// modules it delegates to.
import type { EventEmitter } from 'node:events';
import type {
  ArchivedMessage,
  ChannelDefinition,
  ChannelDescription,
  DatasetDefinition,
  DatasetResult,
  DatastoreDefinition,
  DatastoreDescription,
  IncomingChannelMessage,
  LoggingOptions,
  Page,
  PipelineActivity,
  PipelineDefinition,
  PipelineDescription,
  ReprocessingRequest,
  ResourceKind,
  ResourceStatistics,
  RowsEvent,
  Tag,
} from './types.js';
import type { BatchPutMessageErrorEntry, ChannelCounters, ChannelOptions } from './channels/index.js';
import type { ActivityCounters, EnrichLookups, LambdaHostOptions } from './pipelines/index.js';
import type { RunnerCounters, RunnerOptions } from './pipelines/runner.js';
import type { ReprocessingCounters, ReprocessingOptions } from './pipelines/reprocessing.js';
import type { DatabaseOptions, ExportRange, ExportResult, HistoryRequest, HistoryResult, RowLagSnapshot } from './datastore/index.js';
import type { DatasetService } from './datasets/index.js';
import type { PageRequest } from './paging.js';
import type { AlertCounters, AlertStore, AlertStoreOptions } from './anomaly/alerts.js';
import type { DetectorDescription, DetectorResources } from './anomaly/detector-resources.js';

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
  /** how often datastore and alert retention run (default 1 h; also once at open). Channels sweep themselves (channel.retentionCheckMs). */
  retentionCheckMs?: number;
  /** clock for retention and timestamps (tests); channels use it too unless channel.now is set */
  now?: () => number;
  /** the device registry and shadows the deviceRegistryEnrich / deviceShadowEnrich activities read
   * (the broker injects them; without them those activities are refused) */
  enrich?: EnrichLookups;
  /** lambda activities: functions directory (default `<dataDir>/functions`), time limit, queue, memory */
  lambda?: Partial<LambdaHostOptions>;
  /** the alert store: open-alert cap, write batching, retentionDays of cleared alerts (default 90) (anomaly/alerts.ts) */
  alerts?: AlertStoreOptions;
}

export interface PipelineCountersSnapshot {
  channelName: string;
  datastoreName: string;
  rowsOut: number;
  writeErrors: number;
  /** messages in the channel not yet through this pipeline (ChannelRunner.backlog) */
  backlog: number;
  /** the latest failure: an activity threw (or a lambda invocation failed), or a datastore write failed */
  lastError?: { message: string; at: number; activity?: string };
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
  /** per datastore: how long rows took from the broker's receipt to their commit (a histogram) */
  rowLag(): Record<string, RowLagSnapshot>;

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
  /** Runs retention now: channel day partitions, datastore rows older than numberOfDays and
   * alerts cleared more than the alert store's retentionDays ago. */
  sweepRetention(): Promise<void>;
  /** Our extension: the datastore's rows of whole UTC days as hive-partitioned Parquet under
   * <dataDir>/exports/<datastore>/ (datastore/export.ts). */
  exportDatastore(name: string, range?: ExportRange): Promise<ExportResult>;
  /** Our extension (the dashboard's device charts): one device's numeric attributes over
   * [from, to), raw rows or per-bucket avg/min/max (datastore/history.ts). */
  deviceHistory(req: HistoryRequest): Promise<HistoryResult>;

  flush(): Promise<void>;
  close(): Promise<void>;
  on(event: 'rows', listener: (e: RowsEvent) => void): this;
  emit(event: 'rows', e: RowsEvent): boolean;
}
