// The one module that imports @peculiar/x509 (pure JS over WebCrypto): key pairs, certificates
// signed by a CA key, and the facts the certificate service needs from a PEM certificate.
// Keys are RSA 2048 with SHA-256, as AWS IoT's CreateKeysAndCertificate issues them.
// @peculiar/x509's dependency injection (tsyringe) needs the Reflect metadata API loaded first.
import 'reflect-metadata';
import { createHash, KeyObject, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

// Loaded after the reflect polyfill has run: a static import may be linked (and its CommonJS
// build evaluated) before this module's own imports run, e.g. under jest's VM modules.
const x509: typeof X509 = await import('@peculiar/x509');

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const RSA: RsaHashedKeyGenParams = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
const RSA_IMPORT: RsaHashedImportParams = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

/** A key pair in PEM: the public key as SPKI, the private key as PKCS#1 (what AWS returns) */
export interface PemKeyPair { publicKeyPem: string; privateKeyPem: string }

/** The facts of a parsed certificate the service stores and answers with. */
export interface CertificateFacts {
  /** SHA-256 of the DER encoding, lower-case hex: AWS IoT's certificateId */
  id: string;
  /** normalised PEM (one certificate) */
  pem: string;
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints says cA=true */
  isCa: boolean;
  selfSigned: boolean;
}

/** An opaque signing authority: a CA certificate with its private key. */
export interface SigningCa { certificatePem: string; privateKey: CryptoKey }

export class CertificateParseError extends Error {}

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

export function keyPairToPem(keys: CryptoKeyPair): PemKeyPair {
  return {
    publicKeyPem: KeyObject.from(keys.publicKey).export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: KeyObject.from(keys.privateKey).export({ type: 'pkcs1', format: 'pem' }).toString(),
  };
}

/** PKCS#8 PEM of a private key (how the CA key is kept on disk) */
export function privateKeyToPkcs8Pem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

export async function importPrivateKey(pkcs8Pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pkcs8Pem);
  return webcrypto.subtle.importKey('pkcs8', der, RSA_IMPORT, true, ['sign']) as Promise<CryptoKey>;
}

/** A self-signed CA certificate (basicConstraints cA, keyCertSign) valid for `years`. */
export async function createCaCertificate(commonName: string, keys: CryptoKeyPair, years = 25): Promise<string> {
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${escapeDn(commonName)}`,
    keys,
    serialNumber: randomSerial(),
    notBefore: new Date(Date.now() - 60_000),
    notAfter: addYears(new Date(), years),
    signingAlgorithm: RSA_IMPORT,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return cert.toString('pem');
}

/** What a certificate may be used for beyond the defaults: a TLS server's names (broker/identity/server-tls.ts). */
export interface IssueOptions {
  years?: number;
  /** an intermediate CA (tests) */
  ca?: boolean;
  /** subjectAltName DNS names and IP addresses, and the serverAuth extended key usage */
  server?: { dnsNames: string[]; ipAddresses: string[] };
}

/** A certificate for `publicKey`, signed by `ca`; `ca: true` makes an intermediate CA (tests). */
export async function issueCertificate(ca: SigningCa, subjectCn: string, publicKey: CryptoKey, options: IssueOptions = {}): Promise<string> {
  const issuer = new x509.X509Certificate(ca.certificatePem);
  const extensions: X509.Extension[] = options.ca
    ? [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)]
    : [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true)];
  extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey));
  if (options.server) {
    const names = [
      ...options.server.dnsNames.map((value) => ({ type: 'dns' as const, value })),
      ...options.server.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ];
    extensions.push(new x509.SubjectAlternativeNameExtension(names, false), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false));
  }
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${escapeDn(subjectCn)}`,
    issuer: issuer.subjectName,
    publicKey,
    signingKey: ca.privateKey,
    serialNumber: randomSerial(),
    notBefore: new Date(Date.now() - 60_000),
    // never outliving its issuer
    notAfter: new Date(Math.min(addYears(new Date(), options.years ?? 20).getTime(), issuer.notAfter.getTime())),
    signingAlgorithm: RSA_IMPORT,
    extensions,
  });
  return cert.toString('pem');
}

/** Parses one PEM (or base64 DER) certificate; CertificateParseError when it is not one. */
export async function parseCertificate(pemOrDer: string | Uint8Array): Promise<CertificateFacts> {
  let cert: X509.X509Certificate;
  try {
    cert = new x509.X509Certificate(typeof pemOrDer === 'string' ? pemOrDer : toArrayBuffer(pemOrDer));
  } catch (err) {
    throw new CertificateParseError(`not an X.509 certificate: ${(err as Error).message}`);
  }
  const der = new Uint8Array(cert.rawData);
  const constraints = cert.getExtension(x509.BasicConstraintsExtension);
  let selfSigned = false;
  try {
    selfSigned = await cert.isSelfSigned();
  } catch {
    selfSigned = false; // an algorithm WebCrypto does not know: not verifiable, so not self-signed for us
  }
  return {
    id: createHash('sha256').update(der).digest('hex'),
    pem: cert.toString('pem'),
    subject: cert.subject,
    issuer: cert.issuer,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    isCa: constraints?.ca === true,
    selfSigned,
  };
}

/** The certificate's signature verifies with the CA certificate's public key (signature only, not dates). */
export async function isSignedBy(certificatePem: string, caCertificatePem: string): Promise<boolean> {
  try {
    const cert = new x509.X509Certificate(certificatePem);
    const ca = new x509.X509Certificate(caCertificatePem);
    if (cert.issuer !== ca.subject) return false;
    return await cert.verify({ publicKey: ca.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

/** The same certificate in DER or PEM gives the same SHA-256 id. */
export function certificateIdOf(pemOrDer: string | Uint8Array): string {
  const der = typeof pemOrDer === 'string' ? new Uint8Array(new x509.X509Certificate(pemOrDer).rawData) : pemOrDer;
  return createHash('sha256').update(der).digest('hex');
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0]! &= 0x7f; // a positive INTEGER
  return Buffer.from(bytes).toString('hex');
}

function addYears(d: Date, years: number): Date {
  const out = new Date(d);
  out.setUTCFullYear(out.getUTCFullYear() + years);
  return out;
}

/** RFC 4514 escaping of an attribute value */
function escapeDn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}
