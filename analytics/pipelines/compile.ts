// compilePipeline: validates a PipelineDefinition and compiles it ONCE into a chain of closures
// that follows `next` from the channel activity to the datastore activity (not array order,
// spec §3.1). Every step counts what enters, leaves, is dropped and throws.
//
// Two ways to run a compiled pipeline: `process` (synchronous, one message) for pipelines made of
// per-message activities only — the fast path — and `processBatch` (asynchronous, many messages)
// which every pipeline supports and the ones holding a lambda activity require: their chain is cut
// into synchronous segments joined by lambda invocations of up to `batchSize` messages.
import type { PipelineActivity, PipelineDefinition, PipelineMessage } from '../types.js';
import type { ActivityStep, Members } from './activities/common.js';
import type { ActivityType } from './activities/registry.js';
import type { EnrichLookups } from './activities/enrich.js';
import type { LambdaActivity } from './activities/lambda.js';
import type { LambdaHost } from './lambda-host.js';
import { LambdaFailure } from './lambda-host.js';
import { activityTypeOf, compileTransform, isTransformType } from './activities/registry.js';
import { checkName } from './activities/common.js';
import { compileChannelActivity } from './activities/channel.js';
import { compileDatastoreActivity } from './activities/datastore.js';
import { compileLambdaActivity } from './activities/lambda.js';
import { invalidRequest } from '../errors.js';
import { checkResourceName } from '../names.js';

/** What activities need from outside the pipeline definition. */
export interface CompileOptions {
  /** registry and shadow lookups (deviceRegistryEnrich, deviceShadowEnrich) */
  enrich?: EnrichLookups;
  /** runs lambda functions */
  lambda?: LambdaHost;
  /** refuse a lambda activity whose function module does not exist (default true) */
  checkFunctions?: boolean;
}

/** One message handed to processBatch: the decoded payload (null when it is not a JSON object),
 * the raw payload (what a lambda right after the channel receives instead, base64-encoded) and its
 * ingestion time. */
export interface BatchInput {
  message: PipelineMessage | null;
  payload: Buffer;
  at: number;
  /** the archive sequence number */
  seq: number;
}

/** A row leaving processBatch with the ingestion time it is stored under and the highest input
 * seq it stands for (rows come out in seq order). */
export interface BatchRow {
  row: PipelineMessage;
  at: number;
  seq: number;
}

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
  /** enrich activities: messages passed on unenriched (no thing name, unknown thing, no shadow) */
  lookupMisses?: number;
  /** lambda: invocations started */
  invocations?: number;
  /** lambda: invocations that threw, returned a non-array, found no module or a full queue */
  invocationErrors?: number;
  /** lambda: invocations stopped at the time limit */
  timeouts?: number;
  /** detectAnomalies: points that scored at or above the threshold */
  anomalies?: number;
  /** detectAnomalies: device series evicted to make room for a new device */
  seriesEvicted?: number;
}

export interface CompiledPipeline {
  readonly pipelineName: string;
  readonly channelName: string;
  readonly datastoreName: string;
  /** activity names in execution order (channel first, datastore last) */
  readonly order: readonly string[];
  /** true when the pipeline holds a lambda activity: only processBatch can run it */
  readonly batched: boolean;
  /** Runs one message through the chain; the stored row, or null when dropped. Throws for a
   * batched pipeline. */
  process(m: PipelineMessage): PipelineMessage | null;
  /** Runs messages through the chain in order; the stored rows. Never rejects: failures are
   * counted per activity. */
  processBatch(inputs: readonly BatchInput[]): Promise<BatchRow[]>;
  /** per-activity counters, keyed by activity name, in execution order */
  counters(): Record<string, ActivityCounters>;
  /** the latest activity failure (a throw, a failed lambda invocation) since compiled, if any */
  lastError(): ActivityError | undefined;
}

/** An activity failure as operators see it: only the latest is kept (bounded). */
export interface ActivityError {
  message: string;
  /** epoch ms */
  at: number;
  activity: string;
}


interface Node {
  type: ActivityType;
  name: string;
  next?: string;
  body: Members;
}

