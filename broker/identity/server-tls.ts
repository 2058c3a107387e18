// The broker's own TLS identity for MQTT over TLS (port 8883): a key and a certificate our CA
// (ca.ts) signs, so a device that trusts the CA (GET /api/ca-certificate.pem) can verify the
// broker. Kept in `<dataDir>/ca/server-key.pem` (0600) and `server-cert.pem`; reissued when a file
// is missing, when it expires within 30 days, when it was not signed by the current CA, or when
// the names it must carry changed (another host setting, another machine name).
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CA_FOLDER } from './ca.js';
import { generateKeyPair, issueCertificate, keyPairToPem, type SigningCa } from './x509.js';
import { writeFileAtomic } from '../atomic-file.js';

export const SERVER_KEY_FILE = 'server-key.pem';
export const SERVER_CERT_FILE = 'server-cert.pem';
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60_000;
/** short-lived compared with the CA: it is reissued automatically anyway */
const SERVER_CERT_YEARS = 2;

export interface ServerTlsIdentity {
  keyPem: string;
  certificatePem: string;
  /** 'issued' when this start made a new one */
  source: 'issued' | 'loaded';
  names: string[];
}

/** The names a device may use to reach the broker: loopback, this machine, the configured host. */
export function serverNames(host: string): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames = new Set(['localhost']);
  const ipAddresses = new Set(['127.0.0.1', '::1']);
  const machine = hostname();
  if (machine && isIP(machine) === 0) dnsNames.add(machine.toLowerCase());
  if (host !== '0.0.0.0' && host !== '::' && host !== '') {
    if (isIP(host) !== 0) ipAddresses.add(host);
    else dnsNames.add(host.toLowerCase());
  }
  return { dnsNames: [...dnsNames], ipAddresses: [...ipAddresses] };
}

export async function loadOrIssueServerTls(dataDir: string, ca: SigningCa, host: string, now = Date.now()): Promise<ServerTlsIdentity> {
  const keyPath = join(dataDir, CA_FOLDER, SERVER_KEY_FILE);
  const certPath = join(dataDir, CA_FOLDER, SERVER_CERT_FILE);
  const names = serverNames(host);
  const all = [...names.dnsNames, ...names.ipAddresses];
  if (existsSync(keyPath) && existsSync(certPath)) {
    const keyPem = readFileSync(keyPath, 'utf8');
    const certificatePem = readFileSync(certPath, 'utf8');
    if (stillGood(keyPem, certificatePem, ca, names, now)) return { keyPem, certificatePem, source: 'loaded', names: all };
  }
  const keys = await generateKeyPair();
  const certificatePem = await issueCertificate(ca, 'iotcore broker', keys.publicKey, { years: SERVER_CERT_YEARS, server: names });
  const keyPem = keyPairToPem(keys).privateKeyPem;
  writeFileAtomic(keyPath, keyPem, { mode: 0o600 });
  writeFileAtomic(certPath, certificatePem, { mode: 0o644 });
  return { keyPem, certificatePem, source: 'issued', names: all };
}

function stillGood(keyPem: string, certificatePem: string, ca: SigningCa, names: { dnsNames: string[]; ipAddresses: string[] }, now: number): boolean {
  try {
    const cert = new X509Certificate(certificatePem);
    // a damaged key file would only fail later, inside the TLS listener, without naming the file
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return false;
    if (!cert.verify(new X509Certificate(ca.certificatePem).publicKey)) return false; // the CA was replaced
    if (new Date(cert.validTo).getTime() - now < RENEW_BEFORE_MS) return false;
    const present = (cert.subjectAltName ?? '').split(', ').filter((s) => s !== '');
    if (present.length !== names.dnsNames.length + names.ipAddresses.length) return false;
    return names.dnsNames.every((n) => cert.checkHost(n, { wildcards: false }) !== undefined) && names.ipAddresses.every((ip) => cert.checkIP(ip) !== undefined);
  } catch {
    return false; // unreadable or not a pair: issue a new one (devices trust the CA, not this leaf)
  }
}

