// Command-line flags of `npm run sim`, parsed with node:util parseArgs into fleet options.
// Kept apart from main.ts so the parsing and its error messages are unit-tested.

import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DRIFT_S, DEFAULT_FLOOD_FACTOR, DEFAULT_MAGNITUDE, MAX_ANOMALY_RATE, MAX_ANOMALY_SPECS, MAX_FLOOD_FACTOR, parseAnomalySpec, type AnomalyOptions } from './anomalies.js';
import { ACCESS_KEY_ENV, readCaFile, resolveCredentials } from './credentials.js';
import { SimError } from './errors.js';
import { DEFAULT_FLAP_PERIOD_S, MAX_FAULT_SPECS, parseFaultSpec, type FaultSpec } from './faults.js';
import { FLEET_DEFAULTS, PROVISION_DEFAULTS, resolveFleetOptions, type FleetOptions, type ProvisionSettings } from './options.js';
import { checkPayloadBytes, PAYLOAD_BYTES_RANGE } from './payload.js';
import { DEFAULT_PROFILE, isProfileName, PROFILE_NAMES, PROFILES, type ProfileName } from './profiles/index.js';
import type { RowLatencyOptions } from './row-latency.js';
import { AUTO_SHARD_RATE, autoShards, MAX_SHARDS } from './shard-plan.js';

/** "environment  indoor sensor: ..." lines for --help, wrapped to 100 columns. */
const PROFILE_LINES = PROFILE_NAMES.map((name) => wrap(`${' '.repeat(21)}${name.padEnd(12)} `, PROFILES[name].summary, 100)).join('\n');

function wrap(first: string, text: string, width: number): string {
  const indent = ' '.repeat(first.length);
  const lines = [first];
  for (const word of text.split(' ')) {
    const line = lines[lines.length - 1];
    if (line.length + word.length > width && line.trim() !== '') lines.push(`${indent}${word}`);
    else lines[lines.length - 1] = line.endsWith(' ') ? `${line}${word}` : `${line} ${word}`;
  }
  return lines.join('\n');
}

