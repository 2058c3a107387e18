// A full disk (ENOSPC, or EDQUOT for a quota) under the broker's own files (journals, stores) and,
// through the rules, under a channel archive: one coded error, `DiskFull` (503), naming the path
// and the bytes left, instead of an InternalFailureException that says nothing an operator can act on.
import { statfsSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { BrokerError } from './errors.js';

/** The analytics side answers ServiceUnavailableException with a message that begins so
 * (analytics/disk-full.ts); the rules carry only the message text as far as the ingest seam. */
const ANALYTICS_DISK_FULL = /\bDiskFull: /;

export function isDiskFullErrno(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** A rule action's failure that was a channel refusing for a full disk. */
export function isDiskFullMessage(message: string): boolean {
  return ANALYTICS_DISK_FULL.test(message);
}

/** Bytes left on the file system holding `path` (its folder when the file is not there). */
export function freeBytesSync(path: string): number | undefined {
  for (const p of [path, dirname(path)]) {
    try {
      const s = statfsSync(p);
      return s.bavail * s.bsize;
    } catch {
      // try the folder
    }
  }
  return undefined;
}

export function diskFullError(action: string, path: string, err: unknown): BrokerError {
  const free = freeBytesSync(path);
  const room = free === undefined ? 'free space unknown' : `${free} bytes free`;
  return new BrokerError('DiskFull', `cannot ${action} ${path}: the disk is full (${room}; ${(err as Error).message}); nothing was changed`);
}

/**
 * Writes all of `bytes` at the file's position. writeSync writes once, and a filling disk takes
 * part of a buffer before it fails (the error comes with the next call), so this loops; a write
 * that takes nothing is ENOSPC. `progress.written` says how far it got, for a caller that cuts a
 * failed append back.
 */
export function writeAllSync(fd: number, bytes: Buffer, progress: { written: number } = { written: 0 }): void {
  while (progress.written < bytes.length) {
    const n = writeSync(fd, bytes, progress.written, bytes.length - progress.written);
    if (!(n > 0)) throw Object.assign(new Error('no space left on device (the write took no bytes)'), { code: 'ENOSPC' });
    progress.written += n;
  }
}
