// X.509 certificates of devices (spec §3.5): the ones our CA issues (CreateKeysAndCertificate),
// CA certificates registered by the owner, the device certificates those CAs signed
// (RegisterCertificate) or any certificate without a CA (RegisterCertificateWithoutCA), and the
// principals attached to things (kept here, keyed by thing name; the registry only tells us that
// a thing exists). Request and response shapes are those of @aws-sdk/client-iot.
//
// Persistence: `<dataDir>/certificates.json`, rewritten whole on each change (temp file, fsync,
// rename): certificate changes are rare administrative calls and the file stays small (a
// certificate is ~1.5 KB), so the simple atomic rewrite is preferred to a journal here. Memory is
// changed only after the file is written, so a failed write refuses the change.
// Private keys are never stored: CreateKeysAndCertificate returns the key once.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerError } from '../errors.js';
import { certificateIdOf, CertificateParseError, generateKeyPair, isSignedBy, issueCertificate, keyPairToPem, parseCertificate, type CertificateFacts, type SigningCa } from './x509.js';
import { writeFileAtomic } from '../atomic-file.js';

export const CERTIFICATES_FILE = 'certificates.json';
/** what ListCertificates returns without pageSize, and its ceiling (AWS: 1..250) */
const DEFAULT_PAGE = 25;
const MAX_PAGE = 250;

export type CertificateStatus = 'ACTIVE' | 'INACTIVE' | 'REVOKED';
const STATUSES: readonly string[] = ['ACTIVE', 'INACTIVE', 'REVOKED'];
/** statuses AWS has that this server does not model (transfers, just-in-time registration) */
const UNSUPPORTED_STATUSES: readonly string[] = ['PENDING_TRANSFER', 'REGISTER_INACTIVE', 'PENDING_ACTIVATION'];

export interface CertificateRecord {
  certificateId: string;
  certificatePem: string;
  status: CertificateStatus;
  /** the registered CA that signed it (RegisterCertificate) */
  caCertificateId?: string;
  /** issued by our own CA (CreateKeysAndCertificate) */
  issuedHere?: boolean;
  /** epoch ms */
  creationDate: number;
  lastModifiedDate: number;
  customerVersion: number;
  notBefore: number;
  notAfter: number;
}
export type CaRecord = Omit<CertificateRecord, 'caCertificateId' | 'issuedHere'>;

interface FileShape {
  version: 1;
  certificates: CertificateRecord[];
  caCertificates: CaRecord[];
  /** thing name → principal ARNs, in attach order */
  thingPrincipals: Record<string, string[]>;
}

export interface CertificateServiceOptions {
  dataDir: string;
  region: string;
  accountId: string;
  /** our CA (signs CreateKeysAndCertificate's certificates) */
  ca: SigningCa;
  /** the registry's answer: AttachThingPrincipal needs an existing thing */
  thingExists(thingName: string): boolean;
  fsync?: boolean;
  now?(): number;
}

/** What a TLS listener needs to know about a presented client certificate. */
export interface PresentedCertificate { certificateId: string; certificateArn: string; status: CertificateStatus; things: string[] }

export type CertificateService = Awaited<ReturnType<typeof openCertificateService>>;