export const HELP = `Usage: npm run sim -- [options]

Simulates a fleet of MQTT 3.1.1 devices publishing telemetry on devices/<prefix>-<n>/telemetry,
JSON with deviceId, ts (epoch ms), seq and the profile's attributes.

Options:
  --profile NAME   what the devices are (default ${DEFAULT_PROFILE}):
${PROFILE_LINES}
                   plug devices obey their shadow: desired {"power":"on"|"off"} switches them,
                   they report {"state":{"reported":{"power":...}}} at connect and on change
  --payload-bytes N|MIN-MAX  pad every payload with a "pad" string attribute to N bytes, or to
                   sizes spread evenly over MIN..MAX (reproducible: by sequence number)
                   (${PAYLOAD_BYTES_RANGE[0]} to ${PAYLOAD_BYTES_RANGE[1]}; default: no padding)
  --devices N      number of devices (default ${FLEET_DEFAULTS.devices})
  --rate R         messages per second PER DEVICE, fractions allowed, e.g. 0.2
                   (default ${FLEET_DEFAULTS.rate}); the fleet sends about N x R msg/s
  --jitter J       0 to 1: each publish is due up to J x (1/R) after its ideal time, uniformly at
                   random per publish and reproducible per --seed; the mean rate stays R
                   (default 0: exactly periodic)
  --duration S     seconds to publish, 0 = until SIGINT/SIGTERM (default ${FLEET_DEFAULTS.durationS})
  --qos 0|1        publish QoS; with 1 the summary reports PUBACK latency (default ${FLEET_DEFAULTS.qos})
  --max-inflight N QoS 1 publishes a device may have awaiting their PUBACK; a publish due beyond
                   that is skipped and counted (1 to 65535, default ${FLEET_DEFAULTS.maxInflight}, AWS IoT's own limit)
  --tick-ms MS     the scheduler's period: each tick, every device sends what fell due since the
                   last one, in one TCP write; a longer tick costs the simulator and the broker
                   fewer writes at high per-device rates, and sends up to a tick's publishes
                   together (1 to 1000, default ${FLEET_DEFAULTS.tickMs})
  --url URL        broker URL (default mqtt://127.0.0.1:1883, with --provision mqtts://127.0.0.1:8883);
                   ws://host:<http port>/mqtt (or wss://) for MQTT over WebSocket
  --prefix P       client id / device id prefix: <P>-1, <P>-2, ... (default ${FLEET_DEFAULTS.prefix})
  --username U     MQTT username (with --password)
  --password P     MQTT password (with --username)
  --seed N         seed of the simulated values, reproducible per seed (default ${FLEET_DEFAULTS.seed})
  --ramp-up S      seconds over which devices connect, evenly spread (default ${FLEET_DEFAULTS.rampUpMs / 1000})
  --ca FILE        PEM of the CA that signed the broker's certificate, for mqtts:// URLs
                   (with --provision, default: fetched from <endpoint>/api/ca-certificate.pem)

Provisioning (each device connects over mqtts:// with its own certificate):
  --provision      before connecting, create the things <prefix>-<n>, a certificate each
                   (CreateKeysAndCertificate), and the policy <prefix>-fleet-policy allowing
                   each device to connect and publish its telemetry, through the AWS IoT API
  --endpoint URL   AWS IoT API base URL, the broker's HTTP port (default http://<url host>:8080)
  --credentials F  JSON file {"accessKeyId","secretAccessKey"}, e.g. <dataDir>/admin-credentials.json
                   (default: the ${ACCESS_KEY_ENV.accessKeyId} and ${ACCESS_KEY_ENV.secretAccessKey} environment variables)
  --certs-dir DIR  where certificates and keys are cached (files 0600) and reused while the server
                   reports them ACTIVE (default ${PROVISION_DEFAULTS.certsDir})
  --region R       region of the signed API calls (default ${PROVISION_DEFAULTS.region})

Injected anomalies (ground truth for scoring detectors; the payload keeps its fields):
  --anomaly SPEC   repeatable (at most ${MAX_ANOMALY_SPECS}), SPEC is one of
                     spike:M@S[:MAG]       one reading + MAG
                     shift:M@S[:MAG][:Ds]  every reading + MAG
                     drift:M@S[:MAG][:Ds]  + a ramp from 0 to MAG over D (default D ${DEFAULT_DRIFT_S}s)
                     noise:M@S[:SD][:Ds]   + Gaussian noise of standard deviation SD
                     stuck:M@S[:Ds]        the last value sent, repeated (flatline)
                     dropout@S[:Ds]        nothing sent (the device is silent)
                     flood@S[:F][:Ds]      F messages sent per scheduled one, readings normal
                                           (F from 2 to ${MAX_FLOOD_FACTOR}, default ${DEFAULT_FLOOD_FACTOR})
                   M: a numeric metric of the profile (environment: temperature, humidity or
                   battery). S: seconds after the device's first message. MAG/SD: signed, in
                   the metric's unit; environment defaults (temperature °C, humidity %,
                   battery %) spike ${fmt(DEFAULT_MAGNITUDE.spike)}, shift and drift ${fmt(DEFAULT_MAGNITUDE.shift)},
                   noise ${fmt(DEFAULT_MAGNITUDE.noise)}. D: seconds followed by "s"; default: the rest of the run.
                   Values stay in the sensor's range. Example:
                   --anomaly spike:temperature@30:+8 --anomaly stuck:humidity@60:20s
  --anomaly-devices N|IDS  the first N devices, or ids such as sim-3,sim-7 (default 1)
  --anomaly-rate P also random anomalies: probability per chosen device per minute (0 to ${MAX_ANOMALY_RATE})
  --labels FILE    ground truth, one JSON line per anomaly: {deviceId, metric, kind, startTs,
                   endTs, magnitude, messages}, ts of the first and last anomalous message sent

Injected connection faults (abrupt: the socket is destroyed, no MQTT DISCONNECT is sent):
  --fault SPEC     repeatable (at most ${MAX_FAULT_SPECS}), S in seconds after the fleet started:
                     reconnect-storm[:N]@S      all devices (or the first N) drop at once and come
                                                back together after the reconnect period (1 s)
                     flapping:N@S[:Ps]          the first N devices drop every P seconds (default
                                                ${DEFAULT_FLAP_PERIOD_S}s), spread over the period, reconnecting each time
                     abrupt-disconnect:N@S      the last N devices vanish and never come back
                   N: a count (3) or a share of the fleet (25% or 0.25). QoS 1 publishes in flight
                   at a drop are resent after the reconnect (DUP=1); the summary counts them as
                   redelivered or lost. Example: --fault reconnect-storm@20 --fault flapping:10%@5:4s

More than one core:
  --shards N|auto  run the fleet in N processes, each with every N-th device (same ids, seeds
                   and timing as one process); the summary and --report merge them. auto: one
                   process up to ${AUTO_SHARD_RATE} msg/s offered (devices x rate), one per CPU above (default 1)

Publish-to-row latency (how long until a message is a queryable row):
  --metrics-url URL|none  the server's /metrics, read before the run and after it until the rows
                   stop coming (at most 30 s): its histogram of broker-receive-to-commit times
                   gives the percentiles (default http://<url host>:8080/metrics; for ws:// and
                   wss:// URLs the same host and port). none: not measured
  --datastore NAME count the rows of this datastore only (default: every datastore)

  --json           print the summary as JSON on the last line of output
  --report PATH    when the run ends (also on SIGINT/SIGTERM), write PATH.json and PATH.csv: offered
                   and achieved rates, counters, PUBACK and row latency percentiles, options, start and end
                   time, git commit, machine and versions (CSV: a header row and one data row)

While it runs, a progress bar is drawn on stderr when stderr is a terminal and --json is not given.
  -h, --help       show this help

On SIGINT/SIGTERM the run stops, waits briefly for outstanding PUBACKs and prints the summary.`;

