// Gives every simulated device its own identity on an AWS-IoT-compatible API before the fleet
// connects, so the fleet keeps working when anonymous MQTT is refused: a thing `<prefix>-<n>`, an
// X.509 certificate (CreateKeysAndCertificate) attached to it, and one fleet policy attached to
// every certificate. Certificates and keys are cached in a directory: a rerun reuses each one the
// server still reports ACTIVE instead of issuing (and leaving behind) a new certificate per run.
// The only file of the project that imports @aws-sdk/client-iot.

import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateThingCommand,
  DescribeCertificateCommand,
  GetPolicyCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCaFile } from './credentials.js';
import { SimError } from './errors.js';
import type { ProvisionSettings } from './options.js';
import { shadowDeltaTopic, shadowUpdateTopic, telemetryTopic } from './topics.js';

/** What a device needs to connect over TLS with its own identity (plus the fleet's CA). */
export interface DeviceCredentials {
  clientId: string;
  /** certificate PEM */
  cert: string;
  /** private key PEM */
  key: string;
}

export interface ProvisionedFleet {
  /** PEM of the CA that signed the broker's TLS certificate */
  ca: string;
  /** in device order: `<prefix>-1` first */
  devices: DeviceCredentials[];
  policyName: string;
  /** certificates this run issued; the others came from the cache */
  issued: number;
  reused: number;
}

export interface FleetToProvision {
  prefix: string;
  devices: number;
  /** read the CA from this file instead of fetching it from the endpoint */
  caFile?: string;
  /** the devices obey their shadow (plug profile): the policy also allows its topics */
  shadow?: boolean;
}

/** The policy variable AWS IoT resolves to the thing whose name equals the client id. */
export const THING_NAME_VARIABLE = '${iot:Connection.Thing.ThingName}';

export function fleetPolicyName(prefix: string): string {
  return `${prefix}-fleet-policy`;
}

/** The fleet policy: a device may connect with its thing's name as client id and publish on
 * its own telemetry topic, nothing else. With `shadow` (a profile that obeys its shadow) it may
 * also subscribe to and receive its own shadow's delta and publish its own shadow updates. */