export async function openCertificateService(options: CertificateServiceOptions) {
  const path = join(options.dataDir, CERTIFICATES_FILE);
  const now = options.now ?? Date.now;
  const arnPrefix = `arn:aws:iot:${options.region}:${options.accountId}:`;
  const certArn = (id: string) => `${arnPrefix}cert/${id}`;
  const caArn = (id: string) => `${arnPrefix}cacert/${id}`;

  const loaded = readFile(path);
  const certificates = new Map(loaded.certificates.map((c) => [c.certificateId, c]));
  const cas = new Map(loaded.caCertificates.map((c) => [c.certificateId, c]));
  const thingPrincipals = new Map(Object.entries(loaded.thingPrincipals));
  // told when a certificate may no longer connect (the MQTT listener closes its live connections)
  const deactivated: ((certificateArn: string) => void)[] = [];
  const notifyDeactivated = (arns: string[]) => {
    for (const arn of arns) for (const listener of deactivated) listener(arn);
  };

  /** Writes the state as it will be after `change`, then applies `change` to memory. */
  function commit(change: () => void, draft: { certificates?: Map<string, CertificateRecord>; cas?: Map<string, CaRecord>; thingPrincipals?: Map<string, string[]> }): void {
    const file: FileShape = {
      version: 1,
      certificates: [...(draft.certificates ?? certificates).values()],
      caCertificates: [...(draft.cas ?? cas).values()],
      thingPrincipals: Object.fromEntries(draft.thingPrincipals ?? thingPrincipals),
    };
    writeFileAtomic(path, JSON.stringify(file) + '\n', { fsync: options.fsync === true, mode: 0o600 });
    change();
  }
  const withCert = (record: CertificateRecord) => new Map(certificates).set(record.certificateId, record);
  function putCert(record: CertificateRecord): void {
    commit(() => certificates.set(record.certificateId, record), { certificates: withCert(record) });
  }
  function putCa(record: CaRecord): void {
    commit(() => cas.set(record.certificateId, record), { cas: new Map(cas).set(record.certificateId, record) });
  }
  function putPrincipals(thingName: string, list: string[]): void {
    const next = new Map(thingPrincipals);
    if (list.length === 0) next.delete(thingName);
    else next.set(thingName, list);
    commit(() => {
      if (list.length === 0) thingPrincipals.delete(thingName);
      else thingPrincipals.set(thingName, list);
    }, { thingPrincipals: next });
  }

  function certOf(id: unknown): CertificateRecord {
    const c = typeof id === 'string' ? certificates.get(id) : undefined;
    if (!c) throw new BrokerError('ResourceNotFoundException', `Certificate ${String(id)} does not exist`);
    return c;
  }
  function caOf(id: unknown): CaRecord {
    const c = typeof id === 'string' ? cas.get(id) : undefined;
    if (!c) throw new BrokerError('ResourceNotFoundException', `CA certificate ${String(id)} does not exist`);
    return c;
  }
  /** things (that still exist) the certificate is attached to */
  function thingsOf(id: string): string[] {
    const arn = certArn(id);
    const out: string[] = [];
    for (const [thing, principals] of thingPrincipals) if (principals.includes(arn) && options.thingExists(thing)) out.push(thing);
    return out.sort();
  }
  /** the certificate id a principal ARN names; the certificate must exist */
  function principalCert(principal: unknown): CertificateRecord {
    if (typeof principal !== 'string' || principal === '') throw invalid('the principal (header x-amzn-principal) is required');
    const prefix = `${arnPrefix}cert/`;
    if (!principal.startsWith(prefix)) throw invalid(`${principal} is not a certificate ARN of this account and region (only X.509 certificate principals are supported)`);
    return certOf(principal.slice(prefix.length));
  }
  function thingOf(thingName: unknown): string {
    if (typeof thingName !== 'string' || !options.thingExists(thingName)) throw new BrokerError('ResourceNotFoundException', `Thing ${String(thingName)} does not exist`);
    return thingName;
  }

  async function parse(pem: unknown, what: string): Promise<CertificateFacts> {
    if (typeof pem !== 'string' || pem.trim() === '') throw invalid(`${what} is required (a PEM certificate)`);
    if (pem.length > 65_536) throw invalid(`${what} is longer than 65536 characters`);
    try {
      return await parseCertificate(pem);
    } catch (err) {
      if (err instanceof CertificateParseError) throw new BrokerError('CertificateValidationException', `${what}: ${err.message}`);
      throw err;
    }
  }
  function checkDates(facts: CertificateFacts, what: string): void {
    const t = now();
    if (facts.notAfter.getTime() < t) throw new BrokerError('CertificateValidationException', `${what} expired on ${facts.notAfter.toISOString()}`);
    if (facts.notBefore.getTime() > t) throw new BrokerError('CertificateValidationException', `${what} is not valid before ${facts.notBefore.toISOString()}`);
  }
  function newRecord(facts: CertificateFacts, status: CertificateStatus): CaRecord {
    const t = now();
    return { certificateId: facts.id, certificatePem: facts.pem, status, creationDate: t, lastModifiedDate: t, customerVersion: 1, notBefore: facts.notBefore.getTime(), notAfter: facts.notAfter.getTime() };
  }
  function checkNew(id: string): void {
    if (certificates.has(id)) throw new BrokerError('ResourceAlreadyExistsException', `Certificate ${id} is already registered`, { resourceId: id, resourceArn: certArn(id) });
  }
  /** status from the request: `status` wins over the older setAsActive flag; INACTIVE by default */
  function initialStatus(status: unknown, setAsActive: unknown): CertificateStatus {
    if (status !== undefined) return checkStatus(status, 'status');
    return setAsActive === true ? 'ACTIVE' : 'INACTIVE';
  }
  function registered(record: CertificateRecord) {
    return { certificateArn: certArn(record.certificateId), certificateId: record.certificateId };
  }
  const seconds = (ms: number) => ms / 1000;

  return {
    certificateArn: certArn,
    caCertificateArn: caArn,

    /** CreateKeysAndCertificate: a new RSA key pair and a certificate our CA signs. The private key is returned once. */
    async createKeysAndCertificate(req: { setAsActive?: boolean } = {}) {
      const keys = await generateKeyPair();
      const pem = await issueCertificate(options.ca, 'AWS IoT Certificate', keys.publicKey);
      const facts = await parseCertificate(pem);
      const record: CertificateRecord = { ...newRecord(facts, req.setAsActive === true ? 'ACTIVE' : 'INACTIVE'), issuedHere: true };
      putCert(record);
      const { publicKeyPem, privateKeyPem } = keyPairToPem(keys);
      return { certificateArn: certArn(facts.id), certificateId: facts.id, certificatePem: facts.pem, keyPair: { PublicKey: publicKeyPem, PrivateKey: privateKeyPem } };
    },

    describeCertificate(id: string) {
      const c = certOf(id);
      const d: Record<string, unknown> = {
        certificateArn: certArn(c.certificateId), certificateId: c.certificateId, status: c.status, certificatePem: c.certificatePem,
        ownedBy: options.accountId, creationDate: seconds(c.creationDate), lastModifiedDate: seconds(c.lastModifiedDate),
        customerVersion: c.customerVersion, validity: { notBefore: seconds(c.notBefore), notAfter: seconds(c.notAfter) }, certificateMode: 'DEFAULT',
      };
      if (c.caCertificateId !== undefined) d.caCertificateId = c.caCertificateId;
      return { certificateDescription: d };
    },

    /** ListCertificates: by creation date, newest first unless ascendingOrder; marker is the last id of the previous page. */
    listCertificates(req: { pageSize?: number; marker?: string; ascendingOrder?: boolean } = {}) {
      const size = req.pageSize ?? DEFAULT_PAGE;
      if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) throw invalid(`pageSize must be 1..${MAX_PAGE}`);
      const order = (a: CertificateRecord, b: CertificateRecord) => a.creationDate - b.creationDate || (a.certificateId < b.certificateId ? -1 : a.certificateId > b.certificateId ? 1 : 0);
      const sorted = [...certificates.values()].sort(req.ascendingOrder === true ? order : (a, b) => order(b, a));
      let start = 0;
      if (req.marker !== undefined) {
        const last = certificates.get(req.marker);
        if (!last) throw invalid('marker is not one this server gave (or its certificate was deleted)');
        start = sorted.indexOf(last) + 1;
      }
      const page = sorted.slice(start, start + size);
      const out: { certificates: unknown[]; nextMarker?: string } = {
        certificates: page.map((c) => ({ certificateArn: certArn(c.certificateId), certificateId: c.certificateId, status: c.status, certificateMode: 'DEFAULT', creationDate: seconds(c.creationDate) })),
      };
      if (start + size < sorted.length) out.nextMarker = page[page.length - 1]!.certificateId;
      return out;
    },

    /** UpdateCertificate: ACTIVE ⇄ INACTIVE; REVOKED is final. */
    updateCertificate(id: string, newStatus: unknown) {
      const c = certOf(id);
      const status = checkStatus(newStatus, 'newStatus');
      if (c.status === 'REVOKED') throw new BrokerError('CertificateStateException', `Certificate ${id} is revoked; a revoked certificate cannot change status`);
      if (status === 'ACTIVE' && c.caCertificateId !== undefined) {
        const ca = cas.get(c.caCertificateId);
        if (ca && ca.status !== 'ACTIVE') throw new BrokerError('CertificateStateException', `The CA certificate ${ca.certificateId} that signed certificate ${id} is ${ca.status}`);
      }
      if (status !== c.status) putCert({ ...c, status, lastModifiedDate: now(), customerVersion: c.customerVersion + 1 });
      if (status !== 'ACTIVE') notifyDeactivated([certArn(id)]);
      return {};
    },

    /**
     * DeleteCertificate: not while ACTIVE (CertificateStateException), nor while attached to a
     * thing (DeleteConflictException), nor while policies are attached unless `forceDelete` (the
     * caller, who owns the policies, detaches them after the delete succeeds).
     */
    deleteCertificate(id: string, options: { attachedPolicies?: readonly string[]; forceDelete?: boolean } = {}) {
      const c = certOf(id);
      if (c.status === 'ACTIVE') throw new BrokerError('CertificateStateException', `Certificate ${id} is ACTIVE; set it INACTIVE (UpdateCertificate) before deleting it`);
      const things = thingsOf(id);
      if (things.length > 0) throw new BrokerError('DeleteConflictException', `Certificate ${id} is attached to thing(s) ${things.join(', ')}; detach it first (DetachThingPrincipal)`);
      const policies = options.attachedPolicies ?? [];
      if (policies.length > 0 && options.forceDelete !== true) {
        throw new BrokerError('DeleteConflictException', `Certificate ${id} has policies attached (${policies.join(', ')}); detach them first (DetachPolicy) or delete with forceDelete`);
      }
      const arn = certArn(id);
      const nextCerts = new Map(certificates);
      nextCerts.delete(id);
      // attachments to things deleted since are dropped with the certificate
      const nextPrincipals = new Map([...thingPrincipals].map(([t, l]) => [t, l.filter((p) => p !== arn)] as [string, string[]]).filter(([, l]) => l.length > 0));
      commit(() => {
        certificates.delete(id);
        thingPrincipals.clear();
        for (const [t, l] of nextPrincipals) thingPrincipals.set(t, l);
      }, { certificates: nextCerts, thingPrincipals: nextPrincipals });
      return {};
    },

    /**
     * RegisterCACertificate: a CA certificate (basicConstraints cA=true) the owner brings. When a
     * verificationCertificate is given, it must be signed by the CA's key (proof of possession);
     * its common name is not compared with a registration code (GetRegistrationCode is not served).
     */
    async registerCaCertificate(req: { caCertificate?: unknown; verificationCertificate?: unknown; setAsActive?: unknown }) {
      const facts = await parse(req.caCertificate, 'caCertificate');
      if (!facts.isCa) throw new BrokerError('CertificateValidationException', 'caCertificate is not a CA certificate (basicConstraints cA is not true)');
      checkDates(facts, 'caCertificate');
      if (req.verificationCertificate !== undefined) {
        const v = await parse(req.verificationCertificate, 'verificationCertificate');
        if (!(await isSignedBy(v.pem, facts.pem))) throw new BrokerError('CertificateValidationException', 'verificationCertificate is not signed by the CA certificate\'s key');
      }
      if (cas.has(facts.id)) throw new BrokerError('ResourceAlreadyExistsException', `CA certificate ${facts.id} is already registered`, { resourceId: facts.id, resourceArn: caArn(facts.id) });
      putCa(newRecord(facts, req.setAsActive === true ? 'ACTIVE' : 'INACTIVE'));
      return { certificateArn: caArn(facts.id), certificateId: facts.id };
    },

    describeCaCertificate(id: string) {
      const c = caOf(id);
      return {
        certificateDescription: {
          certificateArn: caArn(c.certificateId), certificateId: c.certificateId, status: c.status, certificatePem: c.certificatePem, ownedBy: options.accountId,
          creationDate: seconds(c.creationDate), lastModifiedDate: seconds(c.lastModifiedDate), customerVersion: c.customerVersion, autoRegistrationStatus: 'DISABLE',
          validity: { notBefore: seconds(c.notBefore), notAfter: seconds(c.notAfter) }, certificateMode: 'DEFAULT',
        },
      };
    },

    /** UpdateCACertificate: ACTIVE | INACTIVE (the certificates it signed keep their own status). */
    updateCaCertificate(id: string, newStatus: unknown) {
      const c = caOf(id);
      if (newStatus === undefined) return {};
      if (newStatus !== 'ACTIVE' && newStatus !== 'INACTIVE') throw invalid(`newStatus of a CA certificate must be ACTIVE or INACTIVE, got ${String(newStatus)}`);
      if (newStatus !== c.status) putCa({ ...c, status: newStatus, lastModifiedDate: now(), customerVersion: c.customerVersion + 1 });
      if (newStatus === 'INACTIVE') notifyDeactivated([...certificates.values()].filter((d) => d.caCertificateId === id).map((d) => certArn(d.certificateId)));
      return {};
    },

    /**
     * RegisterCertificate: a device certificate signed by a registered CA that is ACTIVE. The CA is
     * caCertificatePem when given (it must be registered), otherwise the registered CA whose
     * subject is the certificate's issuer and whose key verifies its signature.
     */
    async registerCertificate(req: { certificatePem?: unknown; caCertificatePem?: unknown; setAsActive?: unknown; status?: unknown }) {
      const facts = await parse(req.certificatePem, 'certificatePem');
      checkDates(facts, 'certificatePem');
      const status = initialStatus(req.status, req.setAsActive);
      let ca: CaRecord | undefined;
      if (req.caCertificatePem !== undefined) {
        const caFacts = await parse(req.caCertificatePem, 'caCertificatePem');
        ca = cas.get(caFacts.id);
        if (!ca) throw new BrokerError('CertificateValidationException', `The CA certificate ${caFacts.id} is not registered (RegisterCACertificate)`);
        if (!(await isSignedBy(facts.pem, ca.certificatePem))) throw new BrokerError('CertificateValidationException', 'certificatePem is not signed by caCertificatePem');
      } else {
        for (const candidate of cas.values()) {
          if (await isSignedBy(facts.pem, candidate.certificatePem)) {
            ca = candidate;
            if (candidate.status === 'ACTIVE') break; // prefer an active one if the issuer was registered twice
          }
        }
        if (!ca) throw new BrokerError('CertificateValidationException', `No registered CA certificate signed this certificate (issuer ${facts.issuer})`);
      }
      if (ca.status !== 'ACTIVE') throw new BrokerError('CertificateStateException', `The CA certificate ${ca.certificateId} is ${ca.status}; certificates it signed cannot be registered`);
      checkNew(facts.id);
      const record: CertificateRecord = { ...newRecord(facts, status), caCertificateId: ca.certificateId };
      putCert(record);
      return registered(record);
    },

    /** RegisterCertificateWithoutCA: any well-formed certificate, its issuer unchecked (AWS's "multi-account" mode, here without SNI). */
    async registerCertificateWithoutCa(req: { certificatePem?: unknown; status?: unknown }) {
      const facts = await parse(req.certificatePem, 'certificatePem');
      checkDates(facts, 'certificatePem');
      const status = initialStatus(req.status, undefined);
      checkNew(facts.id);
      const record: CertificateRecord = newRecord(facts, status);
      putCert(record);
      return registered(record);
    },

    // ---- principals of things

    attachThingPrincipal(thingName: string, principal: unknown) {
      const thing = thingOf(thingName);
      const c = principalCert(principal);
      const arn = certArn(c.certificateId);
      const list = thingPrincipals.get(thing) ?? [];
      if (!list.includes(arn)) putPrincipals(thing, [...list, arn]); // attaching twice is a no-op, as AWS
      return {};
    },

    /** DetachThingPrincipal: detaching what is not attached succeeds. */
    detachThingPrincipal(thingName: string, principal: unknown) {
      const thing = thingOf(thingName);
      if (typeof principal !== 'string' || principal === '') throw invalid('the principal (header x-amzn-principal) is required');
      const list = thingPrincipals.get(thing) ?? [];
      if (list.includes(principal)) putPrincipals(thing, list.filter((p) => p !== principal));
      return {};
    },

    listThingPrincipals(thingName: string, req: { maxResults?: number; nextToken?: string } = {}) {
      const list = thingPrincipals.get(thingOf(thingName)) ?? [];
      const { items, nextToken } = page(list, req);
      return nextToken === undefined ? { principals: items } : { principals: items, nextToken };
    },

    listPrincipalThings(principal: unknown, req: { maxResults?: number; nextToken?: string } = {}) {
      const c = principalCert(principal);
      const { items, nextToken } = page(thingsOf(c.certificateId), req);
      return nextToken === undefined ? { things: items } : { things: items, nextToken };
    },

    // ---- for the TLS listener (next slice)

    /**
     * The certificate a client presented (PEM or DER), as this server knows it; undefined when it
     * was never created or registered here. A TLS listener accepts it only when `status` is ACTIVE
     * (and its CA, for a registered one, is still ACTIVE: see `caActive`).
     */
    certificateStatus(pemOrDer: string | Uint8Array): (PresentedCertificate & { caActive: boolean }) | undefined {
      let id: string;
      try {
        id = certificateIdOf(pemOrDer);
      } catch {
        return undefined;
      }
      const c = certificates.get(id);
      if (!c) return undefined;
      const caActive = c.caCertificateId === undefined || cas.get(c.caCertificateId)?.status === 'ACTIVE';
      return { certificateId: id, certificateArn: certArn(id), status: c.status, things: thingsOf(id), caActive };
    },

    /** `listener(certificateArn)` after a certificate becomes INACTIVE or REVOKED, or its CA INACTIVE */
    onDeactivated(listener: (certificateArn: string) => void): void {
      deactivated.push(listener);
    },

    /** counts for metrics and tests */
    counts: () => ({ certificates: certificates.size, caCertificates: cas.size, thingsWithPrincipals: thingPrincipals.size }),
    path,
  };
}

