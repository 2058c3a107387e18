// One server per data directory. `<dataDir>/server.lock` names the server that holds the
// directory (PID, the process's start time, a random token); it is taken before any store opens,
// so a second server is refused before it has read, compacted or rewritten anything (README "The
// data directory"). DuckDB's own lock on iotcore.duckdb stays as a second line of defence.
//
// Node has no flock(), so the lock is the file's existence plus a liveness check of its holder: a
// file left by a process that died (kill -9, power loss) names a PID that no longer runs, or runs
// another program since (a reused PID has another start time), and is taken over. A container
// restarted after a kill -9 often gets its old PID back: a file naming this very process but no
// token it holds is such a leftover.
import { linkSync, readFileSync, realpathSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { BrokerError } from './errors.js';

export const DATA_DIR_LOCK_FILE = 'server.lock';

export interface DataDirLock {
  /** `<dataDir>/server.lock` */
  readonly path: string;
  /** Removes the lock file if it is still ours; a second call does nothing. */
  release(): void;
}

interface Holder {
  pid: number;
  /** /proc/<pid>/stat starttime (clock ticks since boot); absent where /proc is not readable */
  startTime?: string;
  token: string;
  since: string;
}

/** Tokens of the locks this process holds, by the directory's real path. */
const heldHere = new Map<string, string>();

/**
 * Takes the data directory (which must exist) for this server, or throws `DataDirLocked` naming
 * the directory and the holder's PID. Synchronous on purpose: two start-ups in one process cannot
 * interleave between the check and the take.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const dir = realpathSync(dataDir);
  const path = join(dir, DATA_DIR_LOCK_FILE);
  // before the file: a lock file deleted by hand must not let this process in twice
  if (heldHere.has(dir)) throw locked(dataDir, path, process.pid);
  const me: Holder = { pid: process.pid, token: randomUUID(), since: new Date().toISOString() };
  const startTime = startTimeOf(process.pid);
  if (startTime !== undefined) me.startTime = startTime;

  // A few rounds: each either takes the lock, finds a live holder, or removes a stale file.
  for (let round = 0; round < 5; round++) {
    if (createExclusive(dir, path, me)) {
      heldHere.set(dir, me.token);
      return { path, release: () => release(dir, path, me.token) };
    }
    const seen = readText(path);
    if (seen === undefined) continue; // released in between
    const holder = parseHolder(seen);
    if (holder && holderIsAlive(holder)) throw locked(dataDir, path, holder.pid);
    // Stale: remove it only if it is still the file just judged, so a server that took it over a
    // moment ago keeps its lock. (Two start-ups racing over one stale file within microseconds
    // could still both pass; DuckDB's lock refuses the loser.)
    if (readText(path) === seen) unlinkQuietly(path);
  }
  throw locked(dataDir, path, parseHolder(readText(path) ?? '')?.pid);
}

/**
 * Creates the lock file with its whole content or not at all: written to a file of our own, then
 * hard-linked to the lock's name (link fails if the name exists), so no reader ever sees an empty
 * or half-written lock file and mistakes a starting server for a dead one.
 */
function createExclusive(dir: string, path: string, me: Holder): boolean {
  const staging = join(dir, `${DATA_DIR_LOCK_FILE}.${me.pid}.${me.token}`);
  writeFileSync(staging, `${JSON.stringify(me)}\n`, { mode: 0o644 });
  try {
    linkSync(staging, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkQuietly(staging);
  }
}

function release(dir: string, path: string, token: string): void {
  if (heldHere.get(dir) !== token) return;
  heldHere.delete(dir);
  // never remove a file another server wrote (one that took over after someone deleted ours)
  if (parseHolder(readText(path) ?? '')?.token === token) unlinkQuietly(path);
}

function holderIsAlive(h: Holder): boolean {
  if (h.pid === process.pid) {
    // this process: alive only if the lock is one this process holds (the same directory reached
    // through another path, e.g. a bind mount); otherwise an earlier process with our PID left it
    return [...heldHere.values()].includes(h.token);
  }
  try {
    process.kill(h.pid, 0); // signal 0: only asks whether the process exists
  } catch (err) {
    // EPERM: it exists but belongs to another user, which still holds the directory
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (h.startTime === undefined) return true;
  const now = startTimeOf(h.pid);
  return now === undefined || now === h.startTime;
}

/** Field 22 of /proc/<pid>/stat: when the process started, fixed for its life. The fields are
 * counted after the last ')' because the command name before it may hold spaces and parentheses. */
function startTimeOf(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19]; // field 3 (state) is fields[0]
}

function parseHolder(text: string): Holder | undefined {
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    // a PID of 0 or below would make process.kill() address a process group
    if (!Number.isInteger(h.pid) || (h.pid as number) <= 0 || typeof h.token !== 'string') return undefined;
    if (h.startTime !== undefined && typeof h.startTime !== 'string') return undefined;
    return h as Holder;
  } catch {
    return undefined; // not written by this code: nobody can be shown to hold it
  }
}

function locked(dataDir: string, path: string, pid: number | undefined): BrokerError {
  const who = pid === undefined ? 'another server' : pid === process.pid ? `another server in this process (PID ${pid})` : `another process (PID ${pid})`;
  return new BrokerError('DataDirLocked', `cannot use the data directory ${dataDir}: ${who} holds its lock ${path}; two servers cannot share a data directory (stop the other one, or give this one another --data-dir)`);
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
