// Our certificate authority: it signs the certificates CreateKeysAndCertificate issues. Created on
// first start in `<dataDir>/ca/` (ca-key.pem, mode 0600, and ca-cert.pem) and reused afterwards,
// so certificates issued before a restart still chain to it. The key is written to a temporary
// file and renamed, so a crash never leaves half a key behind.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerError } from '../errors.js';
import { createCaCertificate, generateKeyPair, importPrivateKey, parseCertificate, privateKeyToPkcs8Pem, type SigningCa } from './x509.js';
import { writeFileAtomic } from '../atomic-file.js';

export const CA_FOLDER = 'ca';
export const CA_KEY_FILE = 'ca-key.pem';
export const CA_CERT_FILE = 'ca-cert.pem';

export interface CertificateAuthority extends SigningCa {
  /** SHA-256 id of the CA certificate */
  readonly certificateId: string;
  readonly keyPath: string;
  readonly certificatePath: string;
  /** 'created' on the first start */
  readonly source: 'created' | 'loaded';
  /** the key file is readable by group or others (the log warns) */
  readonly looseFileMode: boolean;
}

export async function loadOrCreateCa(dataDir: string, commonName = 'iotcore device CA'): Promise<CertificateAuthority> {
  const folder = join(dataDir, CA_FOLDER);
  const keyPath = join(folder, CA_KEY_FILE);
  const certificatePath = join(folder, CA_CERT_FILE);
  if (existsSync(keyPath) && existsSync(certificatePath)) {
    let privateKey: CryptoKey;
    let certificatePem: string;
    let certificateId: string;
    try {
      privateKey = await importPrivateKey(readFileSync(keyPath, 'utf8'));
      certificatePem = readFileSync(certificatePath, 'utf8');
      certificateId = (await parseCertificate(certificatePem)).id;
    } catch (err) {
      throw new BrokerError('CaFilesInvalid', `${folder}: the CA key or certificate cannot be read: ${(err as Error).message}`);
    }
    const looseFileMode = process.platform !== 'win32' && (statSync(keyPath).mode & 0o077) !== 0;
    return { privateKey, certificatePem, certificateId, keyPath, certificatePath, source: 'loaded', looseFileMode };
  }
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const keys = await generateKeyPair();
  const certificatePem = await createCaCertificate(commonName, keys);
  writeFileAtomic(keyPath, privateKeyToPkcs8Pem(keys.privateKey), { mode: 0o600 });
  writeFileAtomic(certificatePath, certificatePem, { mode: 0o644 });
  const certificateId = (await parseCertificate(certificatePem)).id;
  return { privateKey: keys.privateKey, certificatePem, certificateId, keyPath, certificatePath, source: 'created', looseFileMode: false };
}

