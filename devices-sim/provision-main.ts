// CLI entry: `npm run provision -- --thing NAME [--out DIR]` (see --help). Prints, per thing, the
// files written and an `npx mqtt pub` line that publishes as that device over TLS.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProvisionArgs, PROVISION_HELP } from './provision-args.js';
import { cachedFilePaths, provisionThings } from './provision.js';
import { SimError } from './errors.js';
import { telemetryTopic } from './topics.js';

/** A message the default pipeline keeps (its filter wants a plausible battery level). */
function sampleTelemetry(deviceId: string): string {
  return JSON.stringify({ deviceId, temperature: 21.5, humidity: 40, battery: 88 });
}

async function main(): Promise<void> {
  const command = parseProvisionArgs(process.argv.slice(2), process.env);
  if (command.kind === 'help') {
    process.stdout.write(`${PROVISION_HELP}\n`);
    return;
  }
  const { settings, thingNames, policyName } = command;
  const result = await provisionThings(settings, { thingNames, policyName });
  const caPath = join(settings.certsDir, 'ca.pem');
  writeFileSync(caPath, result.ca);
  const host = new URL(settings.endpoint).hostname;
  for (const device of result.devices) {
    const files = cachedFilePaths(settings.certsDir, device.clientId);
    process.stdout.write(
      `${device.clientId}: ${files.cert}, ${files.key}, ${caPath} (policy ${result.policyName})\n` +
        `  npx mqtt pub -C mqtts -h ${host} -p 8883 --ca ${caPath} --cert ${files.cert} --key ${files.key} ` +
        `-i ${device.clientId} -q 1 -t ${telemetryTopic(device.clientId)} -m '${sampleTelemetry(device.clientId)}'\n`,
    );
  }
  process.stderr.write(`provision: ${result.issued} certificate(s) issued, ${result.reused} reused\n`);
}

main().catch((error: unknown) => {
  if (error instanceof SimError) {
    process.stderr.write(`provision: ${error.message}\n`);
    process.exit(error.code === 'InvalidArgumentException' ? 2 : 1);
  }
  throw error;
});
