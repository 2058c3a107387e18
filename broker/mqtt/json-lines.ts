// JSON-lines journals of the broker's MQTT state (retained messages, persistent sessions): one
// JSON document per line, appended as things change and rewritten compactly now and then. A crash
// in the middle of an append leaves a torn last line, which was never acknowledged and is dropped.
// A failed append (a full disk can write part of a line) is cut back to the last whole line: a
// torn line followed by more lines would be a damaged file that refuses start-up.
import { existsSync, fstatSync, fsyncSync, ftruncateSync, readFileSync } from 'node:fs';
import { BrokerError, type BrokerErrorCode } from '../errors.js';
import { diskFullError, isDiskFullErrno, writeAllSync } from '../disk-space.js';

/** A journal is compacted once it holds this many lines and twice as many as it has live records. */
export const COMPACT_MIN_LINES = 10_000;

/**
 * Reads a JSON-lines journal: every line must pass `problem` (which names what is wrong), except
 * a torn last line (a crash in the middle of an append, never acknowledged), which is dropped.
 * Any other bad line is a damaged file and throws `code`, naming the file and the line.
 */
export function readJsonLines<T>(path: string, problem: (line: unknown) => string | undefined, code: BrokerErrorCode): { lines: T[]; droppedTornTail: boolean } {
  if (!existsSync(path)) return { lines: [], droppedTornTail: false };
  const text = readFileSync(path, 'utf8').split('\n');
  const complete = text.pop() === ''; // a file that ends in '\n' leaves '' behind
  const lines: T[] = [];
  let droppedTornTail = !complete;
  for (const [i, raw] of text.entries()) {
    if (raw === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      if (i === text.length - 1 && complete) {
        droppedTornTail = true;
        break;
      }
      throw new BrokerError(code, `${path}: line ${i + 1} is not JSON (${(err as Error).message})`);
    }
    const wrong = problem(parsed);
    if (wrong) throw new BrokerError(code, `${path}: line ${i + 1} ${wrong}`);
    lines.push(parsed as T);
  }
  return { lines, droppedTornTail };
}

/**
 * Journals whose cut-back failed: the file (known by device and inode: a compaction replaces it)
 * must be cut to `size` before anything is appended to it again, so the torn bytes stay
 * a torn last line. Almost always empty: the healthy path only looks at its size.
 */
const uncut = new Map<string, { dev: number; ino: number; size: number }>();

/**
 * Appends one line (fsync'd when asked). Returns only once the whole line is written; otherwise
 * the file is cut back to where the line began and the error is DiskFull (no space, no quota)
 * or InternalFailureException, naming the file.
 */
export function appendJsonLine(fd: number, path: string, line: unknown, fsync: boolean): void {
  appendLine(fd, path, Buffer.from(JSON.stringify(line) + '\n'), fsync);
}

/** appendJsonLine for a line already serialised (with its newline), e.g. to know its size first. */
export function appendLine(fd: number, path: string, bytes: Buffer, fsync: boolean): void {
  if (uncut.size > 0) cutPending(fd, path);
  const progress = { written: 0 };
  try {
    writeAllSync(fd, bytes, progress);
    if (fsync) fsyncSync(fd);
  } catch (err) {
    if (progress.written > 0) cutBack(fd, path, progress.written);
    throw appendError(path, err);
  }
}

/** Removes the last `written` bytes (the failed line's; the journal is appended to by this process only). */
function cutBack(fd: number, path: string, written: number): void {
  let st: { dev: number; ino: number; size: number } | undefined;
  try {
    st = fstatSync(fd);
    ftruncateSync(fd, st.size - written);
  } catch {
    if (st) uncut.set(path, { dev: st.dev, ino: st.ino, size: st.size - written });
  }
}

function cutPending(fd: number, path: string): void {
  const pending = uncut.get(path);
  if (!pending) return;
  try {
    const st = fstatSync(fd);
    // another file now (compacted: rewritten whole, without the torn bytes): nothing to cut
    if (st.dev === pending.dev && st.ino === pending.ino) ftruncateSync(fd, pending.size);
    uncut.delete(path);
  } catch (err) {
    throw appendError(path, err);
  }
}

function appendError(path: string, err: unknown): BrokerError {
  if (isDiskFullErrno(err)) return diskFullError('append to', path, err);
  return new BrokerError('InternalFailureException', `cannot append to ${path}: ${(err as Error).message}`);
}
