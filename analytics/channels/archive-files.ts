// Archive objects named by path, as StartPipelineReprocessing's `channelMessages.s3Paths` names
// them (spec §2.5, §3.6). AWS keys look like `channel/<channel>/__dt=<day> 00:00:00/<file>.json.gz`;
// ours live under `<dataDir>/channels/<channel>/__dt=<day> 00:00:00/<seg>.json.gz`, so a path is
// the part below the channel directory, optionally preceded by `channel/<channel>/` or
// `channels/<channel>/` (and any key prefix before that). Nothing outside the channel's own
// directory can be named: the remainder must be exactly one day partition and one segment name.
import { stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ArchivedMessage } from '../types.js';
import { invalidRequest } from '../errors.js';
import { channelDir, parseDayPartition, parseSegmentName } from './layout.js';
import { readSegment } from './segment.js';

/** AWS's constraints on one path (spec §2.5): 1..1024 of these characters. */
const S3_PATH = /^[a-zA-Z0-9/_!'(){}*\s.\-=:]{1,1024}$/;
export const MAX_S3_PATHS = 100;

export interface ArchiveFile {
  /** absolute path of the segment file */
  file: string;
  /** first sequence number it holds (from its name) */
  firstSeq: number;
}

/**
 * Maps each path to a segment file of `channelName`'s archive, refusing (InvalidRequestException,
 * naming the path) a malformed path, one that names another channel or leaves the channel
 * directory, and one whose file does not exist. Duplicates collapse; the result is in sequence order.
 */
export async function resolveArchivePaths(dataDir: string, channelName: string, s3Paths: unknown): Promise<ArchiveFile[]> {
  if (!Array.isArray(s3Paths) || s3Paths.length < 1 || s3Paths.length > MAX_S3_PATHS) {
    throw invalidRequest(`channelMessages.s3Paths must hold 1..${MAX_S3_PATHS} archive paths`);
  }
  const root = channelDir(dataDir, channelName);
  const found = new Map<string, ArchiveFile>();
  for (const raw of s3Paths) {
    const rel = archiveRelativePath(channelName, raw);
    const file = join(root, ...rel);
    // belt and braces: the parsed form already rules out '..' and absolute parts
    const back = relative(root, file);
    if (back.startsWith('..') || back.split(sep).length !== 2) throw invalidRequest(`s3Path ${JSON.stringify(raw)} leaves the archive of channel "${channelName}"`);
    const isFile = await stat(file).then((s) => s.isFile(), () => false);
    if (!isFile) throw invalidRequest(`s3Path ${JSON.stringify(raw)}: no such archive object in channel "${channelName}" (expected __dt=YYYY-MM-DD 00:00:00/<segment>.json.gz below channels/${channelName}/)`);
    found.set(file, { file, firstSeq: parseSegmentName(rel[1])! });
  }
  return [...found.values()].sort((a, b) => a.firstSeq - b.firstSeq);
}

/** [dayPartition, segmentName] of a path, or InvalidRequestException saying what is wrong. */
function archiveRelativePath(channelName: string, raw: unknown): [string, string] {
  if (typeof raw !== 'string' || !S3_PATH.test(raw)) {
    throw invalidRequest(`s3Path ${JSON.stringify(raw)} must be 1..1024 characters of [a-zA-Z0-9/_!'(){}*.=:-] and spaces`);
  }
  const parts = raw.split('/').filter((p) => p.length > 0);
  if (parts.some((p) => p === '.' || p === '..')) throw invalidRequest(`s3Path ${JSON.stringify(raw)} leaves the archive of channel "${channelName}"`);
  if (parts.length < 2 || parseDayPartition(parts.at(-2)!) === undefined || parseSegmentName(parts.at(-1)!) === undefined) {
    throw invalidRequest(`s3Path ${JSON.stringify(raw)} is not an archive object: expected [channels/${channelName}/]__dt=YYYY-MM-DD 00:00:00/<16-digit seq>_<ms>.json.gz`);
  }
  const prefix = parts.slice(0, -2);
  if (prefix.length > 0) {
    const [kind, name] = prefix.slice(-2);
    if (prefix.length < 2 || (kind !== 'channel' && kind !== 'channels')) {
      throw invalidRequest(`s3Path ${JSON.stringify(raw)}: only [<prefix>/]channels/<channel>/ may precede the day partition`);
    }
    if (name !== channelName) throw invalidRequest(`s3Path ${JSON.stringify(raw)} names channel "${name}", but the pipeline reads channel "${channelName}"`);
  }
  return [parts.at(-2)!, parts.at(-1)!];
}

/** The records of the files, file after file, each streamed (never a whole file in memory). */
export async function* readArchiveFiles(files: readonly ArchiveFile[], channelName: string): AsyncGenerator<ArchivedMessage> {
  for (const f of files) yield* readSegment(f.file, channelName);
}
