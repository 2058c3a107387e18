// Pipeline resources: the idempotent put (compiles the activity chain and places it on its
// channel), the AWS control plane (create/update/delete/describe/list) and reprocessing.
import type { Page, PipelineDefinition, PipelineDescription, ReprocessingRequest } from '../types.js';
import { compilePipeline } from '../pipelines/index.js';
import { archivedUpTo, checkReprocessingRequest } from '../pipelines/reprocessing.js';
import { readArchiveFiles, resolveArchivePaths } from '../channels/archive-files.js';
import { notFound } from '../errors.js';
import { checkResourceName } from '../names.js';
import { MAX_ACTIVITIES, RESOURCE_LIMITS, checkTags, limitExceeded } from '../resources.js';
import type { PageRequest } from '../paging.js';
import { recordStart } from '../progress.js';
import { metaOf, pageOf, refuseExisting, requireDef, touch } from '../resource-meta.js';
import type { ServiceCore } from '../service-context.js';

/** Compiles first: an invalid definition throws and never replaces a working pipeline. A
 * replaced pipeline starts with fresh activity counters. */
export async function putPipeline(core: ServiceCore, def: PipelineDefinition, persist = true): Promise<void> {
  core.assertOpen();
  if (Array.isArray(def?.pipelineActivities) && def.pipelineActivities.length > MAX_ACTIVITIES) {
    throw limitExceeded(`a pipeline has at most ${MAX_ACTIVITIES} activities, got ${def.pipelineActivities.length}`);
  }
  const tags = def.tags === undefined ? undefined : checkTags(def.tags);
  // restored pipelines skip the function-module check (a missing module fails invocations instead)
  const compiled = compilePipeline(def, { enrich: core.opts.enrich, lambda: core.lambdas, checkFunctions: persist });
  if (!core.channels.has(compiled.channelName)) throw notFound(`pipeline "${compiled.pipelineName}": channel "${compiled.channelName}" does not exist`);
  if (!core.defs.datastores[compiled.datastoreName]) {
    throw notFound(`pipeline "${compiled.pipelineName}": datastore "${compiled.datastoreName}" does not exist`);
  }
  // A new pipeline, or one moved to another channel, starts at that channel's end (a restored
  // one where restore() says); its start is queued before any of its rows.
  let started: Promise<void> | undefined;
  if (persist && core.pipelines.get(compiled.pipelineName)?.channelName !== compiled.channelName) {
    const { channel, runner } = core.channels.get(compiled.channelName)!;
    runner.startPipelineAfter(compiled.pipelineName, channel.lastSequence);
    started = recordStart(core.db.writer(compiled.datastoreName), compiled.pipelineName, compiled.channelName, channel.lastSequence, core.now());
  }
  core.pipelines.set(compiled.pipelineName, compiled);
  core.reindex();
  await started;
  const clean: PipelineDefinition = { pipelineName: compiled.pipelineName, pipelineActivities: structuredClone(def.pipelineActivities) };
  const changed = JSON.stringify(core.defs.pipelines[compiled.pipelineName]) !== JSON.stringify(clean);
  core.defs.pipelines[compiled.pipelineName] = clean;
  touch(core, 'pipeline', compiled.pipelineName, changed && persist, tags);
  if (persist) await core.file.save(core.defs);
}

export async function createPipeline(core: ServiceCore, def: PipelineDefinition): Promise<PipelineDescription> {
  const name = checkResourceName(def?.pipelineName, 'pipelineName');
  refuseExisting(core, 'pipeline', core.defs.pipelines[name] ? name : undefined);
  if (core.pipelines.size >= RESOURCE_LIMITS.pipeline) throw limitExceeded(`at most ${RESOURCE_LIMITS.pipeline} pipelines per account`);
  await putPipeline(core, def);
  return describePipeline(core, name);
}

export async function updatePipeline(core: ServiceCore, def: PipelineDefinition): Promise<void> {
  const name = checkResourceName(def?.pipelineName, 'pipelineName');
  requireDef('pipeline', name, core.defs.pipelines[name]);
  await putPipeline(core, def);
}

export async function deletePipeline(core: ServiceCore, name: string): Promise<void> {
  core.assertOpen();
  requireDef('pipeline', name, core.defs.pipelines[name]);
  // messages in flight finish with the compiled chain they started with, so rows and an offset
  // of this pipeline may still commit after it is gone: deleting its offset rows here could be
  // undone by such a late commit. They are deleted at the next open instead (progress.ts,
  // forgetDeletedPipelines), when nothing runs; until then they are harmless, as a pipeline
  // re-created under this name resets its offset to the channel's end (recordStart).
  const gone = core.pipelines.get(name);
  if (gone) core.channels.get(gone.channelName)?.runner.forgetPipeline(name);
  core.pipelines.delete(name);
  core.reindex();
  await core.reprocessing.forget(name);
  delete core.defs.pipelines[name];
  delete core.defs.meta.pipelines[name];
  await core.file.save(core.defs);
}

export function describePipeline(core: ServiceCore, name: string): PipelineDescription {
  const def = requireDef('pipeline', name, core.defs.pipelines[name]);
  const meta = metaOf(core, 'pipeline', name);
  return {
    name,
    arn: core.resourceArn('pipeline', name),
    activities: structuredClone(def.pipelineActivities),
    reprocessingSummaries: core.reprocessing.summaries(name),
    creationTime: meta.creationTime,
    lastUpdateTime: meta.lastUpdateTime,
  };
}

export function listPipelineDescriptions(core: ServiceCore, page: PageRequest = {}): Page<PipelineDescription> {
  return pageOf(core.listPipelines(), page, (n) => describePipeline(core, n));
}

export async function startPipelineReprocessing(core: ServiceCore, pipelineName: string, req: ReprocessingRequest = {}): Promise<string> {
  core.assertOpen();
  const pipeline = requireDef('pipeline', pipelineName, core.pipelines.get(pipelineName));
  const scope = checkReprocessingRequest(req);
  core.reprocessing.assertIdle(pipelineName);
  const { channel } = core.channels.get(pipeline.channelName)!; // a used channel cannot be deleted
  const lastSeq = channel.counters().lastSeq; // written, not merely admitted
  const source =
    scope.kind === 'files'
      ? readArchiveFiles(await resolveArchivePaths(core.opts.dataDir, pipeline.channelName, scope.s3Paths), pipeline.channelName)
      : channel.read(scope);
  return core.reprocessing.start(pipeline, archivedUpTo(source, lastSeq));
}

export async function cancelPipelineReprocessing(core: ServiceCore, pipelineName: string, reprocessingId: string): Promise<void> {
  requireDef('pipeline', pipelineName, core.pipelines.get(pipelineName));
  await core.reprocessing.cancel(pipelineName, reprocessingId);
}
