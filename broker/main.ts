// Process entry: `npm start` (the server) and `npm run demo` (the server plus a simulated fleet).
// Flags override IOT_* environment variables, which override the config file's `server` section.
import { parseArgs } from 'node:util';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { startServer, type RunningServer } from './server.js';

const HELP = `iotcore — self-hosted IoT telemetry platform

Usage: npm start -- [options]      (npm run demo -- [options] adds a simulated fleet)

Options:
  --config FILE        configuration file (JSON); default: the embedded demo configuration   [IOT_CONFIG]
  --data-dir DIR       data directory (DuckDB file, channel archive, ports.json); default ./data [IOT_DATA_DIR]
  --http-port N        HTTP port (APIs, dashboard, /mqtt WebSocket); 0 = any free port; default 8080 [IOT_HTTP_PORT]
  --mqtt-port N        MQTT TCP port; 0 = any free port; default 1883                          [IOT_MQTT_PORT]
  --mqtts-port N       MQTT over TLS (device certificates); 0 = any free port; default 8883    [IOT_MQTTS_PORT]
  --host ADDR          address to listen on; default 0.0.0.0                                    [IOT_HOST]
  --log-level LEVEL    fatal|error|warn|info|debug|trace|silent; default info                   [IOT_LOG_LEVEL]
  (environment only)   IOT_ALLOW_ANONYMOUS=true lets MQTT clients connect without credentials (development only)
  (environment only)   IOT_OPERATOR_PASSWORD (12-256 characters) sets the password of the operator
                       IOT_OPERATOR_USERNAME (default admin) at every start; without it the first start
                       writes a random one to <data dir>/operator-credentials.json
  --demo               also run a simulated fleet (5 devices, 1 msg/s each) against this server
  --demo-devices N     size of the demo fleet; default 5
  --help               print this help
`;

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        'http-port': { type: 'string' },
        'mqtt-port': { type: 'string' },
        'mqtts-port': { type: 'string' },
        host: { type: 'string' },
        'log-level': { type: 'string' },
        demo: { type: 'boolean', default: false },
        'demo-devices': { type: 'string', default: '5' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`iotcore: ${(err as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(HELP);
    return;
  }

  const server = await startServer({
    config: args.config,
    dataDir: args['data-dir'],
    httpPort: portFlag(args['http-port'], '--http-port'),
    mqttPort: portFlag(args['mqtt-port'], '--mqtt-port'),
    mqttsPort: portFlag(args['mqtts-port'], '--mqtts-port'),
    host: args.host,
    logLevel: args['log-level'] as never,
    env: process.env,
  });
  console.log(`iotcore ready: MQTT on port ${server.mqttPort}, MQTT over TLS on port ${server.mqttsPort}, HTTP on http://localhost:${server.httpPort}/ (data in ${server.dataDir})`);
  console.log(signInHint(server));

  const fleet = args.demo ? startDemoFleet(server, Number(args['demo-devices'])) : undefined;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`iotcore: ${signal} received, flushing and stopping`);
    fleet?.kill('SIGINT');
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** How an operator signs in to the dashboard; names where the password is, never the password. */
function signInHint(server: RunningServer): string {
  const url = `http://localhost:${server.httpPort}/`;
  if (process.env.IOT_OPERATOR_PASSWORD) return `sign in at ${url} as "${process.env.IOT_OPERATOR_USERNAME || 'admin'}" with the password in IOT_OPERATOR_PASSWORD`;
  if (existsSync(server.operatorCredentialsFile)) return `sign in at ${url} with the username and password in ${server.operatorCredentialsFile} (made at the first start; valid until that password is changed)`;
  return `sign in at ${url} with an operator account (README "Operators and sign-in")`;
}

function portFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    console.error(`iotcore: ${flag} must be a whole number (0 = any free port), got "${value}"`);
    process.exit(2);
  }
  return Number(value);
}

/** The simulator runs as its own process: it talks to the broker only over the network. With
 * anonymous MQTT refused, it provisions its devices first (things, certificates in
 * `<dataDir>/demo-certs`, reused across restarts, a fleet policy) and connects over TLS. The admin
 * key goes through the environment, not argv: it is the right key whether it came from
 * IOT_ADMIN_* or from the credentials file. */
function startDemoFleet(server: RunningServer, devices: number): ChildProcess {
  const sim = fileURLToPath(new URL('../devices-sim/main.ts', import.meta.url));
  const args = [
    '--devices', String(devices), '--rate', '1', '--duration', '0', '--qos', '1', '--prefix', 'demo',
    // now and then an injected anomaly on some device, so the default detectors have something to report
    '--anomaly-devices', String(devices), '--anomaly-rate', '0.05',
    '--provision', '--url', `mqtts://127.0.0.1:${server.mqttsPort}`, '--endpoint', `http://127.0.0.1:${server.httpPort}`,
    '--certs-dir', join(server.dataDir, 'demo-certs'), '--region', server.config.server.region,
    // it runs until the server stops, when /metrics goes with it: no row latency to wait for
    '--metrics-url', 'none',
  ];
  // The SDK's notice that its 2027 releases need Node 22 concerns whoever upgrades it, not a demo run.
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: server.adminCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.adminCredentials.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const child = spawn(process.execPath, [...process.execArgv, sim, ...args], { stdio: ['ignore', 'inherit', 'inherit'], env });
  child.on('exit', (code) => {
    if (code) console.error(`iotcore: the demo fleet exited with code ${code}`);
  });
  return child;
}

main().catch((err: Error & { code?: string }) => {
  console.error(`iotcore: failed to start: ${err.code ? `${err.code}: ` : ''}${err.message}`);
  process.exit(1);
});
