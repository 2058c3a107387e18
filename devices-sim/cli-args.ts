// Command-line flags of `npm run sim`, parsed with node:util parseArgs into fleet options.
// Kept apart from main.ts so the parsing and its error messages are unit-tested.

import { parseArgs } from 'node:util';
import { SimError } from './errors.js';
import { FLEET_DEFAULTS, resolveFleetOptions, type FleetOptions } from './options.js';

export const HELP = `Usage: npm run sim -- [options]

Simulates a fleet of MQTT 3.1.1 devices publishing environmental telemetry
(temperature, humidity, battery) on devices/<prefix>-<n>/telemetry.

Options:
  --devices N      number of devices (default ${FLEET_DEFAULTS.devices})
  --rate R         messages per second PER DEVICE, fractions allowed, e.g. 0.2
                   (default ${FLEET_DEFAULTS.rate}); the fleet sends about N x R msg/s
  --duration S     seconds to publish, 0 = until SIGINT/SIGTERM (default ${FLEET_DEFAULTS.durationS})
  --qos 0|1        publish QoS; with 1 the summary reports PUBACK latency (default ${FLEET_DEFAULTS.qos})
  --url URL        broker URL (default mqtt://127.0.0.1:1883)
  --prefix P       client id / device id prefix: <P>-1, <P>-2, ... (default ${FLEET_DEFAULTS.prefix})
  --username U     MQTT username (with --password)
  --password P     MQTT password (with --username)
  --seed N         seed of the simulated values, reproducible per seed (default ${FLEET_DEFAULTS.seed})
  --ramp-up S      seconds over which devices connect, evenly spread (default ${FLEET_DEFAULTS.rampUpMs / 1000})
  --json           print the summary as JSON on the last line of output
  -h, --help       show this help

On SIGINT/SIGTERM the run stops, waits briefly for outstanding PUBACKs and prints the summary.`;

export type CliCommand = { kind: 'help' } | { kind: 'run'; options: FleetOptions; json: boolean };

const DEFAULT_URL = 'mqtt://127.0.0.1:1883';

function invalid(message: string): never {
  throw new SimError('InvalidArgumentException', `${message} (see --help)`);
}

/** A flag's value as a number, with the flag's name in the error. */
function numberFlag(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  const value = trimmed === '' ? Number.NaN : Number(trimmed);
  if (!Number.isFinite(value)) invalid(`--${name} expects a number, got "${raw}"`);
  return value;
}

export function parseCliArgs(argv: string[]): CliCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        devices: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        qos: { type: 'string' },
        url: { type: 'string', default: DEFAULT_URL },
        prefix: { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        seed: { type: 'string' },
        'ramp-up': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    // parseArgs' own messages name the offending flag; keep them, give them our code.
    invalid((error as Error).message);
  }
  if (values.help) return { kind: 'help' };

  const qos = numberFlag('qos', values.qos);
  if (qos !== undefined && qos !== 0 && qos !== 1) invalid(`--qos must be 0 or 1, got "${values.qos}"`);
  const rampUpS = numberFlag('ramp-up', values['ramp-up']);
  if (rampUpS !== undefined && !(rampUpS >= 0 && rampUpS <= 3600)) {
    invalid(`--ramp-up must be between 0 and 3600 seconds, got "${values['ramp-up']}"`);
  }
  if ((values.username === undefined) !== (values.password === undefined)) {
    invalid('--username and --password must be given together');
  }
  const input = {
    url: values.url ?? DEFAULT_URL,
    devices: numberFlag('devices', values.devices),
    rate: numberFlag('rate', values.rate),
    durationS: numberFlag('duration', values.duration),
    qos: qos as 0 | 1 | undefined,
    prefix: values.prefix,
    username: values.username,
    password: values.password,
    seed: numberFlag('seed', values.seed),
    rampUpMs: rampUpS === undefined ? undefined : rampUpS * 1000,
  };
  let options: FleetOptions;
  try {
    options = resolveFleetOptions(input);
  } catch (error) {
    // The remaining checks name the option first ("devices must be ..."), which is the flag.
    if (error instanceof SimError) invalid(`--${error.message}`);
    throw error;
  }
  return { kind: 'run', options, json: values.json ?? false };
}
