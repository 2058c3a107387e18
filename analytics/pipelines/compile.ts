// compilePipeline: validates a PipelineDefinition and compiles it ONCE into a chain of closures
// that follows `next` from the channel activity to the datastore activity (not array order,
// spec §3.1). Every step counts what enters, leaves, is dropped and throws.
import type { PipelineActivity, PipelineDefinition, PipelineMessage } from '../types.js';
import type { ActivityStep, Members } from './activities/common.js';
import type { ActivityType } from './activities/registry.js';
import { activityTypeOf, compileTransform, isTransformType } from './activities/registry.js';
import { checkName } from './activities/common.js';
import { compileChannelActivity } from './activities/channel.js';
import { compileDatastoreActivity } from './activities/datastore.js';
import { invalidRequest } from '../errors.js';
import { checkResourceName } from '../names.js';

export interface ActivityCounters {
  type: ActivityType;
  /** messages that entered the activity */
  in: number;
  /** messages it passed on */
  out: number;
  /** messages it dropped (filter false, empty message at the datastore, ...) */
  dropped: number;
  /** messages on which it threw (dropped too, counted separately) */
  errors: number;
  /** math only: results that were Undefined (attribute omitted) */
  undefinedResults: number;
}

export interface CompiledPipeline {
  readonly pipelineName: string;
  readonly channelName: string;
  readonly datastoreName: string;
  /** activity names in execution order (channel first, datastore last) */
  readonly order: readonly string[];
  /** Runs one message through the chain; the stored row, or null when dropped. */
  process(m: PipelineMessage): PipelineMessage | null;
  /** per-activity counters, keyed by activity name, in execution order */
  counters(): Record<string, ActivityCounters>;
}


interface Node {
  type: ActivityType;
  name: string;
  next?: string;
  body: Members;
}

export function compilePipeline(def: PipelineDefinition): CompiledPipeline {
  if (typeof def !== 'object' || def === null) throw invalidRequest('pipeline definition must be an object');
  const pipelineName = checkResourceName(def.pipelineName, 'pipelineName');
  const list: unknown = def.pipelineActivities;
  if (!Array.isArray(list) || list.length < 1 || list.length > 25) {
    throw invalidRequest(`pipeline "${pipelineName}": pipelineActivities must be a list of 1..25 activities`);
  }

  const byName = new Map<string, Node>();
  let channel: Node | undefined;
  let datastore: Node | undefined;
  (list as PipelineActivity[]).forEach((activity, i) => {
    const { type, body } = activityTypeOf(activity, i);
    const name = checkName(body.name, `pipeline "${pipelineName}" activity #${i + 1} name`);
    if (byName.has(name)) throw invalidRequest(`pipeline "${pipelineName}": activity name "${name}" is used twice`);
    const next = body.next === undefined ? undefined : checkName(body.next, `activity "${name}" next`);
    const node: Node = { type, name, next, body };
    byName.set(name, node);
    if (type === 'channel') {
      if (channel) throw invalidRequest(`pipeline "${pipelineName}": only one channel activity is supported`);
      channel = node;
    } else if (type === 'datastore') {
      if (datastore) throw invalidRequest(`pipeline "${pipelineName}": only one datastore activity is supported`);
      datastore = node;
    }
  });
  if (!channel) throw invalidRequest(`pipeline "${pipelineName}": a channel activity is required`);
  if (!datastore) throw invalidRequest(`pipeline "${pipelineName}": a datastore activity is required`);

  // Walk `next` from the channel; it must reach the datastore, visit each activity once and
  // leave none behind.
  const chain: Node[] = [];
  const seen = new Set<string>();
  let cur: Node | undefined = channel;
  while (cur) {
    if (seen.has(cur.name)) throw invalidRequest(`pipeline "${pipelineName}": activity "${cur.name}" is reached twice (cycle in next)`);
    seen.add(cur.name);
    chain.push(cur);
    if (cur.type === 'datastore') break;
    if (cur.next === undefined) throw invalidRequest(`pipeline "${pipelineName}": activity "${cur.name}" needs a next (the chain must end at the datastore activity)`);
    const nxt = byName.get(cur.next);
    if (!nxt) throw invalidRequest(`pipeline "${pipelineName}": activity "${cur.name}" names unknown next "${cur.next}"`);
    if (nxt.type === 'channel') throw invalidRequest(`pipeline "${pipelineName}": the channel activity must be first`);
    cur = nxt;
  }
  if (chain.length !== byName.size) {
    const orphans = [...byName.keys()].filter((n) => !seen.has(n));
    throw invalidRequest(`pipeline "${pipelineName}": activities not reachable from the channel activity: ${orphans.join(', ')}`);
  }

  const { channelName } = compileChannelActivity(channel.body);
  const sink = compileDatastoreActivity(datastore.body);

  const counters: Record<string, ActivityCounters> = {};
  for (const n of chain) counters[n.name] = { type: n.type, in: 0, out: 0, dropped: 0, errors: 0, undefinedResults: 0 };

  // Build from the sink backwards so each step closes over its successor.
  let tail: ActivityStep = counted(sink.step, counters[datastore.name], null);
  for (let i = chain.length - 2; i >= 0; i--) {
    const n = chain[i];
    const c = counters[n.name];
    const step: ActivityStep =
      n.type === 'channel'
        ? (m) => m
        : isTransformType(n.type)
          ? compileTransform(n.type, n.body, { onUndefined: () => c.undefinedResults++ })
          : (m) => m;
    tail = counted(step, c, tail);
  }
  const head = tail;

  return {
    pipelineName,
    channelName,
    datastoreName: sink.datastoreName,
    order: chain.map((n) => n.name),
    process: head,
    counters: () => {
      const out: Record<string, ActivityCounters> = {};
      for (const [k, v] of Object.entries(counters)) out[k] = { ...v };
      return out;
    },
  };
}

/** Wraps a step with its counters and hands its output to the next step. An activity that
 * throws drops the message (counted in `errors`) instead of stopping the pipeline. */
function counted(step: ActivityStep, c: ActivityCounters, next: ActivityStep | null): ActivityStep {
  return (m) => {
    c.in++;
    let r: PipelineMessage | null;
    try {
      r = step(m);
    } catch {
      c.errors++;
      return null;
    }
    if (r === null) {
      c.dropped++;
      return null;
    }
    c.out++;
    return next ? next(r) : r;
  };
}

/**
 * Compiles one transform activity on its own (RunPipelineActivity, spec §3.5): channel and
 * datastore activities are refused there.
 */
export function compileSingleActivity(activity: PipelineActivity): ActivityStep {
  const { type, body } = activityTypeOf(activity, 0);
  if (!isTransformType(type)) throw invalidRequest(`a ${type} activity cannot be run on its own`);
  checkName(body.name, 'activity name');
  return compileTransform(type, body);
}
