// Where each pipeline stands in its channel, so that a restart after a crash neither loses nor
// repeats a row (exactly-once from the channel archive to the datastore).
//
// The fact that counts is the pipeline's committed offset: the datastore writer stores
// (pipeline, channel, seq) in the same DuckDB transaction as the rows it covers, so the offset
// and the rows can never disagree. On open, a pipeline resumes after
//   max(its committed offset, the channel's processed watermark),
// where the watermark (processed.json) only moves past a message once every pipeline's writes
// for it have settled. The watermark matters for pipelines whose rows are all filtered out: they
// commit nothing, so without it they would re-read the archive from their start on every open.
// A pipeline with no offset (an archive from before offsets) resumes after the watermark alone.
//
// A deleted pipeline's offsets are deleted at the next open (forgetDeletedPipelines), not by
// DeletePipeline: its in-flight rows may still commit, with their offset, after it is gone.
import type { Database, DatastoreWriter } from './datastore/index.js';
import { OFFSETS_TABLE } from './datastore/index.js';

export type CommittedOffsets = ReadonlyMap<string, number>;

const key = (pipelineName: string, channelName: string): string => `${pipelineName}\u0000${channelName}`;

/** Every committed offset; read once at open, before anything is processed. */
export async function readCommittedOffsets(db: Database): Promise<CommittedOffsets> {
  const r = await db.query(`SELECT pipeline_name, channel_name, seq FROM ${OFFSETS_TABLE}`, { maxRows: 1_000_000 });
  const m = new Map<string, number>();
  for (const [pipeline, channel, seq] of r.rows) m.set(key(String(pipeline), String(channel)), Number(seq));
  return m;
}

/**
 * Deletes the offsets of pipelines that are no longer defined (`isDefined` is asked about the
 * definitions file, so a pipeline that merely failed to compile keeps its place). Run at open,
 * before anything is processed: nothing can commit an offset for them any more. Returns how many
 * pipeline names were forgotten.
 */
export async function forgetDeletedPipelines(db: Database, offsets: CommittedOffsets, isDefined: (pipelineName: string) => boolean): Promise<number> {
  const gone = new Set<string>();
  for (const k of offsets.keys()) {
    const pipeline = k.slice(0, k.indexOf('\u0000'));
    if (!isDefined(pipeline)) gone.add(pipeline);
  }
  if (gone.size === 0) return 0;
  // Database.query is read-only and the writer only upserts offsets; the keyed-table statement
  // path runs our own parameterised SQL (the table exists: the engine creates it at open).
  const [schema, table] = OFFSETS_TABLE.split('.');
  const t = await db.openKeyedTable({
    schema,
    table,
    key: 'pipeline_name',
    columns: [{ name: 'pipeline_name', type: 'VARCHAR' }, { name: 'channel_name', type: 'VARCHAR' }, { name: 'seq', type: 'BIGINT' }],
  });
  try {
    for (const name of gone) await t.select(`DELETE FROM ${OFFSETS_TABLE} WHERE pipeline_name = $1 RETURNING seq`, [name], 0);
  } finally {
    t.close();
  }
  return gone.size;
}

/** The last seq the pipeline has done with: replay starts after it. */
export function resumeAfter(offsets: CommittedOffsets, pipelineName: string, channelName: string, watermark: number): number {
  return Math.max(offsets.get(key(pipelineName, channelName)) ?? 0, watermark);
}

/**
 * A new pipeline (or one moved to another channel) starts at the channel's end, as recorded now:
 * the offset is queued on the pipeline's datastore writer before any of its rows (the writer keeps
 * order), and replaces whatever an earlier pipeline of that name left for this channel.
 */
export function recordStart(writer: DatastoreWriter, pipelineName: string, channelName: string, seq: number, now: number): Promise<void> {
  return writer.append([], now, { pipelineName, channelName, seq, reset: true });
}
