// Files the broker rewrites whole (stores, compacted journals, keys) are complete or absent after
// a crash: written to a temporary name beside the file, flushed when asked, then renamed over it;
// with fsync the folder is flushed too, so the rename itself survives a power loss.
// Every write is checked to have taken all its bytes: on a filling disk write(2) takes part of a
// buffer and fails only on the next call, and a short temporary file renamed over a store would
// lose it. A full disk is DiskFull (the old file stays, the temporary one is removed).
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { BrokerError } from './errors.js';
import { diskFullError, isDiskFullErrno, writeAllSync } from './disk-space.js';

export interface AtomicWriteOptions {
  /** flush the file and its folder to disk before returning */
  fsync?: boolean;
  /** the file's mode (0o600 for secrets), whatever the umask */
  mode?: number;
}

/**
 * Replaces `path` with `content`: one string, or parts (lines) written in chunks of about 1 MB so
 * a large store never becomes one giant string. Failures are DiskFull (no space or quota left) or
 * InternalFailureException, naming the file; either way `path` is unchanged.
 */
export function writeFileAtomic(path: string, content: string | Iterable<string>, options: AtomicWriteOptions = {}): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(temp, 'w', options.mode ?? 0o666);
    try {
      if (options.mode !== undefined) fchmodSync(fd, options.mode); // the umask may have narrowed it
      if (typeof content === 'string') writeAllSync(fd, Buffer.from(content));
      else writeChunked(fd, content);
      if (options.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    if (options.fsync) syncFolder(dirname(path));
  } catch (err) {
    rmSync(temp, { force: true });
    if (isDiskFullErrno(err)) throw diskFullError('write', path, err);
    throw new BrokerError('InternalFailureException', `cannot write ${path}: ${(err as Error).message}`);
  }
}

function writeChunked(fd: number, parts: Iterable<string>): void {
  let chunk = '';
  for (const part of parts) {
    chunk += part;
    if (chunk.length > 1 << 20) {
      writeAllSync(fd, Buffer.from(chunk));
      chunk = '';
    }
  }
  if (chunk) writeAllSync(fd, Buffer.from(chunk));
}

/** Flushes a folder's entries (a rename or a new file) to disk. */
export function syncFolder(folder: string): void {
  try {
    const fd = openSync(folder, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some platforms cannot fsync a folder; the rename is still atomic
  }
}
