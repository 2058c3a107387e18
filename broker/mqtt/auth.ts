// Who an MQTT client is and what it may do (spec §3.5). Pure over interfaces: server.ts gives it
// the facts of a CONNECT (the TLS client certificate, username and password, client id, address)
// and asks it about each PUBLISH, SUBSCRIBE and delivery; it knows nothing of aedes or sockets.
//
// Credentials, strongest first: a TLS client certificate registered here (identified by the
// SHA-256 of its DER; the TLS handshake already proved the client holds its key), then a device
// password (username = thing name), then nothing: anonymous, refused unless the development mode
// allows it. A credential that is presented must be valid, even in development mode.
//
// Failed password attempts are limited per source address (identity/failure-limit.ts, the same
// module and policy as operator sign-in): once an address has 10 failures in 10 minutes, its
// password CONNECTs are refused with return code 3 "server unavailable" before the password is
// looked at, the right one included. 3 rather than 4 or 5: the refusal is temporary and says
// nothing about the credential, so a device whose neighbour behind the same address guessed wrong
// backs off and retries instead of being reconfigured. Certificates are not limited: nothing is
// guessed (the handshake proved the key) and checking one costs a hash lookup, not scrypt.
//
// A connection's policies are compiled once (PolicyEngine.permissionsFor) and compiled again only
// when `policies.generation` moves, so a publish costs a memo lookup.
import type { ConnectionFacts, MqttAction, Permissions, PolicyEngine } from '../identity/permissions.js';
import type { FailureLimit } from '../identity/failure-limit.js';

/** The client certificate of a TLS connection, as the TLS layer reports it. */
export interface PresentedCertificate {
  der: Uint8Array;
  validFrom: Date;
  validTo: Date;
  subject: Record<string, string>;
  issuer: Record<string, string>;
  serialNumber: string;
}

export interface ConnectAttempt {
  clientId: string;
  sourceIp: string;
  certificate?: PresentedCertificate;
  username?: string;
  password?: string;
}

/** What a certificate registered here is (broker/identity/certificates.ts certificateStatus). */
export interface RegisteredCertificate { certificateId: string; certificateArn: string; status: string; things: string[]; caActive: boolean }

export interface AuthLookups {
  certificateStatus(der: Uint8Array): RegisteredCertificate | undefined;
  verifyPassword(thingName: string, password: string): Promise<'ok' | 'wrong' | 'none'>;
  passwordPrincipal(thingName: string): string;
  thing(thingName: string): { thingName: string; thingTypeName?: string; attributes: Record<string, string> } | undefined;
  /** ARNs of the thing's groups and of their parent groups up to the root */
  thingGroupArns(thingName: string): string[];
}

export type RefusalReason =
  | 'CertificateUnknown' | 'CertificateNotActive' | 'CaCertificateNotActive' | 'CertificateOutsideValidity'
  | 'BadUsernameOrPassword' | 'AnonymousNotAllowed' | 'ConnectNotAuthorized' | 'RateLimited';

export const REFUSAL_REASONS: readonly RefusalReason[] = [
  'CertificateUnknown', 'CertificateNotActive', 'CaCertificateNotActive', 'CertificateOutsideValidity',
  'BadUsernameOrPassword', 'AnonymousNotAllowed', 'ConnectNotAuthorized', 'RateLimited',
];

export interface Identity {
  readonly kind: 'certificate' | 'password' | 'anonymous';
  /** the principal ARN ('anonymous' in development mode) */
  readonly principal: string;
  /** what lifecycle events name: the certificate id for X.509 (as AWS), the ARN of a password */
  readonly principalIdentifier: string;
  readonly clientId: string;
}

export type ConnectOutcome =
  | { identity: Identity }
  | { refused: RefusalReason; returnCode: 3 | 4 | 5; message: string };

export interface AuthCounters {
  refused: Record<RefusalReason, number>;
  denied: Record<MqttAction, number>;
}

export interface AuthorizerOptions {
  policies: PolicyEngine;
  lookups: AuthLookups;
  allowAnonymous: boolean;
  /** `arn:aws:iot:<region>:<account>:` */
  arnPrefix: string;
  /** failed password attempts per source address (none: unlimited) */
  failureLimit?: Pick<FailureLimit, 'admit'>;
  now?(): number;
}

export interface Authorizer {
  readonly counters: AuthCounters;
  connect(attempt: ConnectAttempt): Promise<ConnectOutcome>;
  /** `resource` without the ARN prefix: `topic/a/b`, `topicfilter/a/#`, `client/id` */
  allows(identity: Identity, action: MqttAction, resource: string): boolean;
}

/** A connection's compiled permissions and what they were compiled from. */
class Connection implements Identity {
  permissions: Permissions | undefined;
  generation = -1;
  constructor(
    readonly kind: Identity['kind'],
    readonly principal: string,
    readonly principalIdentifier: string,
    readonly clientId: string,
    readonly sourceIp: string,
    readonly certificate: PresentedCertificate | undefined,
    /** the thing whose password it connected with */
    readonly passwordThing?: string,
  ) {}
}

const ALLOW_ALL: Permissions = { allows: () => true };