/** "+10/+30/-30": a default magnitude per metric, for --help. */
function fmt(perMetric: Record<string, number>): string {
  return Object.values(perMetric)
    .map((v) => `${v > 0 ? '+' : ''}${v}`)
    .join('/');
}

/** `report`: the --report PATH, without the .json/.csv extensions; `shards`: processes, present
 * only when more than one */
export type CliCommand =
  | { kind: 'help' }
  | { kind: 'run'; options: FleetOptions; json: boolean; report?: string; shards?: number; rowLatency?: RowLatencyOptions };

const DEFAULT_URL = 'mqtt://127.0.0.1:1883';
const DEFAULT_PROVISION_URL = 'mqtts://127.0.0.1:8883';
const DEFAULT_API_PORT = 8080;

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

/** `env` supplies the AWS_* access key when --provision is given without --credentials. */
export function parseCliArgs(argv: string[], env: Record<string, string | undefined> = process.env): CliCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        devices: { type: 'string' },
        rate: { type: 'string' },
        jitter: { type: 'string' },
        duration: { type: 'string' },
        qos: { type: 'string' },
        'max-inflight': { type: 'string' },
        'tick-ms': { type: 'string' },
        url: { type: 'string' },
        prefix: { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        seed: { type: 'string' },
        'ramp-up': { type: 'string' },
        ca: { type: 'string' },
        provision: { type: 'boolean', default: false },
        endpoint: { type: 'string' },
        credentials: { type: 'string' },
        'certs-dir': { type: 'string' },
        region: { type: 'string' },
        anomaly: { type: 'string', multiple: true },
        'anomaly-devices': { type: 'string' },
        'anomaly-rate': { type: 'string' },
        labels: { type: 'string' },
        profile: { type: 'string' },
        'payload-bytes': { type: 'string' },
        fault: { type: 'string', multiple: true },
        shards: { type: 'string' },
        json: { type: 'boolean', default: false },
        report: { type: 'string' },
        'metrics-url': { type: 'string' },
        datastore: { type: 'string' },
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
  const profile = values.profile ?? DEFAULT_PROFILE;
  if (!isProfileName(profile)) invalid(`--profile must be one of ${PROFILE_NAMES.join(', ')}, got "${profile}"`);
  const { payloadBytes, payloadBytesMax } = payloadBytesFlag(values['payload-bytes']);
  const url = values.url ?? (values.provision ? DEFAULT_PROVISION_URL : DEFAULT_URL);
  const provision = values.provision ? provisionSettings(values, url, env) : undefined;
  if (!values.provision) {
    const onlyWithProvision = (['endpoint', 'credentials', 'certs-dir', 'region'] as const).filter((flag) => values[flag] !== undefined);
    if (onlyWithProvision.length > 0) invalid(`--${onlyWithProvision[0]} only applies with --provision`);
  }
  if (values.ca !== undefined) {
    if (!url.startsWith('mqtts://') && !url.startsWith('wss://')) invalid(`--ca only applies to mqtts:// (or wss://) URLs, got "${url}"`);
    guard(() => readCaFile(values.ca!)); // a missing file fails now, not after the fleet started
  }
  const input = {
    url,
    devices: numberFlag('devices', values.devices),
    rate: numberFlag('rate', values.rate),
    jitter: numberFlag('jitter', values.jitter),
    durationS: numberFlag('duration', values.duration),
    qos: qos as 0 | 1 | undefined,
    maxInflight: numberFlag('max-inflight', values['max-inflight']),
    tickMs: numberFlag('tick-ms', values['tick-ms']),
    prefix: values.prefix,
    username: values.username,
    password: values.password,
    seed: numberFlag('seed', values.seed),
    rampUpMs: rampUpS === undefined ? undefined : rampUpS * 1000,
    provision,
    caFile: values.ca,
    anomalies: anomalyOptions(values, profile),
    profile,
    payloadBytes,
    ...(payloadBytesMax === undefined ? {} : { payloadBytesMax }),
    faults: faultSpecs(values.fault),
  };
  let options: FleetOptions;
  try {
    options = resolveFleetOptions(input);
  } catch (error) {
    // The remaining checks name the option first ("devices must be ..."): name its flag instead.
    if (error instanceof SimError) invalid(`--${flagNamed(error.message)}`);
    throw error;
  }
  const report = reportPath(values.report);
  const shards = shardCount(values.shards, options);
  const rowLatency = rowLatencyOptions(values['metrics-url'], values.datastore, url);
  return {
    kind: 'run',
    options,
    json: values.json ?? false,
    ...(report !== undefined ? { report } : {}),
    ...(shards > 1 ? { shards } : {}),
    ...(rowLatency ? { rowLatency } : {}),
  };
}

