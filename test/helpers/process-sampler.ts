// Samples another process's resident memory and open file descriptors from /proc (Linux), for
// tests that watch a server for leaks over time; the series goes to a CSV a person can plot.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcessSample {
  /** seconds since the sampler started */
  t: number;
  /** what the test was doing then */
  phase: string;
  rssMiB: number;
  fds: number;
  /** of which sockets */
  sockets: number;
  /** anything else the test records per sample (e.g. connected clients, acknowledged messages) */
  extra: Record<string, number>;
}

/** VmRSS and the descriptor counts of `pid` now; undefined once the process is gone. */
export function readProcess(pid: number): { rssMiB: number; fds: number; sockets: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
    const fds = readdirSync(`/proc/${pid}/fd`);
    let sockets = 0;
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
      } catch {
        // closed between the listing and the readlink
      }
    }
    return { rssMiB: kib / 1024, fds: fds.length, sockets };
  } catch {
    return undefined;
  }
}

/** What `pid` has open that is not a socket (files, pipes, event fds), for a failure message. */
export function openFiles(pid: number): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (!target.startsWith('socket:')) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out.sort();
}

export interface Sampler {
  readonly samples: ProcessSample[];
  /** the phase later samples are labelled with */
  phase: string;
  /** values copied into each later sample's `extra` */
  readonly extra: Record<string, number>;
  stop(): void;
  /** the series as CSV: t_s, phase, rss_mib, fds, sockets, then the extra columns */
  csv(): string;
}

/** Samples `pid` every `intervalMs` until stopped (or the process is gone). */
export function startSampler(pid: number, intervalMs = 1000): Sampler {
  const started = performance.now();
  const samples: ProcessSample[] = [];
  const extra: Record<string, number> = {};
  const sampler: Sampler = {
    samples,
    phase: 'start',
    extra,
    stop: () => clearInterval(timer),
    csv() {
      const keys = [...new Set(samples.flatMap((s) => Object.keys(s.extra)))];
      const lines = samples.map((s) => [s.t.toFixed(1), s.phase, s.rssMiB.toFixed(1), s.fds, s.sockets, ...keys.map((k) => s.extra[k] ?? '')].join(','));
      return `${['t_s', 'phase', 'rss_mib', 'fds', 'sockets', ...keys].join(',')}\n${lines.join('\n')}\n`;
    },
  };
  const take = (): void => {
    const now = readProcess(pid);
    if (!now) return;
    samples.push({ t: (performance.now() - started) / 1000, phase: sampler.phase, ...now, extra: { ...extra } });
  };
  const timer = setInterval(take, intervalMs);
  take();
  return sampler;
}

/** Least-squares slope of y over x (units of y per unit of x). */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
