// Public shapes of the analytics folder. Definitions follow the AWS IoT Analytics API
// (CreateChannel, CreatePipeline, CreateDatastore, CreateDataset request bodies) so the config
// file and, later, the AWS-compatible HTTP API hand the same objects in.

export interface RetentionPeriod {
  unlimited?: boolean;
  numberOfDays?: number;
}

/** Where a resource's data lives. Only `serviceManagedS3` (our data directory) exists here;
 * `customerManagedS3` (and the datastore's SiteWise variant) are refused with a message. */
export interface ResourceStorage {
  serviceManagedS3?: Record<string, never>;
  customerManagedS3?: { bucket: string; keyPrefix?: string; roleArn: string };
  iotSiteWiseMultiLayerStorage?: unknown;
}

/** AWS tag list entry (CreateX `tags`, TagResource). */
export interface Tag {
  key: string;
  value: string;
}

export interface ChannelDefinition {
  channelName: string;
  retentionPeriod?: RetentionPeriod;
  /** accepted for API compatibility; only service-managed storage exists */
  channelStorage?: ResourceStorage;
  /** initial tags (create / config); kept in the resource metadata, not in the definition */
  tags?: Tag[];
}

/** One pipeline activity: exactly one member set, as in the AWS API. */
export interface PipelineActivity {
  channel?: { name: string; channelName: string; next?: string };
  datastore?: { name: string; datastoreName: string };
  filter?: { name: string; filter: string; next?: string };
  math?: { name: string; attribute: string; math: string; next?: string };
  selectAttributes?: { name: string; attributes: string[]; next?: string };
  addAttributes?: { name: string; attributes: Record<string, string>; next?: string };
  removeAttributes?: { name: string; attributes: string[]; next?: string };
  lambda?: { name: string; lambdaName: string; batchSize: number; next?: string };
  deviceRegistryEnrich?: { name: string; attribute: string; thingName: string; roleArn: string; next?: string };
  deviceShadowEnrich?: { name: string; attribute: string; thingName: string; roleArn: string; next?: string };
  /** our extension (issue 6): scores `attribute` per device and adds the score and a flag */
  detectAnomalies?: {
    name: string;
    attribute: string;
    detector?: string;
    params?: Record<string, unknown>;
    deviceAttribute?: string;
    timestampAttribute?: string;
    threshold?: number;
    scoreAttribute?: string;
    flagAttribute?: string;
    maxDevices?: number;
    next?: string;
  };
  [other: string]: unknown;
}

export interface PipelineDefinition {
  pipelineName: string;
  pipelineActivities: PipelineActivity[];
  tags?: Tag[];
}

/** CreateDatastore `fileFormatConfiguration`: accepted, validated and echoed; rows are stored in
 * DuckDB whichever format is named. */
export interface FileFormatConfiguration {
  jsonConfiguration?: Record<string, never>;
  parquetConfiguration?: { schemaDefinition?: { columns?: { name: string; type: string }[] } };
}

/** CreateDatastore `datastorePartitions`: accepted, validated and echoed (no physical layout yet). */
export interface DatastorePartitions {
  partitions?: (
    | { attributePartition: { attributeName: string } }
    | { timestampPartition: { attributeName: string; timestampFormat?: string } }
  )[];
}

export interface DatastoreDefinition {
  datastoreName: string;
  retentionPeriod?: RetentionPeriod;
  datastoreStorage?: ResourceStorage;
  fileFormatConfiguration?: FileFormatConfiguration;
  datastorePartitions?: DatastorePartitions;
  tags?: Tag[];
}

/** A dataset as CreateDataset takes it (spec §5.1); containerAction and IoT Events delivery are refused. */
export interface DatasetDefinition {
  datasetName: string;
  actions: DatasetAction[];
  triggers?: DatasetTrigger[];
  contentDeliveryRules?: DatasetContentDeliveryRule[];
  retentionPeriod?: RetentionPeriod;
  versioningConfiguration?: { unlimited?: boolean; maxVersions?: number };
  lateDataRules?: { ruleName?: string; ruleConfiguration: { deltaTimeSessionWindowConfiguration?: { timeoutInMinutes: number } } }[];
}

export interface DatasetAction {
  actionName: string;
  queryAction: { sqlQuery: string; filters?: { deltaTime: { offsetSeconds: number; timeExpression: string } }[] };
}

/** `schedule` (rate/cron) or `dataset` (run after that dataset's content SUCCEEDED). */
export interface DatasetTrigger {
  schedule?: { expression: string };
  dataset?: { name: string };
}

export interface DatasetContentDeliveryRule {
  entryName?: string;
  destination: { s3DestinationConfiguration?: { bucket: string; key: string; glueConfiguration?: { tableName: string; databaseName: string }; roleArn?: string } };
}

