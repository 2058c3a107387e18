// The audit log: one JSON line per change of configuration or state made through the HTTP APIs,
// per sign-in attempt, and per start-up application of the configuration file (README "Security").
// It says who, what and when, never a request body or a secret. Bounded on disk: past `maxBytes`
// the file becomes audit.1.jsonl (replacing the older one) and a new one begins, so at most two
// files of about `maxBytes` exist. The latest `keep` entries are also held in memory (loaded from
// the files' tails at open) so GET /api/audit reads no file.
import { closeSync, fchmodSync, fstatSync, openSync, readSync, renameSync, existsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEntry } from './contract.js';
import type { Logger } from './log.js';
import { appendLine } from './mqtt/json-lines.js';

export type { AuditEntry } from './contract.js';

export const AUDIT_FILE = 'audit.jsonl';
export const AUDIT_OLD_FILE = 'audit.1.jsonl';

export interface AuditLogOptions {
  dataDir: string;
  /** rotate when the file would grow past this (default 10 MB) */
  maxBytes?: number;
  /** entries kept in memory for the route (default 1000) */
  keep?: number;
  fsync?: boolean;
  log?: Logger;
  now?(): number;
}

export interface AuditQuery {
  /** ISO time: only entries at or after it */
  since?: string;
  limit: number;
}

export interface AuditLog {
  /** appends an entry stamped now; never throws (a failed write is logged and counted) */
  record(entry: Omit<AuditEntry, 'at'>): void;
  /** the latest entries, newest first */
  latest(query: AuditQuery): AuditEntry[];
  counters(): { entries: number; rotations: number; writeErrors: number };
  close(): void;
}

/** Bytes read from the end of each file at open to refill the in-memory window. */
const TAIL_BYTES = 1 << 20;

export function openAuditLog(options: AuditLogOptions): AuditLog {
  const path = join(options.dataDir, AUDIT_FILE);
  const oldPath = join(options.dataDir, AUDIT_OLD_FILE);
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const keep = options.keep ?? 1000;
  const now = options.now ?? Date.now;
  const counts = { entries: 0, rotations: 0, writeErrors: 0 };

  const recent: AuditEntry[] = [...tailEntries(oldPath), ...tailEntries(path)].slice(-keep);
  let fd: number | undefined = openFile(path);
  let size = fstatSync(fd).size;
  // a crash may have cut the last line: the next entry starts on a line of its own
  if (size > 0 && !endsWithNewline(fd, size)) size += writeSync(fd, '\n');

  function rotate(): void {
    closeSync(fd!);
    fd = undefined;
    renameSync(path, oldPath);
    fd = openFile(path);
    size = 0;
    counts.rotations++;
  }

  return {
    record(partial) {
      const entry: AuditEntry = { at: new Date(now()).toISOString(), ...partial };
      recent.push(entry);
      if (recent.length > keep) recent.shift();
      const line = Buffer.from(JSON.stringify(entry) + '\n');
      try {
        if (fd === undefined) fd = openFile(path);
        if (size > 0 && size + line.length > maxBytes) rotate();
        // whole lines only: a failed append (a full disk writes part of one) is cut back
        appendLine(fd, path, line, options.fsync === true);
        size += line.length;
        counts.entries++;
      } catch (err) {
        counts.writeErrors++;
        options.log?.error({ code: 'AuditWriteFailed', file: path, err: String(err) }, 'audit log entry not written');
      }
    },

    latest({ since, limit }) {
      const out: AuditEntry[] = [];
      for (let i = recent.length - 1; i >= 0 && out.length < limit; i--) {
        const e = recent[i]!;
        if (since !== undefined && e.at < since) break; // ISO strings of one format order as times
        out.push(e);
      }
      return out;
    },

    counters: () => ({ ...counts }),

    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** Opens for appending with mode 0600, narrowing a file that was made looser. */
function openFile(path: string): number {
  const fd = openSync(path, 'a+', 0o600);
  fchmodSync(fd, 0o600);
  return fd;
}

function endsWithNewline(fd: number, size: number): boolean {
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] === 0x0a;
}

/** The complete, parseable lines among the last TAIL_BYTES of a file (none if it is missing). */
function tailEntries(path: string): AuditEntry[] {
  if (!existsSync(path)) return [];
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8').split('\n');
    if (start > 0) lines.shift(); // begins mid-line
    const out: AuditEntry[] = [];
    for (const line of lines) {
      if (line === '') continue;
      try {
        out.push(JSON.parse(line) as AuditEntry);
      } catch {
        // a line cut by a crash: the rest are still worth showing
      }
    }
    return out;
  } finally {
    closeSync(fd);
  }
}
