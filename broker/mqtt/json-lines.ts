// JSON-lines journals of the broker's MQTT state (retained messages, persistent sessions): one
// JSON document per line, appended as things change and rewritten compactly now and then. A crash
// in the middle of an append leaves a torn last line, which was never acknowledged and is dropped.
import { existsSync, fsyncSync, readFileSync, writeSync } from 'node:fs';
import { BrokerError, type BrokerErrorCode } from '../errors.js';

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

/** Appends one line (fsync'd when asked); a failure is InternalFailureException naming the file. */
export function appendJsonLine(fd: number, path: string, line: unknown, fsync: boolean): void {
  try {
    writeSync(fd, JSON.stringify(line) + '\n');
    if (fsync) fsyncSync(fd);
  } catch (err) {
    throw new BrokerError('InternalFailureException', `cannot append to ${path}: ${(err as Error).message}`);
  }
}