/** Fleet options whose flag is spelled differently; the others' names are their flags. */
const FLAG_OF_OPTION = new Map([['maxInflight', 'max-inflight'], ['tickMs', 'tick-ms']]);

/** "maxInflight must be ..." -> "max-inflight must be ...". */
function flagNamed(message: string): string {
  const option = /^\w+/.exec(message)?.[0];
  const flag = option === undefined ? undefined : FLAG_OF_OPTION.get(option);
  return flag === undefined ? message : flag + message.slice(option!.length);
}

/** --metrics-url and --datastore; undefined for --metrics-url none. */
function rowLatencyOptions(raw: string | undefined, datastore: string | undefined, url: string): RowLatencyOptions | undefined {
  if (raw?.trim().toLowerCase() === 'none') {
    if (datastore !== undefined) invalid('--datastore only applies when the latency is measured (not with --metrics-url none)');
    return undefined;
  }
  if (datastore !== undefined && !/^[a-zA-Z0-9_]{1,128}$/.test(datastore)) {
    invalid(`--datastore must be a datastore name (letters, digits, underscores; at most 128), got "${datastore}"`);
  }
  const metricsUrl = raw === undefined ? defaultMetricsUrl(url) : httpUrl(raw);
  return { metricsUrl, ...(datastore !== undefined ? { datastore } : {}) };
}

function httpUrl(raw: string): string {
  const parsed = URL.canParse(raw) ? new URL(raw) : undefined;
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) invalid(`--metrics-url must be an http:// or https:// URL or "none", got "${raw}"`);
  return parsed.toString();
}

/** The broker's /metrics: a ws:// or wss:// URL already names the HTTP port; otherwise 8080. */
function defaultMetricsUrl(url: string): string {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (parsed?.protocol === 'ws:' || parsed?.protocol === 'wss:') return `${parsed.protocol === 'wss:' ? 'https' : 'http'}://${parsed.host}/metrics`;
  return `${defaultEndpoint(url)}/metrics`; // which reports a URL it cannot parse
}

/** --fault SPEC..., checked against the fleet's size by resolveFleetOptions. */
function faultSpecs(texts: string[] | undefined): FaultSpec[] | undefined {
  if (texts === undefined || texts.length === 0) return undefined;
  if (texts.length > MAX_FAULT_SPECS) invalid(`--fault may be given at most ${MAX_FAULT_SPECS} times, got ${texts.length}`);
  return texts.map((text) => {
    try {
      return parseFaultSpec(text);
    } catch (error) {
      if (error instanceof SimError) invalid(`--${error.message}`); // "fault "...": why" names the flag
      throw error;
    }
  });
}

/** --shards N|auto: a whole number of processes, at most one per device. */
function shardCount(raw: string | undefined, options: FleetOptions): number {
  if (raw === undefined) return 1;
  if (raw.trim().toLowerCase() === 'auto') return autoShards(options.devices, options.rate);
  if (!/^\s*\d+\s*$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_SHARDS) invalid(`--shards must be "auto" or a whole number from 1 to ${MAX_SHARDS}, got "${raw}"`);
  const shards = Number(raw);
  if (shards > options.devices) invalid(`--shards ${shards} is more than --devices ${options.devices}: every shard needs a device`);
  return shards;
}

interface AnomalyFlags {
  anomaly?: string[];
  'anomaly-devices'?: string;
  'anomaly-rate'?: string;
  labels?: string;
}

/** The anomaly flags, metrics those of `profile`; the devices are checked against the fleet by
 * resolveFleetOptions. */
