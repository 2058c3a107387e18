// The state the analytics service shares with the modules it delegates to (control-plane/*,
// resource-meta.ts, retention.ts): AnalyticsService implements it and passes itself, so those
// modules are plain functions over one explicit object instead of methods on one large class.
import type { ResourceKind, IncomingChannelMessage } from './types.js';
import type { Channel } from './channels/index.js';
import type { CompiledPipeline, LambdaHost } from './pipelines/index.js';
import type { ChannelRunner } from './pipelines/runner.js';
import type { Reprocessing } from './pipelines/reprocessing.js';
import type { Database } from './datastore/index.js';
import type { DetectorResources } from './anomaly/detector-resources.js';
import type { ArnScope } from './resources.js';
import type { DefinitionsFile, StoredDefinitions } from './definitions.js';
import type { AnalyticsOptions } from './facade-types.js';

export interface OpenChannel {
  channel: Channel;
  runner: ChannelRunner;
}

export interface ServiceCore {
  readonly opts: AnalyticsOptions;
  readonly db: Database;
  /** the persisted definitions; saved whole through `file` after each change */
  readonly defs: StoredDefinitions;
  readonly file: DefinitionsFile;
  readonly channels: Map<string, OpenChannel>;
  readonly pipelines: Map<string, CompiledPipeline>;
  /** channel name → pipelines reading it, rebuilt by reindex() whenever a pipeline changes */
  readonly byChannel: Map<string, CompiledPipeline[]>;
  readonly reprocessing: Reprocessing;
  readonly detectors: DetectorResources;
  /** worker threads running the lambda activities' functions */
  readonly lambdas: LambdaHost;
  /** somebody listens to 'rows': new datastores' writers must be subscribed */
  readonly rowsWanted: boolean;
  readonly subscribedWriters: Set<string>;
  readonly retentionDeletedRows: Map<string, number>;
  /** set once close() has begun */
  readonly closing: Promise<void> | null;
  readonly arnScope: ArnScope;
  readonly now: () => number;
  assertOpen(): void;
  reindex(): void;
  subscribeWriter(name: string): void;
  resourceArn(kind: ResourceKind, name: string): string;
  ingest(channelName: string, msgs: IncomingChannelMessage[]): Promise<void>;
  listChannels(): string[];
  listDatastores(): string[];
  listPipelines(): string[];
}
