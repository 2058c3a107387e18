// Files the broker rewrites whole (stores, compacted journals, keys) are complete or absent after
// a crash: written to a temporary name beside the file, flushed when asked, then renamed over it;
// with fsync the folder is flushed too, so the rename itself survives a power loss.
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { BrokerError } from './errors.js';

export interface AtomicWriteOptions {
  /** flush the file and its folder to disk before returning */
  fsync?: boolean;
  /** the file's mode (0o600 for secrets), whatever the umask */
  mode?: number;
}

/**
 * Replaces `path` with `content`: one string, or parts (lines) written in chunks of about 1 MB so
 * a large store never becomes one giant string. Failures are InternalFailureException naming the file.
 */
export function writeFileAtomic(path: string, content: string | Iterable<string>, options: AtomicWriteOptions = {}): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(temp, 'w', options.mode ?? 0o666);
    try {
      if (options.mode !== undefined) fchmodSync(fd, options.mode); // the umask may have narrowed it
      if (typeof content === 'string') writeSync(fd, content);
      else writeChunked(fd, content);
      if (options.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    if (options.fsync) syncFolder(dirname(path));
  } catch (err) {
    rmSync(temp, { force: true });
    throw new BrokerError('InternalFailureException', `cannot write ${path}: ${(err as Error).message}`);
  }
}

function writeChunked(fd: number, parts: Iterable<string>): void {
  let chunk = '';
  for (const part of parts) {
    chunk += part;
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  if (chunk) writeSync(fd, chunk);
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
