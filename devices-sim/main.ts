// CLI entry: `npm run sim -- --devices N --rate R --duration S ...` (see --help).
// Everything but flag handling, signals and printing lives in the importable modules.

import { HELP, parseCliArgs, type CliCommand } from './cli-args.js';
import { SimError } from './errors.js';
import { startFleet } from './fleet.js';
import { formatSummary, type Summary } from './report.js';

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

async function main(): Promise<void> {
  const command = parseOrExit();
  if (command.kind === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const { options, json } = command;
  const abort = new AbortController();
  let signals = 0;
  const onSignal = (name: string) => {
    signals++;
    if (signals > 1) process.exit(130); // a second Ctrl-C means "now"
    process.stderr.write(`sim: ${name}, stopping and draining...\n`);
    abort.abort();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  const perSecond = options.devices * options.rate;
  process.stderr.write(
    `sim: ${options.devices} devices x ${options.rate} msg/s (~${perSecond} msg/s) QoS ${options.qos} -> ${options.url}` +
      `${options.durationS > 0 ? ` for ${options.durationS} s` : ' until Ctrl-C'}` +
      `${options.provision ? `, provisioning through ${options.provision.endpoint} first` : ''}\n`,
  );
  const log = (line: string) => process.stderr.write(`sim: ${line}\n`);
  const run = startFleet({ ...options, signal: abort.signal, log });
  const progress = setInterval(() => {
    const c = run.counters;
    process.stderr.write(`sim: connected ${c.connected}, sent ${c.sent}, acked ${c.acknowledged}, errors ${c.errors}\n`);
  }, 5000);
  progress.unref();
  try {
    printSummary(await run.done, json);
  } catch (error) {
    const summary = (error as { summary?: Summary }).summary;
    if (summary) printSummary(summary, json);
    process.stderr.write(`sim: ${(error as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    clearInterval(progress);
  }
  process.exit(); // mqtt.js reconnect timers of never-connected clients must not keep us alive
}

await main();
