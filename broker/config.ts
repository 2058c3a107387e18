// Configuration is read once at start-up from four sources, highest precedence first: command-line
// flags, environment variables, the configuration file's `server` section, built-in defaults.
// It is validated in one place with errors that name the source, the key and the reason, then
// frozen: nothing changes it while the server runs.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { TopicRulePayload } from '../rules/index.js';
import type { Analytics, ChannelDefinition, DatasetDefinition, DatastoreDefinition, PipelineDefinition } from '../analytics/index.js';
import type { DeclaredThing, DeclaredThingGroup, DeclaredThingType } from './registry/index.js';
import type { DeclaredPolicy } from './identity/policies.js';
import { BrokerError } from './errors.js';
import { DEFAULT_RESOURCES } from './default-config.js';
import type { LogLevel } from './log.js';

export interface ServerSettings {
  httpPort: number;
  mqttPort: number;
  /** MQTT over TLS (device certificates); 0 = any free port */
  mqttsPort: number;
  host: string;
  dataDir: string;
  logLevel: LogLevel;
  /** largest accepted MQTT PUBLISH payload, bytes (AWS IoT: 128 KB) */
  maxPayloadBytes: number;
  /** longest topic (and topic filter) a device may use, UTF-8 bytes (AWS IoT: 256) */
  maxTopicBytes: number;
  /** most slashes in a topic or topic filter (AWS IoT: 7) */
  maxTopicSlashes: number;
  /** fsync the channel archive before acknowledging (survives power loss, not only crashes) */
  fsync: boolean;
  /** region named in the ARNs the AWS-compatible APIs return (arn:aws:iot:<region>:...) */
  region: string;
  /** 12-digit account id in ARNs and what the SQL function accountid() returns */
  accountId: string;
  /** MQTT clients without a certificate or password connect with every permission (development only) */
  allowAnonymous: boolean;
  /** DuckDB's memory_limit (e.g. '2GB'); '' = DuckDB's default, 80 % of the RAM */
  duckdbMemoryLimit: string;
  /** time limit of one dataset query, seconds (then QueryTimeoutException) */
  datasetQueryTimeoutSeconds: number;
  /** cluster mode (README "Cluster mode (Redis)"); absent: a single node with its own journals */
  cluster?: ClusterSettings;
}

/** Several nodes sharing subscriptions, sessions, retained messages and channel writes through Redis. */
export interface ClusterSettings {
  /** redis:// or rediss:// URL of the Redis all nodes share */
  redisUrl: string;
  /** this node's name (logs, the analytics consumer); default: the host name */
  nodeId: string;
  /** 'owner': this node's datastores store every node's channel writes (one per cluster); 'forward': its writes go to the owner */
  analytics: 'owner' | 'forward';
  /** channel writes a channel's stream may hold unstored before publishes writing to it are refused */
  maxBacklog: number;
}

export const DEFAULT_CLUSTER_BACKLOG = 100_000;

/** Environment variables of the cluster section (server.cluster in the file). */
export const CLUSTER_ENV_VARS: Record<string, keyof ClusterSettings> = {
  IOT_CLUSTER_REDIS_URL: 'redisUrl',
  IOT_CLUSTER_NODE_ID: 'nodeId',
  IOT_CLUSTER_ANALYTICS: 'analytics',
  IOT_CLUSTER_MAX_BACKLOG: 'maxBacklog',
};

export interface ResourcesConfig {
  rules: { ruleName: string; topicRulePayload: TopicRulePayload }[];
  channels: ChannelDefinition[];
  datastores: DatastoreDefinition[];
  pipelines: PipelineDefinition[];
  datasets: DatasetDefinition[];
  /** detector resources and data-quality alarms on datastore columns (optional; analytics validates them) */
  detectors?: ReturnType<Analytics['detectors']['describe']>['definition'][];
  /** device registry (optional: the embedded default declares none); shapes = the Create* request bodies */
  thingTypes?: DeclaredThingType[];
  thingGroups?: DeclaredThingGroup[];
  things?: DeclaredThing[];
  /** AWS IoT policies (optional); the document a JSON object or its text */
  policies?: DeclaredPolicy[];
}

export interface Config {
  readonly server: Readonly<ServerSettings>;
  readonly resources: Readonly<ResourcesConfig>;
  /** where the resources came from: a file path, or 'default' for the embedded configuration */
  readonly source: string;
}

export const DEFAULT_SETTINGS: ServerSettings = {
  httpPort: 8080,
  mqttPort: 1883,
  mqttsPort: 8883,
  host: '0.0.0.0',
  dataDir: './data',
  logLevel: 'info',
  maxPayloadBytes: 128 * 1024,
  maxTopicBytes: 256,
  maxTopicSlashes: 7,
  fsync: false,
  region: 'us-east-1',
  accountId: '000000000000',
  allowAnonymous: false,
  duckdbMemoryLimit: '',
  datasetQueryTimeoutSeconds: 30,
};

