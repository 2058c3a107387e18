// The --labels file: one JSON line per injected anomaly. Lines are buffered and written in
// batches (a flush every FLUSH_MS, or when FLUSH_LINES are waiting), never one write per label;
// while the disk cannot keep up the buffer is capped and the lines beyond it are counted, not kept.

import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import type { AnomalyLabel } from './anomalies.js';
import { SimError } from './errors.js';

const FLUSH_MS = 250;
const FLUSH_LINES = 256;
export const MAX_BUFFERED_LABELS = 10_000;

export class LabelWriter {
  private readonly stream: WriteStream;
  private buffer: string[] = [];
  private writable = true;
  private readonly timer: NodeJS.Timeout;
  /** labels not written because the buffer was full or the file failed */
  dropped = 0;
  written = 0;
  /** the first write error; later labels are dropped */
  error: Error | null = null;

  /** Truncates or creates `path` now, so a bad path fails before the fleet connects. */
  constructor(readonly path: string) {
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (error) {
      throw new SimError('InvalidArgumentException', `labels: cannot write "${path}": ${(error as Error).message}`);
    }
    this.stream = createWriteStream('', { fd });
    this.stream.on('error', (error) => {
      this.error ??= error;
      this.writable = false;
    });
    this.stream.on('drain', () => {
      this.writable = true;
      this.flush();
    });
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  add(label: AnomalyLabel): void {
    if (this.buffer.length >= MAX_BUFFERED_LABELS || this.error) {
      this.dropped++;
      return;
    }
    this.buffer.push(JSON.stringify(label));
    if (this.buffer.length >= FLUSH_LINES) this.flush();
  }

  private flush(): void {
    if (!this.writable || this.buffer.length === 0) return;
    const lines = this.buffer;
    this.buffer = [];
    this.written += lines.length;
    this.writable = this.stream.write(`${lines.join('\n')}\n`);
  }

  /** Writes what is buffered and closes the file; a write error is left in `error`. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    if (this.error) {
      this.dropped += this.buffer.length;
      this.buffer = [];
    } else {
      this.writable = true; // the stream queues what it cannot take yet; end() waits for all of it
      this.flush();
    }
    await new Promise<void>((resolve) => {
      if (this.stream.closed) resolve();
      else this.stream.end(() => resolve()).once('error', () => resolve());
    });
  }
}
