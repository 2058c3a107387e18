// The certificate service on its own: our CA, status rules, delete rules, foreign CAs and
// persistence in a temp data directory (no HTTP).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateCa, type CertificateAuthority } from '../../../../broker/identity/ca.js';
import { openCertificateService, type CertificateService } from '../../../../broker/identity/certificates.js';
import { certificateIdOf, isSignedBy } from '../../../../broker/identity/x509.js';
// after our x509 module, which loads the reflect polyfill tsyringe needs
const x509 = await import('@peculiar/x509');

const ALG = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };

async function foreignPki(name: string) {
  const caKeys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`, keys: caKeys, signingAlgorithm: ALG, notAfter: new Date(Date.now() + 86400_000),
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  const devKeys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const device = await x509.X509CertificateGenerator.create({
    subject: 'CN=device', issuer: ca.subject, publicKey: devKeys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: ALG, notAfter: new Date(Date.now() + 86400_000),
  });
  return { caPem: ca.toString('pem'), devicePem: device.toString('pem'), deviceDer: new Uint8Array(device.rawData) };
}

async function caught(p: Promise<unknown> | (() => unknown)): Promise<{ code?: string }> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err as { code?: string };
  }
  throw new Error('expected a failure');
}

describe('the certificate service', () => {
  let dir: string;
  let ca: CertificateAuthority;
  const things = new Set(['thing-a']);
  const open = () => openCertificateService({ dataDir: dir, region: 'us-east-1', accountId: '111122223333', ca, thingExists: (n) => things.has(n) });
  let svc: CertificateService;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iotcore-certs-'));
    ca = await loadOrCreateCa(dir);
    svc = await open();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('issues a certificate that chains to our CA, with the SHA-256 of its DER as id', async () => {
    const out = await svc.createKeysAndCertificate({ setAsActive: true });
    expect(await isSignedBy(out.certificatePem, ca.certificatePem)).toBe(true);
    const der = new Uint8Array(new x509.X509Certificate(out.certificatePem).rawData);
    const digest = Buffer.from(await crypto.subtle.digest('SHA-256', der)).toString('hex');
    expect(out.certificateId).toBe(digest);
    expect(certificateIdOf(der)).toBe(digest);
    expect(svc.certificateStatus(der)).toMatchObject({ certificateId: digest, status: 'ACTIVE', things: [] });
  });

  it('reuses the CA on the next start instead of creating another', async () => {
    const again = await loadOrCreateCa(dir);
    expect(again.source).toBe('loaded');
    expect(again.certificateId).toBe(ca.certificateId);
  });

  it('makes REVOKED final and refuses to delete an ACTIVE or attached certificate', async () => {
    const { certificateId: id } = await svc.createKeysAndCertificate({ setAsActive: true });
    expect((await caught(() => svc.deleteCertificate(id))).code).toBe('CertificateStateException');
    svc.updateCertificate(id, 'INACTIVE');
    svc.attachThingPrincipal('thing-a', svc.certificateArn(id));
    expect((await caught(() => svc.deleteCertificate(id))).code).toBe('DeleteConflictException');
    svc.detachThingPrincipal('thing-a', svc.certificateArn(id));
    svc.updateCertificate(id, 'REVOKED');
    expect((await caught(() => svc.updateCertificate(id, 'ACTIVE'))).code).toBe('CertificateStateException');
    expect((await caught(() => svc.updateCertificate(id, 'PENDING_TRANSFER'))).code).toBe('InvalidRequestException');
    svc.deleteCertificate(id);
    expect((await caught(() => svc.describeCertificate(id))).code).toBe('ResourceNotFoundException');
  });

  it('refuses to attach to a thing that does not exist', async () => {
    const { certificateId: id } = await svc.createKeysAndCertificate();
    expect((await caught(() => svc.attachThingPrincipal('ghost', svc.certificateArn(id)))).code).toBe('ResourceNotFoundException');
  });

  it('registers a device certificate signed by a registered active CA and refuses unknown or inactive CAs', async () => {
    const pki = await foreignPki('Owner CA');
    expect((await caught(svc.registerCertificate({ certificatePem: pki.devicePem }))).code).toBe('CertificateValidationException');
    const reg = await svc.registerCaCertificate({ caCertificate: pki.caPem, setAsActive: false });
    expect((await caught(svc.registerCertificate({ certificatePem: pki.devicePem }))).code).toBe('CertificateStateException');
    svc.updateCaCertificate(reg.certificateId, 'ACTIVE');
    const dev = await svc.registerCertificate({ certificatePem: pki.devicePem, status: 'ACTIVE' });
    expect(svc.describeCertificate(dev.certificateId).certificateDescription).toMatchObject({ caCertificateId: reg.certificateId, status: 'ACTIVE' });
    expect((await caught(svc.registerCertificate({ certificatePem: pki.devicePem }))).code).toBe('ResourceAlreadyExistsException');
    // a device certificate cannot be registered as a CA
    expect((await caught(svc.registerCaCertificate({ caCertificate: pki.devicePem }))).code).toBe('CertificateValidationException');
    expect(svc.certificateStatus(pki.deviceDer)?.caActive).toBe(true);
    svc.updateCaCertificate(reg.certificateId, 'INACTIVE');
    expect(svc.certificateStatus(pki.deviceDer)?.caActive).toBe(false);
  });

  it('pages ListCertificates with a marker, in either order', async () => {
    const all = svc.listCertificates({ pageSize: 250, ascendingOrder: true }).certificates as { certificateId: string }[];
    const first = svc.listCertificates({ pageSize: 1, ascendingOrder: true });
    expect(first.nextMarker).toBe(all[0]!.certificateId);
    const second = svc.listCertificates({ pageSize: 250, ascendingOrder: true, marker: first.nextMarker! });
    expect((second.certificates as { certificateId: string }[]).map((c) => c.certificateId)).toEqual(all.slice(1).map((c) => c.certificateId));
    const newestFirst = svc.listCertificates({ pageSize: 250 }).certificates as { certificateId: string }[];
    expect(newestFirst.map((c) => c.certificateId)).toEqual([...all].reverse().map((c) => c.certificateId));
  });

  it('restores certificates, CAs and principals from the data directory', async () => {
    const { certificateId: id } = await svc.createKeysAndCertificate({ setAsActive: true });
    svc.attachThingPrincipal('thing-a', svc.certificateArn(id));
    const before = svc.counts();
    const reopened = await open();
    expect(reopened.counts()).toEqual(before);
    expect(reopened.listThingPrincipals('thing-a').principals).toEqual([svc.certificateArn(id)]);
    expect(reopened.describeCertificate(id).certificateDescription.status).toBe('ACTIVE');
  });
});