/** A raw message as a channel receives it (from a rule action or BatchPutMessage). */
export interface IncomingChannelMessage {
  payload: Buffer;
  /** epoch ms; defaults to now */
  receivedAt?: number;
  /** optional caller id (BatchPutMessage messageId); the channel assigns its own sequence id */
  messageId?: string;
  clientId?: string;
  topic?: string;
  /** names the delivery this message came from (an MQTT QoS 1 PUBLISH), kept in the archive: a
   * message with the same key and `redelivered` set is acknowledged without being archived again
   * (analytics/channels/redelivery.ts) */
  deliveryKey?: string;
  /** the sender says this delivery may have been made before (MQTT DUP=1) */
  redelivered?: boolean;
  /** the JSON object `payload` encodes, when the caller already has it (a rule's output): the
   * channel's pipelines take it instead of parsing the payload again. It must be exactly what the
   * payload parses to, and nobody may modify it afterwards. Kept in memory only, never archived. */
  decoded?: PipelineMessage;
}

/** A message after it has been archived: it has a channel-unique, monotonically increasing id. */
export interface ArchivedMessage {
  channelName: string;
  seq: number;
  messageId?: string;
  payload: Buffer;
  receivedAt: number;
  clientId?: string;
  topic?: string;
  deliveryKey?: string;
  /** IncomingChannelMessage.decoded, while the message is in memory (never read back from the archive) */
  decoded?: PipelineMessage;
}

/** A JSON object flowing through pipeline activities. */
export type PipelineMessage = Record<string, unknown>;

/** What a datastore row looks like to consumers of the live feed: the stored attributes plus
 * `__dt` (ingestion time, epoch ms). */
export interface RowsEvent {
  datastoreName: string;
  rows: PipelineMessage[];
  /** epoch ms at which these rows became queryable */
  committedAt: number;
}

export interface DatasetResult {
  datasetName: string;
  columns: { name: string; type: string }[];
  /** row-major values, JSON-safe (BIGINT as number when safe, else string; timestamps as ISO) */
  rows: unknown[][];
  /** epoch ms */
  ranAt: number;
}

/** The control-plane resource kinds; each has an ARN arn:aws:iotanalytics:<region>:<account>:<kind>/<name>. */
export type ResourceKind = 'channel' | 'datastore' | 'pipeline' | 'dataset';

/** What the API reports about a resource besides its definition; persisted with the definitions. */
export interface ResourceMeta {
  /** epoch ms */
  creationTime: number;
  /** epoch ms of the last change of the definition */
  lastUpdateTime: number;
  /** tag key → value (at most 50) */
  tags: Record<string, string>;
  /** epoch ms of the newest message (channel) or committed row (datastore), kept across restarts */
  lastMessageArrivalTime?: number;
}

/** `statistics` of DescribeChannel / DescribeDatastore with includeStatistics (times epoch ms). */
export interface ResourceStatistics {
  size: { estimatedSizeInBytes: number; estimatedOn: number };
}

/** DescribeChannel's `channel` (times epoch ms; the HTTP layer converts them to seconds). */
export interface ChannelDescription {
  name: string;
  arn: string;
  status: 'ACTIVE';
  storage: ResourceStorage;
  retentionPeriod: RetentionPeriod;
  creationTime: number;
  lastUpdateTime: number;
  lastMessageArrivalTime?: number;
}

/** DescribeDatastore's `datastore` (times epoch ms): a channel's members plus its format. */
export interface DatastoreDescription extends ChannelDescription {
  fileFormatConfiguration: FileFormatConfiguration;
  datastorePartitions?: DatastorePartitions;
}

/** DescribePipeline's `pipeline` (times epoch ms). */
export interface PipelineDescription {
  name: string;
  arn: string;
  activities: PipelineActivity[];
  /** most recent first, at most the last 10 runs of this pipeline (analytics/pipelines/reprocessing.ts) */
  reprocessingSummaries: ReprocessingSummary[];
  creationTime: number;
  lastUpdateTime: number;
}

/** StartPipelineReprocessing's body (times epoch ms): a receivedAt range [startTime, endTime)
 * or archive files (`channelMessages.s3Paths`), never both; neither replays the whole archive. */
export interface ReprocessingRequest {
  startTime?: number;
  endTime?: number;
  channelMessages?: { s3Paths: string[] };
}

export type ReprocessingStatus = 'RUNNING' | 'SUCCEEDED' | 'CANCELLED' | 'FAILED';

/** One entry of DescribePipeline's `reprocessingSummaries` (creationTime epoch ms). */
export interface ReprocessingSummary {
  id: string;
  status: ReprocessingStatus;
  creationTime: number;
}

/** A page of a List operation: `nextToken` is present while more items follow. */
export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/** PutLoggingOptions / DescribeLoggingOptions: stored and echoed; they do not change our logging. */
export interface LoggingOptions {
  roleArn: string;
  level: 'ERROR';
  enabled: boolean;
}
