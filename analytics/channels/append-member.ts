// Appending one gzip member to a segment so that a failed write never leaves a torn member behind.
//
// A write(2) to a regular file may write only part of the buffer when the disk fills up (the error
// comes with the next call), and Node's FileHandle.write does not loop. A torn member would end
// the readable part of the segment: every later member, acknowledged or not, would be lost to the
// reader, and the records the torn member does decode were never acknowledged. So the whole buffer
// is written in a loop, and on any failure (write or datasync) the file is cut back to where the
// member began, which also gives the partial bytes back to the full disk.
export interface AppendTarget {
  write(buffer: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
}

/** Thrown when the append failed; `clean` says the file is back to `sizeBefore` bytes. */
export class AppendFailed extends Error {
  constructor(
    cause: unknown,
    readonly clean: boolean,
  ) {
    super((cause as Error)?.message ?? String(cause), { cause });
    this.name = 'AppendFailed';
  }
}

/**
 * Appends all of `data` to a file opened for appending whose size is `sizeBefore`, then datasyncs
 * it when asked. Resolves only when every byte is written; otherwise rejects with AppendFailed
 * after truncating the file back to `sizeBefore`.
 */
export async function appendMember(fh: AppendTarget, data: Buffer, sizeBefore: number, fsync: boolean): Promise<void> {
  let written = 0;
  try {
    while (written < data.length) {
      const { bytesWritten } = await fh.write(data, written, data.length - written);
      if (!(bytesWritten > 0)) throw Object.assign(new Error('no space left on device (the write took no bytes)'), { code: 'ENOSPC' });
      written += bytesWritten;
    }
    if (fsync) await fh.datasync();
  } catch (e) {
    let clean: boolean;
    try {
      await fh.truncate(sizeBefore);
      clean = true;
    } catch {
      clean = written === 0; // the first write took nothing: the file is as it was
    }
    throw new AppendFailed(e, clean);
  }
}
