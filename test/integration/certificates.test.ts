// Device certificates and thing principals through the real @aws-sdk/client-iot against the real
// server: our CA issues certificates, a foreign CA is registered with a device certificate it
// signed, principals are attached to a registry thing, and a restart keeps it all.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  AttachThingPrincipalCommand, CertificateStateException, CertificateValidationException, CreateKeysAndCertificateCommand, CreateThingCommand,
  DeleteCertificateCommand, DeleteConflictException, DescribeCACertificateCommand, DescribeCertificateCommand, DetachThingPrincipalCommand, IoTClient,
  ListCertificatesCommand, ListPrincipalThingsCommand, ListThingPrincipalsCommand, RegisterCACertificateCommand, RegisterCertificateCommand,
  ResourceNotFoundException, UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import type { RunningServer } from '../../broker/index.js';
import { awsClientConfig } from '../helpers/aws.js';
import { startTestServer, tempDataDir } from '../helpers/server.js';
// loaded after the server modules, which install the reflect polyfill tsyringe needs
const x509 = await import('@peculiar/x509');

const ACCOUNT = '123456789012';
const CONFIG = { rules: [], channels: [], datastores: [], pipelines: [], datasets: [], server: { accountId: ACCOUNT, region: 'eu-central-1' } };
const ALG = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };

