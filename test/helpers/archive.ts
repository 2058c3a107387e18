// Reads a channel's raw archive straight from its documented on-disk layout
// (<data dir>/channels/<name>/__dt=YYYY-MM-DD 00:00:00/*.json.gz, gzip members of JSON lines).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface ArchiveRecord {
  seq: number;
  receivedAt: number;
  payload: string; // base64
  clientId?: string;
  topic?: string;
}

export function readArchiveFiles(dataDir: string, channel: string): ArchiveRecord[] {
  const base = join(dataDir, 'channels', channel);
  if (!existsSync(base)) return [];
  const records: ArchiveRecord[] = [];
  for (const day of readdirSync(base).filter((d) => d.startsWith('__dt=')).sort()) {
    for (const file of readdirSync(join(base, day)).filter((f) => f.endsWith('.json.gz')).sort()) {
      const text = gunzipSync(readFileSync(join(base, day, file))).toString('utf8');
      for (const line of text.split('\n')) if (line.trim()) records.push(JSON.parse(line) as ArchiveRecord);
    }
  }
  return records;
}
