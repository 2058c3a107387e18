// Channel resources: the idempotent put (opens the archive and its runner), the AWS control plane
// (create/update/delete/describe/list), BatchPutMessage and SampleChannelData.
import type { ArchivedMessage, ChannelDefinition, ChannelDescription, Page, ResourceStatistics } from '../types.js';
import type { BatchPutMessageErrorEntry } from '../channels/index.js';
import { Channel, checkRetention, prepareBatch } from '../channels/index.js';
import { ChannelRunner } from '../pipelines/runner.js';
import { invalidRequest, notFound } from '../errors.js';
import { checkResourceName } from '../names.js';
import { RESOURCE_LIMITS, checkStorage, checkTags, echoRetention, limitExceeded } from '../resources.js';
import type { PageRequest } from '../paging.js';
import { lastArrival, metaOf, pageOf, refuseExisting, refuseInUse, requireDef, touch } from '../resource-meta.js';
import type { ServiceCore } from '../service-context.js';

export async function putChannel(core: ServiceCore, def: ChannelDefinition, persist = true): Promise<void> {
  core.assertOpen();
  const name = checkResourceName(def?.channelName, 'channelName');
  checkRetention(def.retentionPeriod);
  checkStorage(def.channelStorage, 'channelStorage', `channels/${name}/`);
  const tags = def.tags === undefined ? undefined : checkTags(def.tags);
  const clean: ChannelDefinition = { channelName: name };
  if (def.retentionPeriod) clean.retentionPeriod = { ...def.retentionPeriod };
  const existing = core.channels.get(name);
  const changed = JSON.stringify(core.defs.channels[name]) !== JSON.stringify(clean);
  if (existing) {
    await existing.channel.setRetention(clean.retentionPeriod);
  } else {
    const clock = core.opts.now ? { now: core.opts.now } : {};
    const channel = await Channel.open(core.opts.dataDir, clean, { ...clock, ...core.opts.channel, fsync: core.opts.fsync });
    const runner = new ChannelRunner(name, () => core.byChannel.get(name) ?? [], (ds, rows, at, source) => core.db.writer(ds).append(rows, at, source), core.opts.runner);
    runner.startAt(channel.processedSeq);
    runner.onWatermark = (seq) => channel.markProcessed(seq);
    channel.onArchived((msgs) => runner.enqueue(msgs));
    core.channels.set(name, { channel, runner });
  }
  core.defs.channels[name] = clean;
  touch(core, 'channel', name, changed && persist, tags);
  if (persist) await core.file.save(core.defs);
}

export async function createChannel(core: ServiceCore, def: ChannelDefinition): Promise<ChannelDescription> {
  const name = checkResourceName(def?.channelName, 'channelName');
  refuseExisting(core, 'channel', core.defs.channels[name] ? name : undefined);
  if (core.channels.size >= RESOURCE_LIMITS.channel) throw limitExceeded(`at most ${RESOURCE_LIMITS.channel} channels per account`);
  await putChannel(core, def);
  return channelDescription(core, name);
}

export async function updateChannel(core: ServiceCore, def: ChannelDefinition): Promise<void> {
  const name = checkResourceName(def?.channelName, 'channelName');
  const previous = requireDef('channel', name, core.defs.channels[name]);
  await putChannel(core, { ...def, retentionPeriod: def.retentionPeriod ?? previous.retentionPeriod });
}

export async function deleteChannel(core: ServiceCore, name: string): Promise<void> {
  core.assertOpen();
  requireDef('channel', name, core.defs.channels[name]);
  refuseInUse('channel', name, [...core.pipelines.values()].filter((p) => p.channelName === name));
  const ch = core.channels.get(name)!;
  core.channels.delete(name); // ingest() now answers not found; CreateChannel still 409 until it is gone
  // what was accepted is written and drained before the archive goes away
  await ch.channel.close();
  await ch.runner.drain();
  await ch.channel.remove();
  delete core.defs.channels[name];
  delete core.defs.meta.channels[name];
  await core.file.save(core.defs);
}

export async function describeChannel(core: ServiceCore, name: string, includeStatistics = false): Promise<{ channel: ChannelDescription; statistics?: ResourceStatistics }> {
  const channel = channelDescription(core, name);
  if (!includeStatistics) return { channel };
  const bytes = await core.channels.get(name)!.channel.archiveSizeBytes();
  return { channel, statistics: { size: { estimatedSizeInBytes: bytes, estimatedOn: core.now() } } };
}

export function listChannelDescriptions(core: ServiceCore, page: PageRequest = {}): Page<ChannelDescription> {
  return pageOf(core.listChannels(), page, (n) => channelDescription(core, n));
}

export async function batchPutMessage(core: ServiceCore, channelName: string, messages: unknown): Promise<BatchPutMessageErrorEntry[]> {
  core.assertOpen();
  if (typeof channelName !== 'string' || !core.channels.has(channelName)) throw notFound(`channel "${String(channelName)}" does not exist`);
  const { accepted, errors } = prepareBatch(messages, core.now());
  if (accepted.length > 0) await core.ingest(channelName, accepted);
  return errors;
}

export async function sampleChannel(core: ServiceCore, channelName: string, maxMessages: number, range: { startTime?: number; endTime?: number } = {}): Promise<ArchivedMessage[]> {
  core.assertOpen();
  const ch = core.channels.get(channelName);
  if (!ch) throw notFound(`channel "${channelName}" does not exist`);
  if (!Number.isInteger(maxMessages) || maxMessages < 1 || maxMessages > 10) throw invalidRequest(`maxMessages must be 1..10, got ${maxMessages}`);
  if (range.startTime !== undefined && range.endTime !== undefined && range.startTime >= range.endTime) {
    throw invalidRequest('startTime must be before endTime');
  }
  return ch.channel.sample(maxMessages, range);
}

function channelDescription(core: ServiceCore, name: string): ChannelDescription {
  const def = requireDef('channel', name, core.channels.has(name) ? core.defs.channels[name] : undefined);
  const meta = metaOf(core, 'channel', name);
  const d: ChannelDescription = {
    name,
    arn: core.resourceArn('channel', name),
    status: 'ACTIVE',
    storage: { serviceManagedS3: {} },
    retentionPeriod: echoRetention(def.retentionPeriod),
    creationTime: meta.creationTime,
    lastUpdateTime: meta.lastUpdateTime,
  };
  const last = lastArrival(core, 'channel', name);
  if (last) d.lastMessageArrivalTime = last;
  return d;
}