function checkStatus(value: unknown, what: string): CertificateStatus {
  if (typeof value === 'string' && STATUSES.includes(value)) return value as CertificateStatus;
  if (typeof value === 'string' && UNSUPPORTED_STATUSES.includes(value)) throw invalid(`${what} ${value} is not supported by this server (ACTIVE, INACTIVE or REVOKED)`);
  throw invalid(`${what} must be ACTIVE, INACTIVE or REVOKED, got ${String(value)}`);
}

function invalid(message: string): BrokerError {
  return new BrokerError('InvalidRequestException', message);
}

/** An offset page: the token is the offset, opaque to clients (base64). */
function page<T>(all: readonly T[], req: { maxResults?: number; nextToken?: string }): { items: T[]; nextToken?: string } {
  const max = req.maxResults ?? 25;
  if (!Number.isInteger(max) || max < 1 || max > 250) throw invalid('maxResults must be 1..250');
  let start = 0;
  if (req.nextToken !== undefined) {
    const n = Number(Buffer.from(req.nextToken, 'base64url').toString('utf8'));
    if (!Number.isInteger(n) || n < 0) throw invalid('nextToken is not one this server gave');
    start = n;
  }
  const items = all.slice(start, start + max);
  return start + max < all.length ? { items, nextToken: Buffer.from(String(start + max)).toString('base64url') } : { items };
}

function readFile(path: string): FileShape {
  if (!existsSync(path)) return { version: 1, certificates: [], caCertificates: [], thingPrincipals: {} };
  let parsed: FileShape;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as FileShape;
  } catch (err) {
    throw new BrokerError('CertificatesFileInvalid', `${path} is not JSON (${(err as Error).message})`);
  }
  if (parsed?.version !== 1 || !Array.isArray(parsed.certificates) || !Array.isArray(parsed.caCertificates) || typeof parsed.thingPrincipals !== 'object' || parsed.thingPrincipals === null) {
    throw new BrokerError('CertificatesFileInvalid', `${path} is not a certificates file of version 1`);
  }
  return parsed;
}

