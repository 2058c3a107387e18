// Persistence of the registry: an append-only journal, `<dataDir>/registry.jsonl`, one line per
// API change (a JSON array of record puts and deletes, so a change that touches several records
// — deleting a group its things were in — is all or nothing). A change costs one small append,
// whatever the fleet's size (a whole-file rewrite per change would be O(things)).
// At start-up the journal is replayed, then compacted: rewritten as one line per live record
// into a temporary file, fsynced and renamed over the journal (a crash leaves the old or the new
// file, never half of one). It is compacted the same way while running once it holds more than
// COMPACT_MIN_LINES lines and twice as many lines as live records.
// A torn last line (a crash in the middle of an append) was never acknowledged: it is dropped.
// An unreadable line before it is a damaged file: start-up is refused (RegistryFileInvalid).
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { BrokerError } from '../errors.js';
import { syncFolder, writeFileAtomic } from '../atomic-file.js';
import { appendJsonLine } from '../mqtt/json-lines.js';
import type { Change } from './state.js';

export const REGISTRY_FILE = 'registry.jsonl';
export const COMPACT_MIN_LINES = 10_000;

export interface JournalRead {
  changes: Change[][];
  /** the last line was incomplete and was dropped */
  droppedTornTail: boolean;
}

export function readJournal(path: string): JournalRead {
  if (!existsSync(path)) return { changes: [], droppedTornTail: false };
  const lines = readFileSync(path, 'utf8').split('\n');
  const complete = lines.pop() === ''; // a file that ends in '\n' leaves '' behind
  const changes: Change[][] = [];
  let droppedTornTail = !complete;
  for (const [i, line] of lines.entries()) {
    if (line === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      if (i === lines.length - 1 && complete) {
        droppedTornTail = true;
        break;
      }
      throw new BrokerError('RegistryFileInvalid', `${path}: line ${i + 1} is not JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(parsed)) throw new BrokerError('RegistryFileInvalid', `${path}: line ${i + 1} is not a list of changes`);
    changes.push(parsed as Change[]);
  }
  return { changes, droppedTornTail };
}

/** Replaces the journal with one line per record (temp file, fsync, rename, fsync the folder). */
export function writeCompacted(path: string, records: readonly Change[]): void {
  writeFileAtomic(path, (function* () {
    for (const c of records) yield JSON.stringify([c]) + '\n';
  })(), { fsync: true });
}

export interface Journal {
  append(changes: readonly Change[]): void;
  close(): void;
  readonly path: string;
  /** lines in the file now (compactions count) */
  readonly lines: number;
  readonly compactions: number;
}

/**
 * Opens the journal for appending. `snapshot` gives the live records (memory before the change
 * being appended) for a compaction, `liveRecords` their count; `fsync` makes every append durable before the API answers
 * (power loss, not only crashes).
 */
export function openJournal(path: string, options: { fsync: boolean; lines: number; liveRecords(): number; snapshot(): Change[] }): Journal {
  let fd: number | undefined = openSync(path, 'a');
  let lines = options.lines;
  let compactions = 0;
  return {
    path,
    get lines() {
      return lines;
    },
    get compactions() {
      return compactions;
    },
    append(changes) {
      if (fd === undefined) throw new BrokerError('ServiceUnavailableException', 'the registry is closed');
      // the count is O(1); the snapshot (O(records)) is built only when compacting
      if (lines >= COMPACT_MIN_LINES && lines > 2 * options.liveRecords()) {
        const records = options.snapshot();
        closeSync(fd);
        fd = undefined;
        try {
          writeCompacted(path, records);
        } finally {
          fd = openSync(path, 'a');
        }
        lines = records.length;
        compactions++;
      }
      // a failed append is cut back to the last whole line (a full disk writes part of one): DiskFull
      appendJsonLine(fd, path, changes, options.fsync);
      lines++;
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
