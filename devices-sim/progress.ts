// The live progress bar on stderr (TTY only; main.ts decides): elapsed/duration, sent, acked,
// msg/s, errors, connected. The only file that imports cli-progress, chosen because it redraws one
// line in place, keeps log lines above the bar (MultiBar.log) and restores the cursor on stop.

import cliProgress from 'cli-progress';
import type { FleetCounters } from './device.js';

export interface ProgressFields {
  elapsed: string;
  limit: string;
  sent: number;
  acked: string;
  rate: string;
  errors: number;
  connected: string;
}

/** cli-progress format: with a bar for a timed run; without one for a run until Ctrl-C. */
export function progressFormat(durationS: number): string {
  const tail = 'sent {sent} | acked {acked} | {rate} msg/s | errors {errors} | connected {connected}';
  return durationS > 0 ? `sim [{bar}] {elapsed}/{limit} | ${tail}` : `sim {elapsed} | ${tail}`;
}

/** "75s", "1m05s", "1h02m03s". */
export function formatSeconds(totalS: number): string {
  const s = Math.max(0, Math.floor(totalS));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${String(rest).padStart(2, '0')}s`;
  if (m > 0) return `${m}m${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

/** The bar's tokens. `rate` is the send rate over the last update interval (msg/s). */
export function progressFields(
  counters: Readonly<FleetCounters>,
  run: { devices: number; qos: 0 | 1; durationS: number },
  elapsedMs: number,
  rate: number,
): ProgressFields {
  return {
    elapsed: formatSeconds(elapsedMs / 1000),
    limit: run.durationS > 0 ? formatSeconds(run.durationS) : '∞',
    sent: counters.sent,
    acked: run.qos === 1 ? String(counters.acknowledged) : 'n/a',
    rate: (Math.round(rate * 10) / 10).toFixed(1),
    errors: counters.errors,
    connected: `${counters.connected}/${run.devices}`,
  };
}

export interface ProgressBar {
  /** a line printed above the bar, which stays at the bottom */
  log(line: string): void;
  stop(): void;
}

/** Starts redrawing every `intervalMs`; stop() leaves the last state on screen. */
export function startProgressBar(
  counters: Readonly<FleetCounters>,
  run: { devices: number; qos: 0 | 1; durationS: number },
  stream: NodeJS.WriteStream = process.stderr,
  intervalMs = 500,
): ProgressBar {
  const multi = new cliProgress.MultiBar(
    { stream, format: progressFormat(run.durationS), hideCursor: true, clearOnComplete: false, fps: 5, barsize: 20, autopadding: true },
    cliProgress.Presets.shades_classic,
  );
  const startedAt = performance.now();
  const total = run.durationS > 0 ? run.durationS : 1;
  let last = { at: startedAt, sent: 0 };
  const fieldsNow = () => {
    const now = performance.now();
    const dt = (now - last.at) / 1000;
    const rate = dt > 0 ? (counters.sent - last.sent) / dt : 0;
    last = { at: now, sent: counters.sent };
    return progressFields(counters, run, now - startedAt, rate);
  };
  const bar = multi.create(total, 0, fieldsNow());
  const timer = setInterval(() => {
    const elapsedS = (performance.now() - startedAt) / 1000;
    bar.update(run.durationS > 0 ? Math.min(total, elapsedS) : 0, fieldsNow());
  }, intervalMs);
  timer.unref();
  return {
    log: (line) => multi.log(`${line}\n`),
    stop: () => {
      clearInterval(timer);
      bar.update(run.durationS > 0 ? Math.min(total, (performance.now() - startedAt) / 1000) : 0, fieldsNow());
      multi.stop();
    },
  };
}