export function fleetPolicyDocument(region: string, accountId: string, { shadow = false }: { shadow?: boolean } = {}): string {
  const arn = (resource: string) => `arn:aws:iot:${region}:${accountId}:${resource}`;
  const statements = [
    { Effect: 'Allow', Action: 'iot:Connect', Resource: arn(`client/${THING_NAME_VARIABLE}`) },
    { Effect: 'Allow', Action: 'iot:Publish', Resource: arn(`topic/${telemetryTopic(THING_NAME_VARIABLE)}`) },
  ];
  if (shadow) {
    statements.push(
      { Effect: 'Allow', Action: 'iot:Publish', Resource: arn(`topic/${shadowUpdateTopic(THING_NAME_VARIABLE)}`) },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: arn(`topicfilter/${shadowDeltaTopic(THING_NAME_VARIABLE)}`) },
      { Effect: 'Allow', Action: 'iot:Receive', Resource: arn(`topic/${shadowDeltaTopic(THING_NAME_VARIABLE)}`) },
    );
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** The cached files of one device: `<id>.cert.pem`, `<id>.key.pem` (0600) and `<id>.json`
 * (certificate id and ARN), the last written last so it marks a complete set. */
export function cachedFilePaths(certsDir: string, clientId: string) {
  return {
    cert: join(certsDir, `${clientId}.cert.pem`),
    key: join(certsDir, `${clientId}.key.pem`),
    meta: join(certsDir, `${clientId}.json`),
  };
}

interface CachedCertificate {
  certificateId: string;
  certificateArn: string;
  cert: string;
  key: string;
}

export async function provisionFleet(settings: ProvisionSettings, fleet: FleetToProvision): Promise<ProvisionedFleet> {
  const thingNames = Array.from({ length: fleet.devices }, (_, i) => `${fleet.prefix}-${i + 1}`);
  return provisionThings(settings, {
    thingNames,
    policyName: fleetPolicyName(fleet.prefix),
    ...(fleet.caFile !== undefined ? { caFile: fleet.caFile } : {}),
    ...(fleet.shadow ? { shadow: true } : {}),
  });
}

/** Things by name (`npm run provision`, or a fleet's generated names), one policy for all. */
export async function provisionThings(
  settings: ProvisionSettings,
  things: { thingNames: readonly string[]; policyName: string; caFile?: string; shadow?: boolean },
): Promise<ProvisionedFleet> {
  const client = new IoTClient({ endpoint: settings.endpoint, region: settings.region, credentials: settings.credentials, maxAttempts: 3 });
  try {
    const ca = things.caFile !== undefined ? readCaFile(things.caFile) : await fetchCa(settings.endpoint);
    mkdirSync(settings.certsDir, { recursive: true, mode: 0o700 });
    const clientIds = things.thingNames;

    // The policy's ARNs name the server's region and account, which the first thing's ARN tells.
    const first = await ensureThing(client, clientIds[0]);
    const { region, accountId } = arnParts(first.thingArn, clientIds[0]);
    const policyName = things.policyName;
    await ensurePolicy(client, policyName, fleetPolicyDocument(region, accountId, { shadow: things.shadow }));

    const results = await mapLimit(clientIds, settings.concurrency, (clientId) =>
      provisionDevice(client, settings.certsDir, policyName, clientId, clientId !== clientIds[0]),
    );
    const issued = results.filter((r) => r.issued).length;
    return { ca, devices: results.map((r) => r.credentials), policyName, issued, reused: results.length - issued };
  } finally {
    client.destroy();
  }
}

async function provisionDevice(
  client: IoTClient,
  certsDir: string,
  policyName: string,
  clientId: string,
  createThing: boolean,
): Promise<{ credentials: DeviceCredentials; issued: boolean }> {
  if (createThing) await ensureThing(client, clientId);
  let certificate = readCached(certsDir, clientId);
  if (certificate && !(await stillActive(client, clientId, certificate.certificateId))) certificate = undefined;
  const issued = certificate === undefined;
  if (!certificate) {
    const out = await step(clientId, 'CreateKeysAndCertificate', () => client.send(new CreateKeysAndCertificateCommand({ setAsActive: true })));
    if (!out.certificateId || !out.certificateArn || !out.certificatePem || !out.keyPair?.PrivateKey) {
      fail(`provisioning ${clientId}: CreateKeysAndCertificate answered without a certificate id, ARN, PEM or private key`);
    }
    certificate = { certificateId: out.certificateId, certificateArn: out.certificateArn, cert: out.certificatePem, key: out.keyPair.PrivateKey };
    writeCached(certsDir, clientId, certificate);
  }
  const principal = certificate.certificateArn;
  // Both attachments are idempotent; repeating them also repairs a run that failed halfway.
  await step(clientId, 'AttachThingPrincipal', () => client.send(new AttachThingPrincipalCommand({ thingName: clientId, principal })));
  await step(clientId, 'AttachPolicy', () => client.send(new AttachPolicyCommand({ policyName, target: principal })));
  return { credentials: { clientId, cert: certificate.cert, key: certificate.key }, issued };
}

/** CreateThing, accepting a thing that already exists (also one with other attributes). */
async function ensureThing(client: IoTClient, thingName: string): Promise<{ thingArn: string }> {
  try {
    const out = await client.send(new CreateThingCommand({ thingName }));
    return { thingArn: out.thingArn ?? '' };
  } catch (error) {
    const resourceArn = (error as { resourceArn?: string }).resourceArn;
    if ((error as Error).name === 'ResourceAlreadyExistsException') return { thingArn: resourceArn ?? '' };
    fail(`provisioning ${thingName} failed at CreateThing: ${describeError(error)}`);
  }
}

/** CreatePolicy; an existing policy with another document gets it as a new default version. */
async function ensurePolicy(client: IoTClient, policyName: string, policyDocument: string): Promise<void> {
  try {
    await client.send(new CreatePolicyCommand({ policyName, policyDocument }));
    return;
  } catch (error) {
    if ((error as Error).name !== 'ResourceAlreadyExistsException') fail(`creating the fleet policy ${policyName} failed at CreatePolicy: ${describeError(error)}`);
  }
  const current = await step(`the fleet policy ${policyName}`, 'GetPolicy', () => client.send(new GetPolicyCommand({ policyName })));
  if (sameJson(current.policyDocument, policyDocument)) return;
  await step(`the fleet policy ${policyName}`, 'CreatePolicyVersion', () =>
    client.send(new CreatePolicyVersionCommand({ policyName, policyDocument, setAsDefault: true })),
  );
}

async function stillActive(client: IoTClient, clientId: string, certificateId: string): Promise<boolean> {
  try {
    const out = await client.send(new DescribeCertificateCommand({ certificateId }));
    return out.certificateDescription?.status === 'ACTIVE';
  } catch (error) {
    // another server (or a wiped data directory) does not know the cached certificate
    if ((error as Error).name === 'ResourceNotFoundException') return false;
    fail(`provisioning ${clientId} failed at DescribeCertificate: ${describeError(error)}`);
  }
}

function readCached(certsDir: string, clientId: string): CachedCertificate | undefined {
  const paths = cachedFilePaths(certsDir, clientId);
  if (!existsSync(paths.meta) || !existsSync(paths.cert) || !existsSync(paths.key)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(paths.meta, 'utf8')) as Partial<CachedCertificate>;
    if (typeof meta.certificateId !== 'string' || typeof meta.certificateArn !== 'string') return undefined;
    return { certificateId: meta.certificateId, certificateArn: meta.certificateArn, cert: readFileSync(paths.cert, 'utf8'), key: readFileSync(paths.key, 'utf8') };
  } catch {
    return undefined; // unreadable: issue a new certificate, which overwrites the files
  }
}

