// CPU time and resident memory of another process, read from /proc (Linux) at a fixed interval,
// so a broker is measured from outside, the same way whatever it is written in.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (100 on every common Linux). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcSample {
  /** performance.now() of the reading */
  at: number;
  /** user + system CPU seconds since the process started */
  cpuS: number;
  rssBytes: number;
}

/** One reading, or undefined once the process is gone. */
export function readProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after "(comm)", which may itself contain spaces: state is field 3, utime 14, stime 15
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    return { at: performance.now(), cpuS: ticks / CLK_TCK, rssBytes: rssKiB * 1024 };
  } catch {
    return undefined;
  }
}

/** Samples a process every `intervalMs` until stop(); figures over any window of the run. */
export class ProcSampler {
  readonly samples: ProcSample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(readonly pid: number, intervalMs = 200) {
    const take = () => {
      const s = readProc(pid);
      if (s) this.samples.push(s);
    };
    take();
    this.timer = setInterval(take, intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    const s = readProc(this.pid);
    if (s) this.samples.push(s);
  }

  /** Samples from the last one at or before `from` to the first one at or after `to`. */
  private window(from: number, to: number): ProcSample[] {
    let first = 0;
    while (first + 1 < this.samples.length && this.samples[first + 1].at <= from) first++;
    let last = this.samples.length - 1;
    while (last - 1 > first && this.samples[last - 1].at >= to) last--;
    return this.samples.slice(first, last + 1);
  }

  /** CPU use over the window, in percent of one core (200 % = both cores of a 2-core machine). */
  cpuPercent(from: number, to: number): number {
    const w = this.window(from, to);
    if (w.length < 2) return NaN;
    const a = w[0];
    const b = w[w.length - 1];
    return ((b.cpuS - a.cpuS) / ((b.at - a.at) / 1000)) * 100;
  }

  peakRssBytes(from: number, to: number): number {
    const w = this.window(from, to);
    return w.length ? Math.max(...w.map((s) => s.rssBytes)) : NaN;
  }
}
