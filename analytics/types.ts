// Public shapes of the analytics folder. Definitions follow the AWS IoT Analytics API
// (CreateChannel, CreatePipeline, CreateDatastore, CreateDataset request bodies) so the config
// file and, later, the AWS-compatible HTTP API hand the same objects in.

export interface RetentionPeriod {
  unlimited?: boolean;
  numberOfDays?: number;
}

export interface ChannelDefinition {
  channelName: string;
  retentionPeriod?: RetentionPeriod;
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
  [other: string]: unknown;
}

export interface PipelineDefinition {
  pipelineName: string;
  pipelineActivities: PipelineActivity[];
}

export interface DatastoreDefinition {
  datastoreName: string;
  retentionPeriod?: RetentionPeriod;
}

export interface DatasetDefinition {
  datasetName: string;
  actions: { actionName: string; queryAction: { sqlQuery: string } }[];
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