async function caught(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

/** a foreign CA and a device certificate it signed, made the way an owner's PKI would */
async function foreignPki() {
  const caKeys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=Owner Root CA', keys: caKeys, signingAlgorithm: ALG, notAfter: new Date(Date.now() + 365 * 86400_000),
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  const devKeys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const device = await x509.X509CertificateGenerator.create({
    subject: 'CN=device-7', issuer: ca.subject, publicKey: devKeys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: ALG,
    notAfter: new Date(Date.now() + 30 * 86400_000),
  });
  return { caPem: ca.toString('pem'), devicePem: device.toString('pem') };
}

describe('certificates with @aws-sdk/client-iot', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let iot: IoTClient;
  const start = async () => {
    server = await startTestServer(data.dir, { config: CONFIG });
    iot = new IoTClient(awsClientConfig(server));
  };
  const stop = async () => {
    iot?.destroy();
    await server?.stop();
  };
  beforeAll(start);
  afterAll(async () => {
    await stop();
    data.remove();
  });

  let issuedId = '';
  let registeredId = '';

  it('creates keys and a certificate signed by the server CA, whose id is the SHA-256 of its DER', async () => {
    const out = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    issuedId = out.certificateId!;
    expect(out.certificateArn).toBe(`arn:aws:iot:eu-central-1:${ACCOUNT}:cert/${issuedId}`);
    expect(out.keyPair?.PrivateKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(out.keyPair?.PublicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const der = new Uint8Array(new x509.X509Certificate(out.certificatePem!).rawData);
    expect(Buffer.from(await crypto.subtle.digest('SHA-256', der)).toString('hex')).toBe(issuedId);
    const { readFileSync } = await import('node:fs');
    const caPem = readFileSync(join(data.dir, 'ca', 'ca-cert.pem'), 'utf8');
    const caCert = new x509.X509Certificate(caPem);
    expect(await new x509.X509Certificate(out.certificatePem!).verify({ publicKey: caCert.publicKey, signatureOnly: true })).toBe(true);
    expect(statSync(join(data.dir, 'ca', 'ca-key.pem')).mode & 0o777).toBe(0o600);
    // the private key is never stored
    expect(readFileSync(join(data.dir, 'certificates.json'), 'utf8')).not.toContain('PRIVATE KEY');
  });

  it('describes and lists the certificate, then deactivates it', async () => {
    const d = (await iot.send(new DescribeCertificateCommand({ certificateId: issuedId }))).certificateDescription!;
    expect(d).toMatchObject({ certificateId: issuedId, status: 'ACTIVE', ownedBy: ACCOUNT });
    expect(d.creationDate).toBeInstanceOf(Date);
    expect(Math.abs(d.creationDate!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(d.validity!.notAfter!.getTime()).toBeGreaterThan(Date.now());
    const list = await iot.send(new ListCertificatesCommand({ pageSize: 10 }));
    expect(list.certificates!.map((c) => c.certificateId)).toContain(issuedId);
    await iot.send(new UpdateCertificateCommand({ certificateId: issuedId, newStatus: 'INACTIVE' }));
    expect((await iot.send(new DescribeCertificateCommand({ certificateId: issuedId }))).certificateDescription!.status).toBe('INACTIVE');
    expect(await caught(iot.send(new DescribeCertificateCommand({ certificateId: 'f'.repeat(64) })))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('attaches the certificate to a thing, lists both ways, refuses to delete it while attached, then detaches', async () => {
    const arn = `arn:aws:iot:eu-central-1:${ACCOUNT}:cert/${issuedId}`;
    await iot.send(new CreateThingCommand({ thingName: 'sensor-1' }));
    await iot.send(new AttachThingPrincipalCommand({ thingName: 'sensor-1', principal: arn }));
    expect((await iot.send(new ListThingPrincipalsCommand({ thingName: 'sensor-1' }))).principals).toEqual([arn]);
    expect((await iot.send(new ListPrincipalThingsCommand({ principal: arn }))).things).toEqual(['sensor-1']);
    expect(await caught(iot.send(new AttachThingPrincipalCommand({ thingName: 'no-such-thing', principal: arn })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await caught(iot.send(new DeleteCertificateCommand({ certificateId: issuedId })))).toBeInstanceOf(DeleteConflictException);
    await iot.send(new DetachThingPrincipalCommand({ thingName: 'sensor-1', principal: arn }));
    expect((await iot.send(new ListThingPrincipalsCommand({ thingName: 'sensor-1' }))).principals).toEqual([]);
  });

  it('refuses to delete an active certificate and deletes an inactive, detached one', async () => {
    const other = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    expect(await caught(iot.send(new DeleteCertificateCommand({ certificateId: other.certificateId! })))).toBeInstanceOf(CertificateStateException);
    await iot.send(new DeleteCertificateCommand({ certificateId: issuedId }));
    expect(await caught(iot.send(new DescribeCertificateCommand({ certificateId: issuedId })))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('registers a foreign CA and a device certificate it signed, and refuses one from an unknown CA', async () => {
    const pki = await foreignPki();
    const unknown = await foreignPki();
    const ca = await iot.send(new RegisterCACertificateCommand({ caCertificate: pki.caPem, setAsActive: true }));
    expect((await iot.send(new DescribeCACertificateCommand({ certificateId: ca.certificateId! }))).certificateDescription!.status).toBe('ACTIVE');
    const reg = await iot.send(new RegisterCertificateCommand({ certificatePem: pki.devicePem, caCertificatePem: pki.caPem, status: 'ACTIVE' }));
    registeredId = reg.certificateId!;
    const d = (await iot.send(new DescribeCertificateCommand({ certificateId: registeredId }))).certificateDescription!;
    expect(d).toMatchObject({ status: 'ACTIVE', caCertificateId: ca.certificateId });
    expect(await caught(iot.send(new RegisterCertificateCommand({ certificatePem: unknown.devicePem })))).toBeInstanceOf(CertificateValidationException);
  });

  it('keeps certificates, their status and principals across a restart', async () => {
    const arn = `arn:aws:iot:eu-central-1:${ACCOUNT}:cert/${registeredId}`;
    await iot.send(new AttachThingPrincipalCommand({ thingName: 'sensor-1', principal: arn }));
    const caBefore = statSync(join(data.dir, 'ca', 'ca-cert.pem')).mtimeMs;
    await stop();
    await start();
    expect((await iot.send(new DescribeCertificateCommand({ certificateId: registeredId }))).certificateDescription!.status).toBe('ACTIVE');
    expect((await iot.send(new ListThingPrincipalsCommand({ thingName: 'sensor-1' }))).principals).toEqual([arn]);
    expect(statSync(join(data.dir, 'ca', 'ca-cert.pem')).mtimeMs).toBe(caBefore); // the CA is reused, not recreated
  });
});