export function createAuthorizer(opts: AuthorizerOptions): Authorizer {
  const { policies, lookups, arnPrefix } = opts;
  const now = opts.now ?? Date.now;
  const counters: AuthCounters = {
    refused: Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<RefusalReason, number>,
    denied: { 'iot:Connect': 0, 'iot:Publish': 0, 'iot:RetainPublish': 0, 'iot:Subscribe': 0, 'iot:Receive': 0 },
  };

  function refuse(refused: RefusalReason, message: string, returnCode: 3 | 4 | 5 = 5): ConnectOutcome {
    counters.refused[refused]++;
    return { refused, returnCode, message };
  }

  /** the things a connection's principal stands for, now (attachments may have changed since it connected) */
  function thingsOf(c: Connection): string[] {
    if (c.certificate) return lookups.certificateStatus(c.certificate.der)?.things ?? [];
    return c.passwordThing !== undefined && lookups.thing(c.passwordThing) ? [c.passwordThing] : [];
  }

  /** compiles the connection's permissions from the principal and its things' groups */
  function compile(c: Connection): Permissions {
    if (c.kind === 'anonymous') return ALLOW_ALL;
    const things = thingsOf(c);
    const targets = new Set([c.principal]);
    for (const t of things) for (const g of lookups.thingGroupArns(t)) targets.add(g);
    const facts: ConnectionFacts = { clientId: c.clientId, sourceIp: c.sourceIp, principal: c.principal };
    if (things.includes(c.clientId)) {
      const thing = lookups.thing(c.clientId);
      if (thing) facts.thing = { thingName: thing.thingName, attributes: thing.attributes, ...(thing.thingTypeName !== undefined ? { thingTypeName: thing.thingTypeName } : {}) };
    }
    if (c.certificate) {
      const { subject, issuer, serialNumber, validFrom, validTo } = c.certificate;
      facts.certificate = { subject, issuer, serialNumber, notBefore: validFrom.toISOString(), notAfter: validTo.toISOString() };
    }
    return policies.permissionsFor([...targets], facts);
  }

  function allows(identity: Identity, action: MqttAction, resource: string): boolean {
    const c = identity as Connection;
    if (c.generation !== policies.generation || c.permissions === undefined) {
      c.generation = policies.generation;
      c.permissions = compile(c);
    }
    const ok = c.permissions.allows(action, arnPrefix + resource);
    if (!ok) counters.denied[action]++;
    return ok;
  }

  async function authenticate(a: ConnectAttempt): Promise<ConnectOutcome> {
    if (a.certificate) {
      const cert = a.certificate;
      const registered = lookups.certificateStatus(cert.der);
      if (!registered) return refuse('CertificateUnknown', 'the client certificate is not registered');
      if (registered.status !== 'ACTIVE') return refuse('CertificateNotActive', `certificate ${registered.certificateId} is ${registered.status}`);
      if (!registered.caActive) return refuse('CaCertificateNotActive', `the CA of certificate ${registered.certificateId} is not ACTIVE`);
      const t = now();
      if (t < cert.validFrom.getTime() || t > cert.validTo.getTime()) return refuse('CertificateOutsideValidity', `certificate ${registered.certificateId} is valid from ${cert.validFrom.toISOString()} to ${cert.validTo.toISOString()}`);
      return { identity: new Connection('certificate', registered.certificateArn, registered.certificateId, a.clientId, a.sourceIp, cert) };
    }
    if (a.username !== undefined && a.password !== undefined) {
      const attempt = opts.failureLimit?.admit(a.sourceIp);
      if (attempt && 'retryAfterSeconds' in attempt) {
        return refuse('RateLimited', `too many failed password attempts from ${a.sourceIp}; retry in ${attempt.retryAfterSeconds} s`, 3);
      }
      let verdict: Awaited<ReturnType<AuthLookups['verifyPassword']>>;
      try {
        verdict = await lookups.verifyPassword(a.username, a.password);
      } catch (err) {
        attempt?.succeeded(); // our failure, not the client's: frees the slot without counting
        throw err;
      }
      if (verdict === 'ok') attempt?.succeeded();
      else attempt?.failed();
      // one answer for an unknown thing and a wrong password: a client learns nothing about names
      if (verdict !== 'ok') return refuse('BadUsernameOrPassword', 'bad username or password', 4);
      const arn = lookups.passwordPrincipal(a.username);
      return { identity: new Connection('password', arn, arn, a.clientId, a.sourceIp, undefined, a.username) };
    }
    if (!opts.allowAnonymous) return refuse('AnonymousNotAllowed', 'no client certificate and no username and password');
    return { identity: new Connection('anonymous', 'anonymous', 'anonymous', a.clientId, a.sourceIp, undefined) };
  }

  return {
    counters,
    async connect(attempt) {
      const outcome = await authenticate(attempt);
      if ('refused' in outcome) return outcome;
      if (!allows(outcome.identity, 'iot:Connect', `client/${attempt.clientId}`)) {
        return refuse('ConnectNotAuthorized', `${outcome.identity.principal} may not connect as client ${attempt.clientId}`);
      }
      return outcome;
    },
    allows,
  };
}
