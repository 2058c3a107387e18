// CLI entry: `npm run sim -- --devices N --rate R --duration S ...` (see --help).
// Everything but flag handling, signals and printing lives in the importable modules.

import { writeFileSync } from 'node:fs';
import { HELP, parseCliArgs, type CliCommand } from './cli-args.js';
import { SimError } from './errors.js';
import { startFleet } from './fleet.js';
import type { FleetOptions } from './options.js';
import { startProgressBar, type ProgressBar } from './progress.js';
import { formatSummary, type Summary } from './report.js';
import { runEnvironment } from './run-environment.js';
import { RowLatencyProbe, type RowLatencyOptions, type RowLatencySummary } from './row-latency.js';
import { buildRunReport, toCsv, type RunOutcome } from './run-report.js';
import { startShardedFleet } from './sharded-fleet.js';

function parseOrExit(): CliCommand {
  try {
    return parseCliArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof SimError) {
      process.stderr.write(`sim: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

function printSummary(summary: Summary, json: boolean): void {
  process.stdout.write(`${formatSummary(summary)}\n`);
  // Last line, so a benchmark script can parse it with JSON.parse(lastLine).
  if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
}

/** PATH.json and PATH.csv; a failure to write is reported but does not hide the summary. */
function writeReport(path: string, summary: Summary, options: FleetOptions, startedAt: Date, outcome: RunOutcome, shards: number): void {
  const report = buildRunReport(summary, { ...options, shards }, { startedAt, endedAt: new Date(), outcome }, runEnvironment());
  try {
    writeFileSync(`${path}.json`, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(`${path}.csv`, toCsv(report));
    process.stderr.write(`sim: report written to ${path}.json and ${path}.csv\n`);
  } catch (error) {
    process.stderr.write(`sim: writing the report ${path}.json/.csv failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}

/** The /metrics reading before the run; a server without it costs the latency, not the run. */
async function startProbe(options: RowLatencyOptions): Promise<RowLatencyProbe | undefined> {
  try {
    return await RowLatencyProbe.start(options);
  } catch (error) {
    process.stderr.write(`sim: publish-to-row latency will not be measured: ${(error as Error).message} (--metrics-url none turns this off)\n`);
    return undefined;
  }
}

async function finishProbe(probe: RowLatencyProbe | undefined, sent: number): Promise<RowLatencySummary | null> {
  if (!probe) return null;
  if (sent > 0) process.stderr.write('sim: waiting for the last rows to be committed (at most 30 s)...\n');
  try {
    return await probe.finish(sent > 0 ? {} : { quietMs: 0 });
  } catch (error) {
    process.stderr.write(`sim: publish-to-row latency not measured: ${(error as Error).message}\n`);
    return null;
  }
}

async function main(): Promise<void> {
  const command = parseOrExit();
  if (command.kind === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const { options, json, report, rowLatency } = command;
  const shards = command.shards ?? 1;
  const startedAt = new Date();
  const abort = new AbortController();
  // stdout stays the summary alone; the bar is for a person watching a terminal
  let bar: ProgressBar | undefined;
  const log = (line: string) => (bar ? bar.log(`sim: ${line}`) : process.stderr.write(`sim: ${line}\n`));
  let signals = 0;
  const onSignal = (name: string) => {
    signals++;
    if (signals > 1) process.exit(130); // a second Ctrl-C means "now"
    log(`${name}, stopping and draining...`);
    abort.abort();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  const perSecond = options.devices * options.rate;
  process.stderr.write(
    `sim: ${options.devices} devices x ${options.rate} msg/s (~${perSecond} msg/s) QoS ${options.qos} -> ${options.url}` +
      `${options.durationS > 0 ? ` for ${options.durationS} s` : ' until Ctrl-C'}` +
      `${options.provision ? `, provisioning through ${options.provision.endpoint} first` : ''}` +
      `${shards > 1 ? `, in ${shards} processes` : ''}\n`,
  );
  const probe = rowLatency ? await startProbe(rowLatency) : undefined;
  const run = shards > 1 ? startShardedFleet({ ...options, signal: abort.signal, log }, shards) : startFleet({ ...options, signal: abort.signal, log });
  let progress: NodeJS.Timeout | undefined;
  if (process.stderr.isTTY && !json) {
    bar = startProgressBar(run.counters, options);
  } else {
    progress = setInterval(() => {
      const c = run.counters;
      process.stderr.write(`sim: connected ${c.connected}, sent ${c.sent}, acked ${c.acknowledged}, errors ${c.errors}\n`);
    }, 5000);
    progress.unref();
  }
  const stopProgress = () => {
    clearInterval(progress);
    bar?.stop();
    bar = undefined;
  };
  try {
    const summary = await run.done;
    stopProgress();
    if (rowLatency) summary.rowLatencyMs = await finishProbe(probe, summary.sent);
    printSummary(summary, json);
    if (report !== undefined) writeReport(report, summary, options, startedAt, abort.signal.aborted ? 'interrupted' : 'completed', shards);
  } catch (error) {
    stopProgress();
    const summary = (error as { summary?: Summary }).summary;
    if (summary) printSummary(summary, json);
    process.stderr.write(`sim: ${(error as Error).message}\n`);
    process.exitCode = 1;
    if (summary && report !== undefined) writeReport(report, summary, options, startedAt, 'failed', shards);
  }
  process.exit(); // mqtt.js reconnect timers of never-connected clients must not keep us alive
}

await main();