function writeCached(certsDir: string, clientId: string, certificate: CachedCertificate): void {
  const paths = cachedFilePaths(certsDir, clientId);
  try {
    writePrivately(paths.cert, certificate.cert);
    writePrivately(paths.key, certificate.key);
    writePrivately(paths.meta, `${JSON.stringify({ certificateId: certificate.certificateId, certificateArn: certificate.certificateArn }, null, 2)}\n`);
  } catch (error) {
    fail(`provisioning ${clientId}: cannot write its certificate to ${certsDir}: ${describeError(error)}`);
  }
}

/** Owner-only (0600), complete or absent: written to a temporary name, then renamed. */
function writePrivately(path: string, text: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode: 0o600 });
  chmodSync(temp, 0o600); // the mode above is only applied to a file that did not exist
  renameSync(temp, path);
}

async function fetchCa(endpoint: string): Promise<string> {
  const url = `${endpoint.replace(/\/+$/, '')}/api/ca-certificate.pem`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    fail(`fetching the CA certificate from ${url} failed: ${describeError((error as { cause?: unknown }).cause ?? error)}`);
  }
  const body = await response.text();
  if (!response.ok) fail(`fetching the CA certificate from ${url} failed: HTTP ${response.status}`);
  if (!body.includes('-----BEGIN CERTIFICATE-----')) fail(`${url} answered without a PEM certificate`);
  return body;
}

/** `arn:aws:iot:<region>:<account>:thing/<name>` → its region and account. */
function arnParts(thingArn: string, thingName: string): { region: string; accountId: string } {
  const [, , , region, accountId] = thingArn.split(':');
  if (!region || !accountId) fail(`provisioning ${thingName}: CreateThing answered without a thing ARN to read the region and account from (got "${thingArn}")`);
  return { region, accountId };
}

async function step<T>(subject: string, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    fail(`provisioning ${subject} failed at ${operation}: ${describeError(error)}`);
  }
}

function describeError(error: unknown): string {
  const e = error as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
  const code = e.code && !e.message?.includes(e.code) ? ` ${e.code}` : '';
  return `${e.name ?? 'Error'}${status}:${code} ${e.message || '(no message)'}`;
}

function sameJson(a: string | undefined, b: string): boolean {
  try {
    return a !== undefined && JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

function fail(message: string): never {
  throw new SimError('ProvisioningFailedException', message);
}

/** Runs `fn` over `items`, at most `limit` at a time; the first failure stops taking new items. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