const port = z.number().int().min(0, 'must be 0 (any free port) or a port number').max(65535, 'must be at most 65535');
const name = (pattern: RegExp, what: string) =>
  z.string().min(1).max(128).regex(pattern, `${what} must match ${pattern.source}`);
const resourceName = name(/^[a-zA-Z0-9_]+$/, 'name');

const settingsSchema = z.strictObject({
  httpPort: port,
  mqttPort: port,
  mqttsPort: port,
  host: z.string().min(1),
  dataDir: z.string().min(1),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  maxPayloadBytes: z.number().int().min(1).max(128 * 1024 * 1024),
  // MQTT's own bound is 65,535 bytes [MQTT-1.5.3]
  maxTopicBytes: z.number().int().min(1).max(65_535),
  maxTopicSlashes: z.number().int().min(0).max(65_535),
  fsync: z.boolean(),
  region: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a region name such as us-east-1').max(64),
  accountId: z.string().regex(/^\d{12}$/, 'must be 12 digits'),
  allowAnonymous: z.boolean(),
  duckdbMemoryLimit: z.string().regex(/^(\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB))?$/i, "must be a size such as '512MB' or '2GB', or empty for DuckDB's default"),
  datasetQueryTimeoutSeconds: z.number().int().min(1).max(3600),
  cluster: z.strictObject({
    redisUrl: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL'),
    nodeId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 letters, digits, dots, dashes or underscores'),
    analytics: z.enum(['owner', 'forward']),
    maxBacklog: z.number().int().min(1).max(100_000_000),
  }).optional(),
});

// Structure only: the rules engine and analytics validate meaning (SQL, activity chains) when
// the resources are applied, and their errors are reported with the same file and key.
const retention = z.strictObject({ unlimited: z.boolean().optional(), numberOfDays: z.number().int().min(1).optional() });
const resourcesSchema = z.strictObject({
  rules: z.array(z.strictObject({
    ruleName: resourceName,
    topicRulePayload: z.object({ sql: z.string().min(1), actions: z.array(z.record(z.string(), z.unknown())) }).passthrough(),
  })).default([]),
  channels: z.array(z.object({ channelName: resourceName, retentionPeriod: retention.optional() }).passthrough()).default([]),
  datastores: z.array(z.object({ datastoreName: resourceName, retentionPeriod: retention.optional() }).passthrough()).default([]),
  pipelines: z.array(z.object({ pipelineName: resourceName, pipelineActivities: z.array(z.record(z.string(), z.unknown())).min(1) }).passthrough()).default([]),
  datasets: z.array(z.object({ datasetName: resourceName, actions: z.array(z.record(z.string(), z.unknown())).min(1) }).passthrough()).default([]),
  detectors: z.array(z.object({ detectorName: resourceName, datastoreName: resourceName }).passthrough()).default([]),
  // registry names: [a-zA-Z0-9:_-]; the registry validates the rest (attributes, limits)
  thingTypes: z.array(z.object({ thingTypeName: name(/^[a-zA-Z0-9:_-]+$/, 'thingTypeName') }).passthrough()).default([]),
  thingGroups: z.array(z.object({ thingGroupName: name(/^[a-zA-Z0-9:_-]+$/, 'thingGroupName') }).passthrough()).default([]),
  things: z.array(z.object({ thingName: name(/^[a-zA-Z0-9:_-]+$/, 'thingName'), thingGroupNames: z.array(z.string()).optional() }).passthrough()).default([]),
  // policy names: [\w+=,.@-]; the policy store validates the document (MalformedPolicyException)
  policies: z.array(z.strictObject({ policyName: name(/^[\w+=,.@-]+$/, 'policyName'), policyDocument: z.union([z.string().min(1), z.record(z.string(), z.unknown())]) })).default([]),
});
const fileSchema = resourcesSchema.extend({ server: settingsSchema.partial().extend({ cluster: settingsSchema.shape.cluster.unwrap().partial().optional() }).optional() });

/** Environment variables and the settings they set. */
export const ENV_VARS: Record<string, keyof ServerSettings> = {
  IOT_HTTP_PORT: 'httpPort',
  IOT_MQTT_PORT: 'mqttPort',
  IOT_MQTTS_PORT: 'mqttsPort',
  IOT_HOST: 'host',
  IOT_DATA_DIR: 'dataDir',
  IOT_LOG_LEVEL: 'logLevel',
  IOT_MAX_PAYLOAD_BYTES: 'maxPayloadBytes',
  IOT_MAX_TOPIC_BYTES: 'maxTopicBytes',
  IOT_MAX_TOPIC_SLASHES: 'maxTopicSlashes',
  IOT_FSYNC: 'fsync',
  IOT_REGION: 'region',
  IOT_ACCOUNT_ID: 'accountId',
  IOT_ALLOW_ANONYMOUS: 'allowAnonymous',
  IOT_DUCKDB_MEMORY_LIMIT: 'duckdbMemoryLimit',
  IOT_DATASET_QUERY_TIMEOUT_SECONDS: 'datasetQueryTimeoutSeconds',
};

