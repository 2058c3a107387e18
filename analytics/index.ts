// The analytics folder's explicit export list: everything outside analytics/ (the broker's
// composition root, tests) goes through here.
export { openAnalytics } from './analytics.js';
export type {
  Analytics,
  AnalyticsOptions,
  AnalyticsCounters,
  PipelineCountersSnapshot,
  RunPipelineActivityResult,
} from './analytics.js';

export type {
  RetentionPeriod,
  ChannelDefinition,
  PipelineActivity,
  PipelineDefinition,
  DatastoreDefinition,
  DatasetDefinition,
  IncomingChannelMessage,
  ArchivedMessage,
  PipelineMessage,
  RowsEvent,
  DatasetResult,
  ResourceStorage,
  Tag,
  FileFormatConfiguration,
  DatastorePartitions,
  ResourceKind,
  ResourceMeta,
  ResourceStatistics,
  ChannelDescription,
  DatastoreDescription,
  PipelineDescription,
  Page,
  LoggingOptions,
} from './types.js';
export type { BatchPutMessageErrorEntry } from './channels/index.js';
export type { PageRequest } from './paging.js';
export { paginate, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE } from './paging.js';
export { RESOURCE_LIMITS, MAX_ACTIVITIES, parseResourceArn } from './resources.js';

export { AnalyticsError, ANALYTICS_ERRORS, isAnalyticsError } from './errors.js';
export type { AnalyticsErrorCode } from './errors.js';

// Alerts (issue 6): the store behind /api/alerts, the MQTT topic and the live feed.
export type { Alert, AlertSeverity, AlertState, AlertStore, AlertStoreOptions, AlertCounters, AlertEvent, AlertEventKind, AlertFilter } from './anomaly/index.js';
export { ALERT_STATES, ALERT_SEVERITIES } from './anomaly/index.js';

// Settings types the broker's configuration passes through.
export type { ChannelOptions, ChannelCounters } from './channels/index.js';
export type { RunnerOptions, RunnerCounters } from './pipelines/runner.js';
export type { ActivityCounters } from './pipelines/index.js';
export type { DatabaseOptions, RowLagSnapshot } from './datastore/index.js';

// One device's history from a datastore (GET /api/devices/{id}/history).
export type { HistoryRequest, HistoryResult } from './datastore/index.js';
export { MAX_HISTORY_POINTS } from './datastore/index.js';

// Datasets behind the AWS API (contents, triggers, delivery).
export type { DatasetService, DatasetCounters, ContentVersion, ContentState, VersionSelector, DatasetContentEvent, ContentTable } from './datasets/index.js';

// Validation without side effects (config checks, RunPipelineActivity, BatchPutMessage).
export { compilePipeline, compileSingleActivity, isValidFieldName, duplicateFieldNames } from './pipelines/index.js';
export { checkResourceName } from './names.js';
