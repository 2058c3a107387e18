// A full disk (ENOSPC; EDQUOT when a quota is reached) on the analytics write paths: recognised,
// answered with one clear error, and remembered so that later writes are refused at the cost of a
// boolean check until a periodic statfs sees room again (a write per message would only fail
// again, and a statfs per message would cost the healthy path).
//
// The error is ServiceUnavailableException (503), the name the AWS SDKs know (they raise their
// modelled exception and retry it as a server fault); its message begins `DiskFull:` and its body
// carries `reason: "DiskFull"`, which the broker's MQTT ingest recognises to log its `DiskFull` code.
import { statfs } from 'node:fs/promises';
import { AnalyticsError } from './errors.js';

export const DISK_FULL = 'DiskFull';

const NO_SPACE_TEXT = /No space left on device|Disk quota exceeded/i;

/** True when `e` (or an error it wraps) says the disk or the user's quota is full. */
export function isDiskFull(e: unknown): boolean {
  let x: unknown = e;
  for (let depth = 0; depth < 5 && typeof x === 'object' && x !== null; depth++) {
    const code = (x as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
    // DuckDB reports the OS error in its message only
    if (typeof (x as Error).message === 'string' && NO_SPACE_TEXT.test((x as Error).message)) return true;
    x = (x as { cause?: unknown }).cause;
  }
  return false;
}

/** DuckDB's answer once a failed checkpoint (often for lack of space) has invalidated the
 * database: every later statement fails until the process opens the file again. */
const DATABASE_INVALIDATED = /database has been invalidated|FATAL Error/i;

export function isDatabaseInvalidated(e: unknown): boolean {
  return typeof (e as Error | null)?.message === 'string' && DATABASE_INVALIDATED.test((e as Error).message);
}

/** A write that failed for the machine's sake, not its rows': it must be replayed from the channel
 * archive (after the restart that an invalidated database needs), never skipped. */
export function mustReplay(e: unknown): boolean {
  return isDiskFull(e) || isDatabaseInvalidated(e);
}

/** Bytes an unprivileged writer may still use on the file system holding `path`. */
export async function freeBytes(path: string): Promise<number | undefined> {
  try {
    const s = await statfs(path);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

export function diskFullError(path: string, free: number | undefined, cause?: unknown): AnalyticsError {
  const room = free === undefined ? 'free space unknown' : `${free} bytes free`;
  return new AnalyticsError(
    'ServiceUnavailableException',
    `${DISK_FULL}: no space left on the disk holding ${path} (${room}); nothing was acknowledged, retry once space is freed`,
    { cause, details: { reason: DISK_FULL } },
  );
}

export interface DiskSpaceOptions {
  /** how often a full disk is looked at again (default 1 s) */
  probeMs?: number;
  /** free bytes that count as room again (default 1 MiB) */
  minFreeBytes?: number;
  /** statfs, for tests */
  freeBytes?: (path: string) => Promise<number | undefined>;
}

/**
 * Set by a failed write, cleared by a timer that runs only while it is set. `full` is what the
 * hot path reads. Clearing is optimistic: if the room is gone again, the next write fails and
 * sets it again, so a quota that statfs cannot see costs one failed write per probe.
 */
export class DiskSpaceLatch {
  full = false;
  /** the path of the write that failed, and the free bytes seen then (or at the last probe) */
  failedPath = '';
  free: number | undefined;
  private timer: NodeJS.Timeout | null = null;
  private readonly probeMs: number;
  private readonly minFree: number;
  private readonly statfs: (path: string) => Promise<number | undefined>;

  constructor(private readonly dir: string, opts: DiskSpaceOptions = {}) {
    this.probeMs = opts.probeMs ?? 1000;
    this.minFree = opts.minFreeBytes ?? 1 << 20;
    this.statfs = opts.freeBytes ?? freeBytes;
  }

  /** Marks the disk full after `cause`; returns the error to answer with. */
  async trip(path: string, cause: unknown): Promise<AnalyticsError> {
    this.free = await this.statfs(this.dir);
    this.failedPath = path;
    this.full = true;
    if (!this.timer) {
      this.timer = setInterval(() => void this.probe(), this.probeMs);
      this.timer.unref();
    }
    return diskFullError(path, this.free, cause);
  }

  /** The answer while the disk is known to be full (no write attempted). */
  refusal(): AnalyticsError {
    return diskFullError(this.failedPath, this.free);
  }

  private async probe(): Promise<void> {
    const free = await this.statfs(this.dir);
    if (!this.full) return;
    this.free = free;
    if (free !== undefined && free >= this.minFree) this.clear();
  }

  clear(): void {
    this.full = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
