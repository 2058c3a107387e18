// Where a channel's raw archive lives on disk (spec §2.5, daily Hive-style partition in UTC):
//   <dataDir>/channels/<channelName>/__dt=YYYY-MM-DD 00:00:00/<firstSeq:16 digits>_<createdAt>.json.gz
// Segment names sort by their first sequence number, so the newest segment is the greatest name.
import { join } from 'node:path';

export const DAY_MS = 86_400_000;

export function channelDir(dataDir: string, channelName: string): string {
  return join(dataDir, 'channels', channelName);
}

/** `__dt=2020-02-29 00:00:00` for any instant of that UTC day. */
export function dayPartition(ts: number): string {
  return `__dt=${new Date(ts).toISOString().slice(0, 10)} 00:00:00`;
}

/** Start of the UTC day a partition directory names, or undefined when the name is not one. */
export function parseDayPartition(dirName: string): number | undefined {
  const m = /^__dt=(\d{4}-\d{2}-\d{2}) 00:00:00$/.exec(dirName);
  if (!m) return undefined;
  const t = Date.parse(`${m[1]}T00:00:00Z`);
  return Number.isNaN(t) ? undefined : t;
}

export function segmentName(firstSeq: number, createdAt: number): string {
  return `${String(firstSeq).padStart(16, '0')}_${createdAt}.json.gz`;
}

/** First sequence number encoded in a segment file name, or undefined for other files. */
export function parseSegmentName(fileName: string): number | undefined {
  const m = /^(\d{16})_\d+\.json\.gz$/.exec(fileName);
  return m ? Number(m[1]) : undefined;
}
