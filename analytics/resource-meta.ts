// What every control-plane resource carries besides its definition: creation/update times, tags,
// the last arrival, its ARN, plus the account's logging options and the paging of descriptions.
// Kept in the definitions file's `meta` so it survives a restart.
import type { LoggingOptions, Page, ResourceKind, ResourceMeta, Tag } from './types.js';
import type { CompiledPipeline } from './pipelines/index.js';
import { AnalyticsError, invalidRequest, notFound } from './errors.js';
import { MAX_TAGS, checkLoggingOptions, checkTags, limitExceeded, parseResourceArn, tagList } from './resources.js';
import type { PageRequest } from './paging.js';
import { paginate } from './paging.js';
import type { ServiceCore } from './service-context.js';

export function metaOf(core: ServiceCore, kind: ResourceKind, name: string): ResourceMeta {
  const table = core.defs.meta[`${kind}s`];
  table[name] ??= { creationTime: core.now(), lastUpdateTime: core.now(), tags: {} };
  return table[name];
}

/** Records a put: a new resource gets its creation time, a changed one its update time (a
 * restore changes nothing). */
export function touch(core: ServiceCore, kind: ResourceKind, name: string, changed: boolean, tags: Record<string, string> | undefined): void {
  const existed = core.defs.meta[`${kind}s`][name] !== undefined;
  const meta = metaOf(core, kind, name);
  if (existed && changed) meta.lastUpdateTime = core.now();
  if (tags) meta.tags = tags;
}

/** Newest arrival (channel) or commit (datastore) time, folded into the metadata. */
export function lastArrival(core: ServiceCore, kind: 'channel' | 'datastore', name: string): number | undefined {
  const meta = metaOf(core, kind, name);
  let live = 0;
  try {
    live = kind === 'channel' ? (core.channels.get(name)?.channel.counters().lastMessageArrivalTime ?? 0) : (core.db.writer(name).counters().lastCommitAt ?? 0);
  } catch {
    // closed database: the stored value stands
  }
  if (live > (meta.lastMessageArrivalTime ?? 0)) meta.lastMessageArrivalTime = live;
  return meta.lastMessageArrivalTime;
}

export function refuseExisting(core: ServiceCore, kind: ResourceKind, existing: string | undefined): void {
  if (existing === undefined) return;
  const arn = core.resourceArn(kind, existing);
  throw new AnalyticsError('ResourceAlreadyExistsException', `${kind} "${existing}" already exists`, { details: { resourceId: existing, resourceArn: arn } });
}

export function requireDef<T>(kind: ResourceKind, name: string, def: T | undefined): T {
  if (def === undefined) throw notFound(`${kind} "${name}" does not exist`);
  return def;
}

export function refuseInUse(kind: 'channel' | 'datastore', name: string, users: CompiledPipeline[]): void {
  if (users.length === 0) return;
  const names = users.map((p) => p.pipelineName).sort().join(', ');
  throw invalidRequest(`${kind} "${name}" is used by pipeline(s) ${names}; delete those pipelines or point them elsewhere (UpdatePipeline) first`);
}

export function pageOf<T>(names: string[], req: PageRequest, describe: (name: string) => T): Page<T> {
  const p = paginate(names, (n) => n, req);
  return p.nextToken === undefined ? { items: p.items.map(describe) } : { items: p.items.map(describe), nextToken: p.nextToken };
}

function resolveArn(core: ServiceCore, arn: string): { kind: ResourceKind; name: string } {
  const r = parseResourceArn(core.arnScope, arn);
  if (!r) throw invalidRequest(`resourceArn ${JSON.stringify(arn)} is not an IoT Analytics ARN of this server (arn:aws:iotanalytics:${core.arnScope.region}:${core.arnScope.accountId}:<channel|datastore|pipeline|dataset>/<name>)`);
  const defs = { channel: core.defs.channels, datastore: core.defs.datastores, pipeline: core.defs.pipelines, dataset: core.defs.datasets }[r.kind];
  requireDef(r.kind, r.name, defs[r.name]);
  return r;
}

export async function tagResource(core: ServiceCore, arn: string, tags: Tag[]): Promise<void> {
  const { kind, name } = resolveArn(core, arn);
  const add = checkTags(tags, false);
  const meta = metaOf(core, kind, name);
  const merged = { ...meta.tags, ...add };
  if (Object.keys(merged).length > MAX_TAGS) throw limitExceeded(`a resource can have at most ${MAX_TAGS} tags`);
  meta.tags = merged;
  await core.file.save(core.defs);
}

export async function untagResource(core: ServiceCore, arn: string, tagKeys: string[]): Promise<void> {
  const { kind, name } = resolveArn(core, arn);
  if (!Array.isArray(tagKeys) || tagKeys.length < 1 || tagKeys.length > MAX_TAGS) throw invalidRequest(`tagKeys must hold 1..${MAX_TAGS} keys`);
  const meta = metaOf(core, kind, name);
  for (const key of tagKeys) delete meta.tags[key];
  await core.file.save(core.defs);
}

export function listTagsForResource(core: ServiceCore, arn: string): Tag[] {
  const { kind, name } = resolveArn(core, arn);
  return tagList(metaOf(core, kind, name).tags);
}

export async function putLoggingOptions(core: ServiceCore, options: LoggingOptions): Promise<void> {
  core.assertOpen();
  core.defs.loggingOptions = checkLoggingOptions(options);
  await core.file.save(core.defs);
}

export function getLoggingOptions(core: ServiceCore): LoggingOptions | undefined {
  return core.defs.loggingOptions && { ...core.defs.loggingOptions };
}
