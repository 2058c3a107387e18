// auth.ts decides who a client is and what it may do, from stub lookups and a stub policy engine.
import { createAuthorizer, type AuthLookups, type ConnectAttempt, type Identity, type RegisteredCertificate } from '../../../broker/mqtt/auth.js';
import type { ConnectionFacts, MqttAction, PolicyEngine } from '../../../broker/identity/permissions.js';
import { createFailureLimit } from '../../../broker/identity/failure-limit.js';

const PREFIX = 'arn:aws:iot:us-east-1:000000000000:';
const CERT_DER = new Uint8Array([1, 2, 3]);
const NOW = Date.parse('2026-06-01T00:00:00Z');

/** A policy engine over a table: target ARN → the `action resource` strings it allows; `deny` entries win. */
function stubEngine(allow: Record<string, string[]>, deny: Record<string, string[]> = {}) {
  const calls: { targets: readonly string[]; facts: ConnectionFacts }[] = [];
  const engine = {
    generation: 1,
    permissionsFor(targets: readonly string[], facts: ConnectionFacts) {
      calls.push({ targets, facts });
      const render = (s: string) => s.replace('${iot:ClientId}', facts.clientId).replace('${iot:Connection.Thing.ThingName}', facts.thing?.thingName ?? '\u0000');
      const granted = new Set(targets.flatMap((t) => allow[t] ?? []).map(render));
      const denied = new Set(targets.flatMap((t) => deny[t] ?? []).map(render));
      return { allows: (action: MqttAction, resource: string) => !denied.has(`${action} ${resource}`) && granted.has(`${action} ${resource}`) };
    },
  };
  return { engine: engine as PolicyEngine & { generation: number }, calls };
}

function lookups(overrides: Partial<AuthLookups> & { cert?: Partial<RegisteredCertificate> | null } = {}): AuthLookups {
  const { cert, ...rest } = overrides;
  const registered: RegisteredCertificate = { certificateId: 'c1', certificateArn: `${PREFIX}cert/c1`, status: 'ACTIVE', things: ['sensor-1'], caActive: true, ...cert };
  return {
    certificateStatus: () => (cert === null ? undefined : registered),
    verifyPassword: async (thing, password) => (thing !== 'pw-thing' ? 'none' : password === 'correct horse battery' ? 'ok' : 'wrong'),
    passwordPrincipal: (thing) => `${PREFIX}password/${thing}`,
    thing: (name) => (name === 'sensor-1' || name === 'pw-thing' ? { thingName: name, thingTypeName: 'Sensor', attributes: { floor: '3' } } : undefined),
    thingGroupArns: (name) => (name === 'sensor-1' ? [`${PREFIX}thinggroup/building`, `${PREFIX}thinggroup/campus`] : []),
    ...rest,
  };
}

function certAttempt(clientId = 'sensor-1', validity?: { from: string; to: string }): ConnectAttempt {
  return {
    clientId, sourceIp: '10.0.0.7',
    certificate: {
      der: CERT_DER, validFrom: new Date(validity?.from ?? '2026-01-01T00:00:00Z'), validTo: new Date(validity?.to ?? '2027-01-01T00:00:00Z'),
      subject: { CommonName: 'sensor-1' }, issuer: { CommonName: 'iotcore device CA' }, serialNumber: '0A',
    },
  };
}

const CERT = `${PREFIX}cert/c1`;

