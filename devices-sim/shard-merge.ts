// The summary of a sharded run from its shards' results: counters add up, the duration spans
// from the first shard's first publish to the last shard's stop, and the latency percentiles are
// computed over all shards' samples together (summarizeLatency), never averaged.

import { ANOMALY_KINDS, type AnomalyKind } from './anomalies.js';
import { createAnomalyStats } from './anomaly-injector.js';
import { createFaultStats } from './fault-injector.js';
import type { FleetResult } from './fleet.js';
import { buildSummary, summarizeLatency, type AnomalySummary, type FaultSummary, type ShadowSummary, type ShardPart, type Summary } from './report.js';

/** What the parent knows itself: the labels file it wrote for the shards. */
export interface MergeContext {
  qos: 0 | 1;
  labels?: { path: string; dropped: number };
}

/** `results[k]` is shard k's, or undefined when that shard ended without one (it crashed). */
export function mergeShardResults(results: readonly (FleetResult | undefined)[], context: MergeContext): Summary {
  const present = results.filter((r): r is FleetResult => r !== undefined);
  const summaries = present.map((r) => r.summary);
  const sum = (pick: (s: Summary) => number) => summaries.reduce((n, s) => n + pick(s), 0);
  const starts = present.map((r) => r.firstPublishEpochMs).filter((t) => !Number.isNaN(t));
  const durationMs = starts.length === 0 ? 0 : Math.max(...present.map((r) => r.stoppedEpochMs)) - Math.min(...starts);
  const latency = context.qos === 1 ? summarizeLatency(present.flatMap((r) => (r.latency ? [r.latency] : []))) : null;
  const summary = buildSummary(
    {
      devices: sum((s) => s.devices),
      connected: sum((s) => s.connected),
      qos: context.qos,
      sent: sum((s) => s.sent),
      acknowledged: sum((s) => s.acknowledged),
      errors: sum((s) => s.errors),
      skipped: sum((s) => s.skipped),
      reconnects: sum((s) => s.reconnects),
    },
    durationMs,
    latency,
    mergeAnomalies(summaries, context.labels),
    mergeShadow(summaries),
    mergeFaults(summaries),
  );
  const shards: ShardPart[] = results.map((r, shard) => ({
    shard,
    devices: r?.summary.devices ?? 0,
    connected: r?.summary.connected ?? 0,
    sent: r?.summary.sent ?? 0,
    acknowledged: r?.summary.acknowledged ?? 0,
    errors: r?.summary.errors ?? 0,
  }));
  return { ...summary, shards };
}

function mergeAnomalies(summaries: readonly Summary[], labels: MergeContext['labels']): AnomalySummary | undefined {
  const parts = summaries.flatMap((s) => (s.anomalies ? [s.anomalies] : []));
  if (parts.length === 0) return undefined;
  const total = createAnomalyStats();
  for (const a of parts) {
    total.injected += a.injected;
    total.notReached += a.notReached;
    total.withheld += a.withheld;
    total.randomCapped += a.randomCapped;
    for (const kind of ANOMALY_KINDS as readonly AnomalyKind[]) total.byKind[kind] += a.byKind[kind];
  }
  return { ...total, labelsFile: labels?.path ?? null, labelsDropped: labels?.dropped ?? 0 };
}

function mergeShadow(summaries: readonly Summary[]): ShadowSummary | undefined {
  const parts = summaries.flatMap((s) => (s.shadow ? [s.shadow] : []));
  if (parts.length === 0) return undefined;
  return parts.reduce((t, s) => ({ reported: t.reported + s.reported, applied: t.applied + s.applied, ignored: t.ignored + s.ignored }), { reported: 0, applied: 0, ignored: 0 });
}

function mergeFaults(summaries: readonly Summary[]): FaultSummary | undefined {
  const parts = summaries.flatMap((s) => (s.faults ? [s.faults] : []));
  if (parts.length === 0) return undefined;
  const total = createFaultStats();
  for (const f of parts) for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += f[key];
  return { ...total, specs: parts[0].specs };
}
