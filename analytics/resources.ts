// The control-plane rules shared by channels, datastores and pipelines: ARNs, storage (only the
// service-managed kind exists here), retention echo, tags, datastore file formats and partitions,
// and the per-account quotas (spec §1, §4.1, §6). Pure functions: the facade calls them before it
// changes anything.
import type {
  DatastorePartitions,
  FileFormatConfiguration,
  ResourceKind,
  ResourceStorage,
  RetentionPeriod,
  Tag,
} from './types.js';
import { AnalyticsError, invalidRequest } from './errors.js';
import { parseGlueType } from './datastore/glue-types.js';
import { planPartitions } from './datastore/partitions.js';

/** Quotas per account (spec §6); creating one more answers LimitExceededException (HTTP 410). */
export const RESOURCE_LIMITS = { channel: 50, datastore: 25, pipeline: 100, dataset: 100 } as const;
export const MAX_ACTIVITIES = 25;
export const MAX_TAGS = 50;
const MAX_PARTITIONS = 25;
const MAX_PARQUET_COLUMNS = 100;

export interface ArnScope {
  region: string;
  accountId: string;
}

export function resourceArn(scope: ArnScope, kind: ResourceKind, name: string): string {
  return `arn:aws:iotanalytics:${scope.region}:${scope.accountId}:${kind}/${name}`;
}

/** The kind and name an IoT Analytics ARN of this account and region names, or undefined. */
export function parseResourceArn(scope: ArnScope, arn: unknown): { kind: ResourceKind; name: string } | undefined {
  if (typeof arn !== 'string') return undefined;
  const m = /^arn:aws:iotanalytics:([^:]*):([^:]*):(channel|datastore|pipeline|dataset)\/([a-zA-Z0-9_]{1,128})$/.exec(arn);
  if (!m || m[1] !== scope.region || m[2] !== scope.accountId) return undefined;
  return { kind: m[3] as ResourceKind, name: m[4] };
}

export function limitExceeded(message: string): AnalyticsError {
  return new AnalyticsError('LimitExceededException', message);
}

/** Retention as the API echoes it: `{unlimited: true}` when none was given, else
 * `{numberOfDays, unlimited: false}` (spec §1, "Responses normalise"). */
export function echoRetention(r: RetentionPeriod | undefined): RetentionPeriod {
  if (!r || r.unlimited || !r.numberOfDays) return { unlimited: true };
  return { unlimited: false, numberOfDays: r.numberOfDays };
}

const SERVICE_MANAGED: ResourceStorage = { serviceManagedS3: {} };

/** Only service-managed storage exists: the data lives in the server's data directory. */
export function checkStorage(storage: unknown, what: 'channelStorage' | 'datastoreStorage', localPlace: string): ResourceStorage {
  if (storage === undefined || storage === null) return SERVICE_MANAGED;
  if (typeof storage !== 'object' || Array.isArray(storage)) throw invalidRequest(`${what} must be an object`);
  const keys = Object.keys(storage);
  if (keys.length !== 1) throw invalidRequest(`${what} must set exactly one of serviceManagedS3, customerManagedS3`);
  if (keys[0] === 'serviceManagedS3') return SERVICE_MANAGED;
  if (keys[0] === 'customerManagedS3' || keys[0] === 'iotSiteWiseMultiLayerStorage') {
    throw invalidRequest(
      `${what}.${keys[0]} is not available on this server: there is no S3 here; the data is kept in ${localPlace} under the server's data directory. Omit ${what} or give {"serviceManagedS3": {}}`,
    );
  }
  throw invalidRequest(`${what} has an unknown member "${keys[0]}"`);
}

/** Tags of a request: 1..50 entries of {key 1..256, value 1..256}, keys unique. */
export function checkTags(tags: unknown, allowEmpty = true): Record<string, string> {
  if ((tags === undefined || tags === null) && allowEmpty) return {};
  if (!Array.isArray(tags)) throw invalidRequest('tags must be a list of {key, value}');
  if (tags.length === 0 && !allowEmpty) throw invalidRequest('tags must hold 1..50 entries');
  if (tags.length > MAX_TAGS) throw limitExceeded(`a resource can have at most ${MAX_TAGS} tags, got ${tags.length}`);
  const out: Record<string, string> = {};
  for (const t of tags as Partial<Tag>[]) {
    if (typeof t !== 'object' || t === null || typeof t.key !== 'string' || t.key.length < 1 || t.key.length > 256) {
      throw invalidRequest('each tag needs a key of 1..256 characters');
    }
    if (typeof t.value !== 'string' || t.value.length < 1 || t.value.length > 256) throw invalidRequest(`tag "${t.key}" needs a value of 1..256 characters`);
    out[t.key] = t.value;
  }
  return out;
}