describe('MQTT authentication', () => {
  it('accepts an ACTIVE registered certificate whose policy allows iot:Connect on its client id', async () => {
    const { engine } = stubEngine({ [CERT]: [`iot:Connect ${PREFIX}client/sensor-1`] });
    const auth = createAuthorizer({ policies: engine, lookups: lookups(), allowAnonymous: false, arnPrefix: PREFIX, now: () => NOW });
    const outcome = await auth.connect(certAttempt());
    expect(outcome).toMatchObject({ identity: { kind: 'certificate', principal: CERT, principalIdentifier: 'c1' } });
  });

  it.each([
    ['an unregistered certificate', { cert: null }, 'CertificateUnknown'],
    ['an INACTIVE certificate', { cert: { status: 'INACTIVE' } }, 'CertificateNotActive'],
    ['a REVOKED certificate', { cert: { status: 'REVOKED' } }, 'CertificateNotActive'],
    ['a certificate whose CA is INACTIVE', { cert: { caActive: false } }, 'CaCertificateNotActive'],
  ])('refuses %s with return code 5 and counts the reason', async (_what, override, reason) => {
    const { engine } = stubEngine({ [CERT]: [`iot:Connect ${PREFIX}client/sensor-1`] });
    const auth = createAuthorizer({ policies: engine, lookups: lookups(override as never), allowAnonymous: true, arnPrefix: PREFIX, now: () => NOW });
    expect(await auth.connect(certAttempt())).toMatchObject({ refused: reason, returnCode: 5 });
    expect(auth.counters.refused[reason as 'CertificateUnknown']).toBe(1);
  });

  it('refuses a certificate outside its validity dates', async () => {
    const { engine } = stubEngine({ [CERT]: [`iot:Connect ${PREFIX}client/sensor-1`] });
    const auth = createAuthorizer({ policies: engine, lookups: lookups(), allowAnonymous: false, arnPrefix: PREFIX, now: () => NOW });
    expect(await auth.connect(certAttempt('sensor-1', { from: '2025-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }))).toMatchObject({ refused: 'CertificateOutsideValidity' });
    expect(await auth.connect(certAttempt('sensor-1', { from: '2026-07-01T00:00:00Z', to: '2027-01-01T00:00:00Z' }))).toMatchObject({ refused: 'CertificateOutsideValidity' });
  });

  it('refuses a valid certificate whose policies do not allow iot:Connect on the client id', async () => {
    const { engine } = stubEngine({ [CERT]: [`iot:Connect ${PREFIX}client/sensor-1`] });
    const auth = createAuthorizer({ policies: engine, lookups: lookups(), allowAnonymous: false, arnPrefix: PREFIX, now: () => NOW });
    expect(await auth.connect(certAttempt('someone-else'))).toMatchObject({ refused: 'ConnectNotAuthorized', returnCode: 5 });
    expect(auth.counters.denied['iot:Connect']).toBe(1);
  });

  it('prefers the certificate when a client presents a certificate and a password', async () => {
    const { engine } = stubEngine({ [CERT]: [`iot:Connect ${PREFIX}client/sensor-1`] });
    const auth = createAuthorizer({ policies: engine, lookups: lookups(), allowAnonymous: false, arnPrefix: PREFIX, now: () => NOW });
    const outcome = await auth.connect({ ...certAttempt(), username: 'pw-thing', password: 'wrong password!!' });
    expect(outcome).toMatchObject({ identity: { kind: 'certificate' } });
  });

  it('accepts the right password for a thing, with the password principal, and refuses a wrong one with return code 4', async () => {
    const principal = `${PREFIX}password/pw-thing`;
    const { engine } = stubEngine({ [principal]: [`iot:Connect ${PREFIX}client/pw-thing`] });
    const auth = createAuthorizer({ policies: engine, lookups: lookups(), allowAnonymous: false, arnPrefix: PREFIX, now: () => NOW });
    const base = { clientId: 'pw-thing', sourceIp: '10.0.0.8', username: 'pw-thing' };
    expect(await auth.connect({ ...base, password: 'correct horse battery' })).toMatchObject({ identity: { kind: 'password', principal } });
    expect(await auth.connect({ ...base, password: 'not the password' })).toMatchObject({ refused: 'BadUsernameOrPassword', returnCode: 4 });
  });

  it('refuses password CONNECTs from an address with 10 failures with return code 3, without checking the password; certificates and other addresses go on', async () => {
    const principal = `${PREFIX}password/pw-thing`;
    const { engine } = stubEngine({ [principal]: [`iot:Connect ${PREFIX}client/pw-thing`], [CERT]: [`iot:Connect ${PREFIX}client/sensor-1`] });
    let checked = 0;
    const base = lookups();
    const counting = lookups({ verifyPassword: async (t, p) => { checked++; return base.verifyPassword(t, p); } });
    const auth = createAuthorizer({ policies: engine, lookups: counting, allowAnonymous: false, arnPrefix: PREFIX, now: () => NOW, failureLimit: createFailureLimit({ now: () => NOW }) });
    const from = (sourceIp: string, password: string) => auth.connect({ clientId: 'pw-thing', sourceIp, username: 'pw-thing', password });
    for (let i = 0; i < 10; i++) expect(await from('10.0.0.8', `guess number ${i}`)).toMatchObject({ refused: 'BadUsernameOrPassword' });
    expect(checked).toBe(10);
    expect(await from('10.0.0.8', 'correct horse battery')).toMatchObject({ refused: 'RateLimited', returnCode: 3 });
    expect(checked).toBe(10);
    expect(await from('10.0.0.9', 'correct horse battery')).toMatchObject({ identity: { kind: 'password' } });
    expect(await auth.connect({ ...certAttempt(), sourceIp: '10.0.0.8' })).toMatchObject({ identity: { kind: 'certificate' } });
    expect(auth.counters.refused).toMatchObject({ BadUsernameOrPassword: 10, RateLimited: 1 });
  });

  it('answers an unknown username exactly as a wrong password, so thing names do not leak', async () => {
    const { engine } = stubEngine({});
    const auth = createAuthorizer({ policies: engine, lookups: lookups(), allowAnonymous: false, arnPrefix: PREFIX, now: () => NOW });
    const unknown = await auth.connect({ clientId: 'x', sourceIp: '1.2.3.4', username: 'no-such-thing', password: 'whatever password' });
    const wrong = await auth.connect({ clientId: 'x', sourceIp: '1.2.3.4', username: 'pw-thing', password: 'whatever password' });
    expect(unknown).toEqual(wrong);
  });

  it('refuses a client without credentials unless anonymous clients are allowed, which then may do everything', async () => {
    const { engine } = stubEngine({});
    const strict = createAuthorizer({ policies: engine, lookups: lookups(), allowAnonymous: false, arnPrefix: PREFIX, now: () => NOW });
    expect(await strict.connect({ clientId: 'dev', sourceIp: '127.0.0.1' })).toMatchObject({ refused: 'AnonymousNotAllowed', returnCode: 5 });
    const dev = createAuthorizer({ policies: engine, lookups: lookups(), allowAnonymous: true, arnPrefix: PREFIX, now: () => NOW });
    const outcome = await dev.connect({ clientId: 'dev', sourceIp: '127.0.0.1', username: 'only-a-username' });
    expect(outcome).toMatchObject({ identity: { kind: 'anonymous', principalIdentifier: 'anonymous' } });
    const identity = (outcome as { identity: Identity }).identity;
    expect(dev.allows(identity, 'iot:Publish', 'topic/anything')).toBe(true);
  });
});

describe('MQTT authorization', () => {
  async function connected(allow: Record<string, string[]>, clientId = 'sensor-1', deny: Record<string, string[]> = {}) {
    const stub = stubEngine({ ...allow, [CERT]: [`iot:Connect ${PREFIX}client/${clientId}`, ...(allow[CERT] ?? [])] }, deny);
    const auth = createAuthorizer({ policies: stub.engine, lookups: lookups(), allowAnonymous: false, arnPrefix: PREFIX, now: () => NOW });
    const outcome = await auth.connect(certAttempt(clientId));
    if (!('identity' in outcome)) throw new Error(`refused: ${outcome.refused}`);
    return { ...stub, auth, identity: outcome.identity };
  }

  it('asks for the principal and the groups (with parents) of its things as policy targets', async () => {
    const { calls } = await connected({});
    expect(calls[0]!.targets).toEqual([CERT, `${PREFIX}thinggroup/building`, `${PREFIX}thinggroup/campus`]);
  });

  it('applies thing-group policies to the certificates of member things', async () => {
    const { auth, identity } = await connected({ [`${PREFIX}thinggroup/campus`]: [`iot:Publish ${PREFIX}topic/campus/news`] });
    expect(auth.allows(identity, 'iot:Publish', 'topic/campus/news')).toBe(true);
    expect(auth.allows(identity, 'iot:Publish', 'topic/elsewhere')).toBe(false);
    expect(auth.counters.denied['iot:Publish']).toBe(1);
  });

  it('sets the thing facts only when the client id is the name of a thing attached to the principal', async () => {
    const same = await connected({});
    expect(same.calls[0]!.facts).toMatchObject({ clientId: 'sensor-1', principal: CERT, sourceIp: '10.0.0.7', thing: { thingName: 'sensor-1', thingTypeName: 'Sensor', attributes: { floor: '3' } } });
    expect(same.calls[0]!.facts.certificate).toMatchObject({ subject: { CommonName: 'sensor-1' }, serialNumber: '0A' });
    const other = await connected({}, 'not-a-thing');
    expect(other.calls[0]!.facts.thing).toBeUndefined();
  });

  it('lets a ${iot:Connection.Thing.ThingName} policy work for the thing-named client only', async () => {
    const allow = { [CERT]: ['iot:Publish ' + PREFIX + 'topic/things/${iot:Connection.Thing.ThingName}/data'] };
    const thing = await connected(allow);
    expect(thing.auth.allows(thing.identity, 'iot:Publish', 'topic/things/sensor-1/data')).toBe(true);
    const other = await connected(allow, 'other-client');
    expect(other.auth.allows(other.identity, 'iot:Publish', 'topic/things/sensor-1/data')).toBe(false);
  });

  it('lets an explicit Deny win over an Allow', async () => {
    const { auth, identity } = await connected({ [CERT]: [`iot:Subscribe ${PREFIX}topicfilter/a/#`] }, 'sensor-1', { [`${PREFIX}thinggroup/building`]: [`iot:Subscribe ${PREFIX}topicfilter/a/#`] });
    expect(auth.allows(identity, 'iot:Subscribe', 'topicfilter/a/#')).toBe(false);
  });

  it('compiles permissions once per policy generation, not per check', async () => {
    const { auth, identity, calls, engine } = await connected({ [CERT]: [`iot:Receive ${PREFIX}topic/t`] });
    for (let i = 0; i < 100; i++) auth.allows(identity, 'iot:Receive', 'topic/t');
    expect(calls).toHaveLength(1);
    engine.generation++;
    auth.allows(identity, 'iot:Receive', 'topic/t');
    expect(calls).toHaveLength(2);
  });
});
