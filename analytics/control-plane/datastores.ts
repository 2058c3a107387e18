// Datastore resources: the idempotent put (creates the DuckDB table), the AWS control plane
// (create/update/delete/describe/list) and the Parquet export.
import type { DatastoreDefinition, DatastoreDescription, Page, ResourceStatistics } from '../types.js';
import { checkRetention } from '../channels/index.js';
import type { ExportRange, ExportResult } from '../datastore/index.js';
import { invalidRequest } from '../errors.js';
import { checkResourceName } from '../names.js';
import { RESOURCE_LIMITS, checkFileFormat, checkPartitions, checkPartitionsFit, checkStorage, checkTags, echoRetention, limitExceeded } from '../resources.js';
import type { PageRequest } from '../paging.js';
import { lastArrival, metaOf, pageOf, refuseExisting, refuseInUse, requireDef, touch } from '../resource-meta.js';
import { sweepDatastore } from '../retention.js';
import type { ServiceCore } from '../service-context.js';

export async function putDatastore(core: ServiceCore, def: DatastoreDefinition, persist = true): Promise<void> {
  core.assertOpen();
  const name = checkResourceName(def?.datastoreName, 'datastoreName');
  checkRetention(def.retentionPeriod);
  checkStorage(def.datastoreStorage, 'datastoreStorage', 'the DuckDB database iotcore.duckdb');
  const format = checkFileFormat(def.fileFormatConfiguration);
  const partitions = checkPartitions(def.datastorePartitions);
  checkPartitionsFit(partitions);
  const tags = def.tags === undefined ? undefined : checkTags(def.tags);
  const previous = core.defs.datastores[name];
  if (previous) {
    // AWS: the file format and the partitions are fixed at creation
    if (JSON.stringify(checkFileFormat(previous.fileFormatConfiguration)) !== JSON.stringify(format)) {
      throw invalidRequest(`datastore "${name}": fileFormatConfiguration cannot be changed after creation`);
    }
    if (JSON.stringify(previous.datastorePartitions) !== JSON.stringify(partitions)) {
      throw invalidRequest(`datastore "${name}": datastorePartitions cannot be changed after creation`);
    }
  }
  await core.db.ensureDatastore(def);
  const clean: DatastoreDefinition = { datastoreName: name };
  if (def.retentionPeriod) clean.retentionPeriod = { ...def.retentionPeriod };
  if (format.parquetConfiguration) clean.fileFormatConfiguration = format;
  if (partitions) clean.datastorePartitions = partitions;
  const changed = JSON.stringify(previous) !== JSON.stringify(clean);
  core.defs.datastores[name] = clean;
  touch(core, 'datastore', name, changed && persist, tags);
  if (core.rowsWanted) core.subscribeWriter(name);
  if (persist) await core.file.save(core.defs);
  if (persist && changed && clean.retentionPeriod?.numberOfDays) await sweepDatastore(core, name);
}

export async function createDatastore(core: ServiceCore, def: DatastoreDefinition): Promise<DatastoreDescription> {
  const name = checkResourceName(def?.datastoreName, 'datastoreName');
  // DuckDB table names ignore case: "Readings" and "readings" would share one table
  refuseExisting(core, 'datastore', Object.keys(core.defs.datastores).find((n) => n.toLowerCase() === name.toLowerCase()));
  if (Object.keys(core.defs.datastores).length >= RESOURCE_LIMITS.datastore) throw limitExceeded(`at most ${RESOURCE_LIMITS.datastore} datastores per account`);
  await putDatastore(core, def);
  return datastoreDescription(core, name);
}

export async function updateDatastore(core: ServiceCore, def: DatastoreDefinition): Promise<void> {
  const name = checkResourceName(def?.datastoreName, 'datastoreName');
  const previous = requireDef('datastore', name, core.defs.datastores[name]);
  await putDatastore(core, {
    ...previous,
    datastoreStorage: def.datastoreStorage,
    retentionPeriod: def.retentionPeriod ?? previous.retentionPeriod,
    fileFormatConfiguration: def.fileFormatConfiguration ?? previous.fileFormatConfiguration,
  });
}

export async function deleteDatastore(core: ServiceCore, name: string): Promise<void> {
  core.assertOpen();
  requireDef('datastore', name, core.defs.datastores[name]);
  refuseInUse('datastore', name, [...core.pipelines.values()].filter((p) => p.datastoreName === name));
  const detectors = core.detectors.usersOf(name);
  if (detectors.length > 0) throw invalidRequest(`datastore "${name}" is watched by detector(s) ${detectors.join(', ')}; delete them first (DELETE /api/detectors/{name})`);
  delete core.defs.datastores[name];
  delete core.defs.meta.datastores[name];
  core.subscribedWriters.delete(name);
  core.retentionDeletedRows.delete(name);
  await core.file.save(core.defs);
  await core.db.dropDatastore(name);
}

export async function describeDatastore(core: ServiceCore, name: string, includeStatistics = false): Promise<{ datastore: DatastoreDescription; statistics?: ResourceStatistics }> {
  const datastore = datastoreDescription(core, name);
  if (!includeStatistics) return { datastore };
  const bytes = await core.db.estimatedSizeBytes(name);
  return { datastore, statistics: { size: { estimatedSizeInBytes: bytes, estimatedOn: core.now() } } };
}

export function exportDatastore(core: ServiceCore, name: string, range: ExportRange = {}): Promise<ExportResult> {
  core.assertOpen();
  requireDef('datastore', name, core.defs.datastores[name]);
  return core.db.exportDatastore(name, range);
}

export function listDatastoreDescriptions(core: ServiceCore, page: PageRequest = {}): Page<DatastoreDescription> {
  return pageOf(core.listDatastores(), page, (n) => datastoreDescription(core, n));
}

function datastoreDescription(core: ServiceCore, name: string): DatastoreDescription {
  const def = requireDef('datastore', name, core.defs.datastores[name]);
  const meta = metaOf(core, 'datastore', name);
  const d: DatastoreDescription = {
    name,
    arn: core.resourceArn('datastore', name),
    status: 'ACTIVE',
    storage: { serviceManagedS3: {} },
    retentionPeriod: echoRetention(def.retentionPeriod),
    creationTime: meta.creationTime,
    lastUpdateTime: meta.lastUpdateTime,
    fileFormatConfiguration: checkFileFormat(def.fileFormatConfiguration),
  };
  if (def.datastorePartitions) d.datastorePartitions = structuredClone(def.datastorePartitions);
  const last = lastArrival(core, 'datastore', name);
  if (last) d.lastMessageArrivalTime = last;
  return d;
}