export function tagList(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

const ATTRIBUTE_NAME = /^[a-zA-Z0-9_]{1,128}$/;
const COLUMN_NAME = /^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$/;

/** `fileFormatConfiguration`: exactly one of jsonConfiguration {} / parquetConfiguration
 * {schemaDefinition?: {columns ≤ 100 of {name, type}}}; default JSON. */
export function checkFileFormat(v: unknown): FileFormatConfiguration {
  if (v === undefined || v === null) return { jsonConfiguration: {} };
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidRequest('fileFormatConfiguration must be an object');
  const keys = Object.keys(v);
  if (keys.length !== 1 || (keys[0] !== 'jsonConfiguration' && keys[0] !== 'parquetConfiguration')) {
    throw invalidRequest('fileFormatConfiguration must set exactly one of jsonConfiguration, parquetConfiguration');
  }
  if (keys[0] === 'jsonConfiguration') return { jsonConfiguration: {} };
  const parquet = (v as FileFormatConfiguration).parquetConfiguration;
  if (typeof parquet !== 'object' || parquet === null) throw invalidRequest('parquetConfiguration must be an object');
  const schema = parquet.schemaDefinition;
  if (schema === undefined) return { parquetConfiguration: {} };
  const columns: unknown = schema?.columns ?? [];
  if (!Array.isArray(columns)) throw invalidRequest('parquetConfiguration.schemaDefinition.columns must be a list');
  if (columns.length > MAX_PARQUET_COLUMNS) throw limitExceeded(`a Parquet schema has at most ${MAX_PARQUET_COLUMNS} columns, got ${columns.length}`);
  const names = new Set<string>();
  const clean = (columns as { name?: unknown; type?: unknown }[]).map((c, i) => {
    if (typeof c?.name !== 'string' || c.name.length > 255 || !COLUMN_NAME.test(c.name)) {
      throw invalidRequest(`schemaDefinition.columns[${i}].name must be 1..255 characters, a letter or _ then letters, digits, _ (no leading __)`);
    }
    if (typeof c.type !== 'string' || c.type.length < 1 || c.type.length > 131072) {
      throw invalidRequest(`schemaDefinition.columns[${i}].type must be a type name such as string, int, double, timestamp`);
    }
    // names are case-insensitive, as attribute names and DuckDB columns are
    if (names.has(c.name.toLowerCase())) throw invalidRequest(`schemaDefinition.columns[${i}].name "${c.name}" appears twice (names are case-insensitive)`);
    names.add(c.name.toLowerCase());
    parseGlueType(c.type, `schemaDefinition.columns[${i}].type`); // refuses types we cannot store
    return { name: c.name, type: c.type };
  });
  return { parquetConfiguration: { schemaDefinition: { columns: clean } } };
}

/** `datastorePartitions`: 0..25 dimensions, each an attributePartition or a timestampPartition,
 * at most one timestamp partition. */
export function checkPartitions(v: unknown): DatastorePartitions | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidRequest('datastorePartitions must be an object');
  const list: unknown = (v as DatastorePartitions).partitions ?? [];
  if (!Array.isArray(list)) throw invalidRequest('datastorePartitions.partitions must be a list');
  if (list.length > MAX_PARTITIONS) throw limitExceeded(`a datastore has at most ${MAX_PARTITIONS} partitions, got ${list.length}`);
  let timestamps = 0;
  const partitions = list.map((p: Record<string, { attributeName?: unknown; timestampFormat?: unknown }>, i) => {
    const keys = typeof p === 'object' && p !== null ? Object.keys(p) : [];
    if (keys.length !== 1 || (keys[0] !== 'attributePartition' && keys[0] !== 'timestampPartition')) {
      throw invalidRequest(`datastorePartitions.partitions[${i}] must set exactly one of attributePartition, timestampPartition`);
    }
    const body = p[keys[0]];
    if (typeof body?.attributeName !== 'string' || !ATTRIBUTE_NAME.test(body.attributeName)) {
      throw invalidRequest(`datastorePartitions.partitions[${i}].attributeName must be 1..128 characters of [a-zA-Z0-9_]`);
    }
    if (keys[0] === 'attributePartition') return { attributePartition: { attributeName: body.attributeName } };
    if (++timestamps > 1) throw invalidRequest('datastorePartitions may hold at most one timestampPartition');
    if (body.timestampFormat === undefined) return { timestampPartition: { attributeName: body.attributeName } };
    if (typeof body.timestampFormat !== 'string' || body.timestampFormat.length < 1 || body.timestampFormat.length > 50) {
      throw invalidRequest(`datastorePartitions.partitions[${i}].timestampFormat must be 1..50 characters`);
    }
    return { timestampPartition: { attributeName: body.attributeName, timestampFormat: body.timestampFormat } };
  });
  return { partitions };
}

/** Partitions beyond their shape: unique, not our reserved names, a readable timestampFormat
 * (datastore/partitions.ts). */
export function checkPartitionsFit(partitions: DatastorePartitions | undefined): void {
  planPartitions(partitions);
}

/** PutLoggingOptions' `loggingOptions`: {roleArn 20..2048, level "ERROR", enabled}. */
export function checkLoggingOptions(v: unknown): { roleArn: string; level: 'ERROR'; enabled: boolean } {
  const o = v as { roleArn?: unknown; level?: unknown; enabled?: unknown } | undefined;
  if (typeof o !== 'object' || o === null) throw invalidRequest('loggingOptions is required: {roleArn, level: "ERROR", enabled}');
  if (typeof o.roleArn !== 'string' || o.roleArn.length < 20 || o.roleArn.length > 2048) throw invalidRequest('loggingOptions.roleArn must be 20..2048 characters');
  if (o.level !== 'ERROR') throw invalidRequest('loggingOptions.level must be "ERROR" (the only level)');
  if (typeof o.enabled !== 'boolean') throw invalidRequest('loggingOptions.enabled must be true or false');
  return { roleArn: o.roleArn, level: 'ERROR', enabled: o.enabled };
}