export function compilePipeline(def: PipelineDefinition, opts: CompileOptions = {}): CompiledPipeline {
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
  for (const n of chain) counters[n.name] = newCounters(n.type);
  let lastError: ActivityError | undefined;
  const failureOf = (activity: string) => (e: unknown): void => {
    lastError = { message: e instanceof Error ? e.message : String(e), at: Date.now(), activity };
  };

  // Compile every activity now (an invalid one refuses the whole pipeline), then cut the chain
  // after the channel into synchronous segments and lambda stages.
  const stages: Stage[] = [];
  let segment: { step: ActivityStep; c: ActivityCounters; failed: (e: unknown) => void }[] = [];
  const endSegment = (): void => {
    if (segment.length > 0) stages.push({ kind: 'sync', head: chainSteps(segment) });
    segment = [];
  };
  for (const n of chain.slice(1)) {
    const c = counters[n.name];
    if (n.type === 'lambda') {
      endSegment();
      stages.push({ kind: 'lambda', activity: compileLambdaActivity(n.body, opts.lambda, opts.checkFunctions ?? true), c, failed: failureOf(n.name) });
    } else if (n.type === 'datastore') {
      segment.push({ step: sink.step, c, failed: failureOf(n.name) });
    } else if (isTransformType(n.type)) {
      const step = compileTransform(n.type, n.body, {
        onUndefined: () => c.undefinedResults++,
        onLookupMiss: () => (c.lookupMisses = (c.lookupMisses ?? 0) + 1),
        onAnomaly: () => (c.anomalies = (c.anomalies ?? 0) + 1),
        onSeriesEvicted: () => (c.seriesEvicted = (c.seriesEvicted ?? 0) + 1),
        enrich: opts.enrich,
      });
      segment.push({ step, c, failed: failureOf(n.name) });
    }
  }
  endSegment();

  const channelCounters = counters[channel.name];
  const batched = stages.some((s) => s.kind === 'lambda');
  // the fast path: one closure chain from the channel to the datastore
  const head: ActivityStep | null = batched ? null : counted((m) => m, channelCounters, (stages[0] as SyncStage).head, failureOf(channel.name));
  const rawFirst = stages[0].kind === 'lambda';

  const processBatch = async (inputs: readonly BatchInput[]): Promise<BatchRow[]> => {
    let items: Item[] = [];
    for (const inp of inputs) {
      // only a lambda right after the channel sees payloads that are not JSON objects (spec §2.2)
      const m = inp.message ?? (rawFirst ? inp.payload.toString('base64') : null);
      if (m === null) continue;
      channelCounters.in++;
      channelCounters.out++;
      items.push({ m, at: inp.at, seq: inp.seq });
    }
    for (const s of stages) items = s.kind === 'sync' ? runSync(s.head, items) : await runLambda(s, items);
    return items.map((it) => ({ row: it.m as PipelineMessage, at: it.at, seq: it.seq }));
  };

  return {
    pipelineName,
    channelName,
    datastoreName: sink.datastoreName,
    order: chain.map((n) => n.name),
    batched,
    process:
      head ??
      (() => {
        throw invalidRequest(`pipeline "${pipelineName}" holds a lambda activity: it runs through processBatch only`);
      }),
    processBatch,
    counters: () => {
      const out: Record<string, ActivityCounters> = {};
      for (const [k, v] of Object.entries(counters)) out[k] = { ...v };
      return out;
    },
    lastError: () => lastError && { ...lastError },
  };
}

/** A message between stages: a JSON object, or (into a lambda right after the channel) the raw
 * payload as base64 text; `at` is the ingestion time it will be stored under. */
interface Item {
  m: unknown;
  at: number;
  seq: number;
}
interface SyncStage {
  kind: 'sync';
  head: ActivityStep;
}
interface LambdaStage {
  kind: 'lambda';
  activity: LambdaActivity;
  c: ActivityCounters;
  failed: (e: unknown) => void;
}
type Stage = SyncStage | LambdaStage;

function newCounters(type: ActivityType): ActivityCounters {
  const c: ActivityCounters = { type, in: 0, out: 0, dropped: 0, errors: 0, undefinedResults: 0 };
  if (type === 'deviceRegistryEnrich' || type === 'deviceShadowEnrich') c.lookupMisses = 0;
  if (type === 'lambda') Object.assign(c, { invocations: 0, invocationErrors: 0, timeouts: 0 });
  if (type === 'detectAnomalies') Object.assign(c, { anomalies: 0, seriesEvicted: 0 });
  return c;
}

/** Builds a segment from its end backwards so each step closes over its successor. */
function chainSteps(segment: { step: ActivityStep; c: ActivityCounters; failed: (e: unknown) => void }[]): ActivityStep {
  let tail: ActivityStep | null = null;
  for (let i = segment.length - 1; i >= 0; i--) tail = counted(segment[i].step, segment[i].c, tail, segment[i].failed);
  return tail!;
}