function anomalyOptions(values: AnomalyFlags, profile: ProfileName): AnomalyOptions | undefined {
  const texts = values.anomaly ?? [];
  const rate = numberFlag('anomaly-rate', values['anomaly-rate']);
  if (texts.length === 0 && rate === undefined) {
    const orphan = (['anomaly-devices', 'labels'] as const).find((flag) => values[flag] !== undefined);
    if (orphan) invalid(`--${orphan} only applies with --anomaly or --anomaly-rate`);
    return undefined;
  }
  if (texts.length > MAX_ANOMALY_SPECS) invalid(`--anomaly may be given at most ${MAX_ANOMALY_SPECS} times, got ${texts.length}`);
  const specs = texts.map((text) => {
    try {
      return parseAnomalySpec(text, profile);
    } catch (error) {
      if (error instanceof SimError) invalid(`--${error.message}`); // "anomaly "...": why" names the flag
      throw error;
    }
  });
  if (values.labels === '') invalid('--labels must name a file');
  if (values.labels !== undefined && !isDirectory(dirname(values.labels))) {
    invalid(`--labels "${values.labels}": the directory ${dirname(values.labels)} does not exist`);
  }
  return { specs, devices: anomalyDevices(values['anomaly-devices']), ratePerMinute: rate ?? 0, labelsFile: values.labels };
}

/** --payload-bytes N or MIN-MAX (sizes spread over the range, reproducibly by sequence number). */
function payloadBytesFlag(raw: string | undefined): { payloadBytes?: number; payloadBytesMax?: number } {
  if (raw === undefined) return {};
  const range = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(raw);
  const [min, max] = range ? [Number(range[1]), Number(range[2])] : [numberFlag('payload-bytes', raw)!, undefined];
  guard(() => checkPayloadBytes(min, '--payload-bytes'));
  if (max === undefined) return { payloadBytes: min };
  guard(() => checkPayloadBytes(max, '--payload-bytes'));
  if (max < min) invalid(`--payload-bytes range must run from the smaller to the larger size, got "${raw}"`);
  return { payloadBytes: min, payloadBytesMax: max };
}

/** --report PATH: checked now so a typo does not cost the whole run; a given .json/.csv is dropped. */
function reportPath(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const path = raw.replace(/\.(json|csv)$/i, '');
  if (path === '' || path.endsWith('/')) invalid(`--report must name a file path (PATH.json and PATH.csv are written), got "${raw}"`);
  if (!isDirectory(dirname(path))) invalid(`--report "${raw}": the directory ${dirname(path)} does not exist`);
  return path;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** "3" = the first three devices; otherwise comma-separated device ids. */
function anomalyDevices(raw: string | undefined): number | string[] | undefined {
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const ids = trimmed.split(',').map((id) => id.trim());
  if (ids.some((id) => id === '')) invalid(`--anomaly-devices expects a count or comma-separated device ids, got "${raw}"`);
  return ids;
}

interface ProvisionFlags {
  url?: string;
  username?: string;
  endpoint?: string;
  credentials?: string;
  'certs-dir'?: string;
  region?: string;
}

function provisionSettings(values: ProvisionFlags, url: string, env: Record<string, string | undefined>): ProvisionSettings {
  if (!url.startsWith('mqtts://')) {
    invalid(`--provision needs an mqtts:// --url (devices authenticate with their certificates over TLS), got "${url}"`);
  }
  if (values.username !== undefined) invalid('--username/--password cannot be combined with --provision (each device uses its certificate)');
  const credentials = guard(() => resolveCredentials(values.credentials, env));
  if (!credentials) {
    invalid(
      `--provision needs an access key: --credentials FILE (the server writes <dataDir>/admin-credentials.json) ` +
        `or the ${ACCESS_KEY_ENV.accessKeyId} and ${ACCESS_KEY_ENV.secretAccessKey} environment variables`,
    );
  }
  if (values['certs-dir'] === '') invalid('--certs-dir must name a directory');
  return {
    endpoint: values.endpoint ?? defaultEndpoint(url),
    credentials,
    region: values.region ?? PROVISION_DEFAULTS.region,
    certsDir: values['certs-dir'] ?? PROVISION_DEFAULTS.certsDir,
    concurrency: PROVISION_DEFAULTS.concurrency,
  };
}

/** The broker's HTTP port on the MQTT URL's host. */
function defaultEndpoint(url: string): string {
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    invalid(`--url must look like mqtts://host:port, got "${url}"`);
  }
  return `http://${hostname}:${DEFAULT_API_PORT}`;
}

/** Runs a check that throws SimError and adds the pointer to --help. */
function guard<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof SimError) invalid(error.message);
    throw error;
  }
}