export interface ConfigInputs {
  /** path of the configuration file, or undefined for the embedded default */
  configFile?: string;
  env?: Record<string, string | undefined>;
  /** settings given as flags (already typed by the CLI parser) */
  flags?: Partial<Record<keyof ServerSettings, string | number | boolean>>;
  /** a configuration object instead of a file (tests, embedding) */
  configObject?: unknown;
}

export function loadConfig(inputs: ConfigInputs): Config {
  const env = inputs.env ?? {};
  const configFile = inputs.configFile ?? env.IOT_CONFIG;
  let fileSettings: Partial<ServerSettings> = {};
  let fileCluster: Partial<ClusterSettings> | undefined;
  let resources: ResourcesConfig = DEFAULT_RESOURCES;
  let source = 'default';

  if (configFile !== undefined || inputs.configObject !== undefined) {
    source = configFile !== undefined ? resolve(configFile) : 'inline configuration';
    const raw = inputs.configObject ?? readJsonFile(source);
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) throw configError(source, parsed.error.issues);
    const { server, ...rest } = parsed.data;
    const { cluster, ...serverSettings } = server ?? {};
    fileSettings = serverSettings;
    fileCluster = cluster;
    resources = rest as unknown as ResourcesConfig;
  }

  const fromEnv = coerceAll(env, 'environment variable');
  const fromFlags = coerceAll(inputs.flags ?? {}, 'flag');
  const cluster = clusterSettings(fileCluster, env);
  const merged = { ...DEFAULT_SETTINGS, ...fileSettings, ...fromEnv, ...fromFlags, ...(cluster ? { cluster } : {}) };
  const settings = settingsSchema.safeParse(merged);
  if (!settings.success) throw configError('settings (flags, environment, file)', settings.error.issues);

  return deepFreeze({ server: { ...settings.data, dataDir: resolve(settings.data.dataDir) }, resources, source });
}

/** The file's cluster section under the IOT_CLUSTER_* variables; undefined when neither sets any. */
function clusterSettings(file: Partial<ClusterSettings> | undefined, env: Record<string, string | undefined>): Partial<ClusterSettings> | undefined {
  const fromEnv: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(CLUSTER_ENV_VARS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (key === 'maxBacklog' && !/^\d+$/.test(value.trim())) throw new BrokerError('ConfigInvalid', `environment variable ${name}: "${value}" is not a whole number`);
    fromEnv[key] = key === 'maxBacklog' ? Number(value) : value;
  }
  if (file === undefined && Object.keys(fromEnv).length === 0) return undefined;
  return { nodeId: hostname(), maxBacklog: DEFAULT_CLUSTER_BACKLOG, ...file, ...fromEnv };
}

function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new BrokerError('ConfigFileUnreadable', `config file ${path}: cannot be read (${(err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BrokerError('ConfigFileUnreadable', `config file ${path}: not valid JSON (${(err as Error).message})`);
  }
}

/** Turns env/flag strings into the types the schema expects, naming the source on failure. */
function coerceAll(values: Record<string, unknown>, kind: 'environment variable' | 'flag'): Partial<ServerSettings> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const setting = kind === 'environment variable' ? ENV_VARS[key] : (key as keyof ServerSettings);
    if (setting === undefined) continue; // other environment variables are not ours
    const label = kind === 'environment variable' ? key : `--${kebab(setting)}`;
    out[setting] = coerce(setting, value, `${kind} ${label}`);
  }
  return out as Partial<ServerSettings>;
}

function coerce(setting: keyof ServerSettings, value: unknown, label: string): unknown {
  const sample = DEFAULT_SETTINGS[setting];
  if (typeof value !== 'string') return value;
  if (typeof sample === 'number') {
    if (!/^\d+$/.test(value.trim())) throw new BrokerError('ConfigInvalid', `${label}: "${value}" is not a whole number`);
    return Number(value);
  }
  if (typeof sample === 'boolean') {
    if (!/^(true|false|1|0)$/i.test(value)) throw new BrokerError('ConfigInvalid', `${label}: "${value}" is not true or false`);
    return /^(true|1)$/i.test(value);
  }
  return value;
}

function configError(source: string, issues: z.core.$ZodIssue[]): BrokerError {
  const lines = issues.slice(0, 10).map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  return new BrokerError('ConfigInvalid', `config ${source}: ${lines.join('; ')}`);
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
