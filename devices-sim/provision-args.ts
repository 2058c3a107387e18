// Command-line flags of `npm run provision`: one or more things by name, each given a certificate
// and the device policy, with the files a device (or `npx mqtt pub`) needs written to one folder.
// Kept apart from provision-main.ts so parsing and its messages are unit-tested.

import { parseArgs } from 'node:util';
import { ACCESS_KEY_ENV, resolveCredentials } from './credentials.js';
import { SimError } from './errors.js';
import { PROVISION_DEFAULTS, type ProvisionSettings } from './options.js';

export const DEVICE_POLICY_NAME = 'iotcore-device-policy';

export const PROVISION_HELP = `Usage: npm run provision -- --thing NAME [--thing NAME2 ...] [options]

Creates each thing (if missing), an ACTIVE certificate and key for it (reused on a rerun while
the server reports it ACTIVE), attaches the certificate to the thing and to the policy
${DEVICE_POLICY_NAME}, which lets a device connect with its thing name as client id and publish
on devices/<thing>/telemetry. Writes <out>/<thing>.cert.pem, <out>/<thing>.key.pem (0600) and
<out>/ca.pem (the CA the broker's TLS certificate is signed by).

Options:
  --thing NAME     thing name and MQTT client id (letters, digits, "_" and "-"); repeatable
  --out DIR        where the files are written (default ./data/device-certs)
  --endpoint URL   the server's HTTP port (default http://127.0.0.1:8080)
  --credentials F  JSON file {"accessKeyId","secretAccessKey"} (default ./data/admin-credentials.json,
                   or the ${ACCESS_KEY_ENV.accessKeyId} and ${ACCESS_KEY_ENV.secretAccessKey} environment variables)
  --policy NAME    the policy to create or update and attach (default ${DEVICE_POLICY_NAME})
  --region R       region of the signed API calls (default ${PROVISION_DEFAULTS.region})
  --help           this text`;

export interface ProvisionCommand {
  kind: 'provision';
  thingNames: string[];
  policyName: string;
  settings: ProvisionSettings;
}

function invalid(message: string): never {
  throw new SimError('InvalidArgumentException', message);
}

export function parseProvisionArgs(argv: readonly string[], env: Record<string, string | undefined>): ProvisionCommand | { kind: 'help' } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        thing: { type: 'string', multiple: true },
        out: { type: 'string' },
        endpoint: { type: 'string' },
        credentials: { type: 'string' },
        policy: { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    invalid(`${(error as Error).message} (see --help)`);
  }
  if (values.help) return { kind: 'help' };
  const thingNames = values.thing ?? [];
  if (thingNames.length === 0) invalid('name at least one thing with --thing NAME');
  // thing names allow no "." or ":" in the subset policies and client ids share
  for (const name of thingNames) if (!/^[A-Za-z0-9_-]{1,128}$/.test(name)) invalid(`thing name may only contain letters, digits, "_" and "-" (1-128), got "${name}"`);
  const endpoint = values.endpoint ?? 'http://127.0.0.1:8080';
  if (!/^https?:\/\/[^/]/.test(endpoint)) invalid(`endpoint must look like http://host:port, got "${endpoint}"`);
  const credentialsFile = values.credentials ?? (env[ACCESS_KEY_ENV.accessKeyId] ? undefined : './data/admin-credentials.json');
  const credentials = resolveCredentials(credentialsFile, env);
  if (!credentials) invalid('provisioning needs an access key: --credentials FILE or the AWS_* environment variables');
  const policyName = values.policy ?? DEVICE_POLICY_NAME;
  if (!/^[\w+=,.@-]{1,128}$/.test(policyName)) invalid(`policy name must match [\\w+=,.@-]{1,128}, got "${policyName}"`);
  const region = values.region ?? PROVISION_DEFAULTS.region;
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(region)) invalid(`region must be a region name such as us-east-1, got "${region}"`);
  return {
    kind: 'provision',
    thingNames: [...new Set(thingNames)],
    policyName,
    settings: { endpoint, credentials, region, certsDir: values.out ?? './data/device-certs', concurrency: PROVISION_DEFAULTS.concurrency },
  };
}