function runSync(head: ActivityStep, items: Item[]): Item[] {
  const out: Item[] = [];
  for (const it of items) {
    // a base64 string can only reach here from a lambda's output, which keeps objects only
    const r = head(it.m as PipelineMessage);
    if (r !== null) out.push({ m: r, at: it.at, seq: it.seq });
  }
  return out;
}

function isObject(v: unknown): v is PipelineMessage {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Invokes the function once per `batchSize` items, in order. The returned array replaces the
 * batch; its elements that are not JSON objects are dropped (counted). A failed invocation drops
 * its batch (counted in `errors`; the messages stay in the channel archive for reprocessing).
 * Rows keep their message's ingestion time and seq when the function returned as many elements
 * as it got; otherwise they take the batch's first ingestion time and its last seq.
 */
async function runLambda(s: LambdaStage, items: Item[]): Promise<Item[]> {
  const { activity, c, failed } = s;
  const out: Item[] = [];
  for (let i = 0; i < items.length; i += activity.batchSize) {
    const batch = items.slice(i, i + activity.batchSize);
    c.in += batch.length;
    c.invocations!++;
    let result: unknown;
    try {
      result = await activity.invoke(batch.map((b) => b.m));
    } catch (e) {
      if (e instanceof LambdaFailure && e.kind === 'timeout') c.timeouts!++;
      else c.invocationErrors!++;
      c.errors += batch.length;
      failed(e);
      continue;
    }
    if (!Array.isArray(result)) {
      c.invocationErrors!++;
      c.errors += batch.length;
      failed(new Error(`the function returned ${result === null ? 'null' : typeof result}, not an array`));
      continue;
    }
    const sameLength = result.length === batch.length;
    for (let j = 0; j < result.length; j++) {
      const r: unknown = result[j];
      if (!isObject(r)) {
        c.dropped++;
        continue;
      }
      c.out++;
      const from = sameLength ? batch[j] : batch[0];
      out.push({ m: r, at: from.at, seq: sameLength ? from.seq : batch[batch.length - 1].seq });
    }
  }
  return out;
}

/** Wraps a step with its counters and hands its output to the next step. An activity that
 * throws drops the message (counted in `errors`) instead of stopping the pipeline. */
function counted(step: ActivityStep, c: ActivityCounters, next: ActivityStep | null, failed: (e: unknown) => void): ActivityStep {
  return (m) => {
    c.in++;
    let r: PipelineMessage | null;
    try {
      r = step(m);
    } catch (e) {
      c.errors++;
      failed(e);
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
 * datastore activities are refused there, and lambda runs only through compileSingleBatchActivity.
 */
export function compileSingleActivity(activity: PipelineActivity, opts: CompileOptions = {}): ActivityStep {
  const { type, body } = activityTypeOf(activity, 0);
  if (type === 'lambda') throw invalidRequest('a lambda activity runs asynchronously: use compileSingleBatchActivity');
  if (!isTransformType(type)) throw invalidRequest(`a ${type} activity cannot be run on its own`);
  checkName(body.name, 'activity name');
  return compileTransform(type, body, { enrich: opts.enrich });
}

/**
 * Compiles one activity of any runnable type to an asynchronous function over a list of messages
 * (RunPipelineActivity of a lambda activity, vectors). A lambda is invoked once per `batchSize`
 * messages and its results are returned as they are (any JSON value); a failed invocation
 * rejects with its reason.
 */
export function compileSingleBatchActivity(activity: PipelineActivity, opts: CompileOptions = {}): (messages: unknown[]) => Promise<unknown[]> {
  const { type, body } = activityTypeOf(activity, 0);
  if (type !== 'lambda') {
    const step = compileSingleActivity(activity, opts);
    return async (messages) => messages.flatMap((m) => (isObject(m) ? [step(m)].filter((r) => r !== null) : []));
  }
  checkName(body.name, 'activity name');
  const lambda = compileLambdaActivity(body, opts.lambda, opts.checkFunctions ?? true);
  return async (messages) => {
    const out: unknown[] = [];
    for (let i = 0; i < messages.length; i += lambda.batchSize) {
      const result = await lambda.invoke(messages.slice(i, i + lambda.batchSize));
      if (!Array.isArray(result)) throw new LambdaFailure('error', `function ${lambda.lambdaName} returned ${result === null ? 'null' : typeof result}, not an array`);
      out.push(...(result as unknown[]));
    }
    return out;
  };
}
