// AWS IoT policy documents: validation, IAM-style wildcards, policy variables, conditions and the
// Deny-wins evaluation, through the compiled matchers the MQTT hooks use.
import { compilePolicy, permissionsOf, MAX_POLICY_CHARACTERS, PERMISSION_MEMO_LIMIT } from '../../../broker/identity/policy-document.js';
import type { ConnectionFacts, MqttAction } from '../../../broker/identity/permissions.js';

const ARN = 'arn:aws:iot:us-east-1:123456789012';
const topic = (t: string) => `${ARN}:topic/${t}`;
const filter = (f: string) => `${ARN}:topicfilter/${f}`;
const client = (c: string) => `${ARN}:client/${c}`;

const FACTS: ConnectionFacts = {
  clientId: 'sensor-1',
  sourceIp: '10.1.2.3',
  principal: `${ARN}:cert/abc`,
  thing: { thingName: 'sensor-1', thingTypeName: 'thermometer', attributes: { site: 'berlin', floor: '3' } },
  certificate: {
    subject: { CommonName: 'sensor-1.example', Organization: 'Acme', Country: 'DE' },
    issuer: { CommonName: 'Acme CA', Organization: 'Acme' },
    serialNumber: '0a1b2c',
    notBefore: '2024-01-01T00:00:00.000Z',
    notAfter: '2030-01-01T00:00:00.000Z',
  },
};

type Statement = Record<string, unknown>;
function doc(...statements: Statement[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}
function allowing(resource: string | string[], action: string | string[] = 'iot:*', extra: Statement = {}): Statement {
  return { Effect: 'Allow', Action: action, Resource: resource, ...extra };
}
function permissions(document: string | object, facts: ConnectionFacts = FACTS) {
  return permissionsOf([compilePolicy(document).bind(facts)]);
}
function malformed(document: string | object): string {
  try {
    compilePolicy(document);
  } catch (err) {
    expect((err as { code: string }).code).toBe('MalformedPolicyException');
    expect((err as { statusCode: number }).statusCode).toBe(400);
    return (err as Error).message;
  }
  throw new Error('expected MalformedPolicyException');
}

describe('policy document validation', () => {
  it('refuses text that is not JSON, naming the problem', () => {
    expect(malformed('{"Statement": [')).toMatch(/not JSON/);
    expect(malformed('')).toMatch(/empty/);
    expect(malformed('[1]')).toMatch(/JSON object/);
  });

  it('refuses a document without Statement, or with an empty one', () => {
    expect(malformed({ Version: '2012-10-17' })).toMatch(/no Statement/);
    expect(malformed({ Version: '2012-10-17', Statement: [] })).toMatch(/must not be empty/);
  });

  it('refuses an Effect other than Allow or Deny', () => {
    expect(malformed(doc({ Effect: 'Permit', Action: 'iot:*', Resource: '*' }))).toMatch(/Statement\[0\]\.Effect must be "Allow" or "Deny", got "Permit"/);
  });

  it('refuses a statement without Action or Resource, or with both Action and NotAction', () => {
    expect(malformed(doc({ Effect: 'Allow', Resource: '*' }))).toMatch(/has no Action/);
    expect(malformed(doc({ Effect: 'Allow', Action: 'iot:*' }))).toMatch(/has no Resource/);
    expect(malformed(doc({ Effect: 'Allow', Action: 'iot:*', NotAction: 'iot:Publish', Resource: '*' }))).toMatch(/both Action and NotAction/);
    expect(malformed(doc({ Effect: 'Allow', Action: [], Resource: '*' }))).toMatch(/Action must not be empty/);
  });

  it('refuses malformed actions and resources', () => {
    expect(malformed(doc(allowing('*', 'Publish')))).toMatch(/not an action/);
    expect(malformed(doc(allowing('topic/a')))).toMatch(/not an ARN/);
    expect(malformed(doc(allowing(['*', 7] as never)))).toMatch(/Resource\[1\] must be a non-empty string/);
  });

  it('refuses unknown elements, a Principal and an unknown Version', () => {
    expect(malformed({ Version: '2012-10-17', Statement: [allowing('*')], Extra: 1 })).toMatch(/unknown top-level element 'Extra'/);
    expect(malformed(doc({ ...allowing('*'), Principal: '*' }))).toMatch(/no Principal/);
    expect(malformed({ Version: '2020-01-01', Statement: [allowing('*')] })).toMatch(/Version must be/);
  });

  it('refuses an unsupported condition operator or key, naming it', () => {
    expect(malformed(doc(allowing('*', 'iot:*', { Condition: { 'ForAnyValue:StringLike': { 'iot:ClientId': 'a*' } } })))).toMatch(/operator 'ForAnyValue:StringLike' is not supported/);
    expect(malformed(doc(allowing('*', 'iot:*', { Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01' } } })))).toMatch(/operator 'DateGreaterThan'/);
    expect(malformed(doc(allowing('*', 'iot:*', { Condition: { StringEquals: { 'aws:SecureTransport': 'true' } } })))).toMatch(/condition key 'aws:SecureTransport' is not supported/);
    expect(malformed(doc(allowing('*', 'iot:*', { Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/99' } } })))).toMatch(/not an IP address or CIDR/);
    expect(malformed(doc(allowing('*', 'iot:*', { Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'yes' } } })))).toMatch(/"true" or "false"/);
  });

  it('refuses more than 2,048 characters without whitespace, but counts no whitespace', () => {
    const resources = Array.from({ length: 60 }, (_, i) => topic(`t${i}`));
    const big = doc(allowing(resources));
    expect(big.replace(/\s/g, '').length).toBeGreaterThan(MAX_POLICY_CHARACTERS);
    expect(malformed(big)).toMatch(/characters without whitespace; the limit is 2048/);
    const small = doc(allowing(resources.slice(0, 10)));
    expect(() => compilePolicy(small.replace(/,/g, ',' + ' '.repeat(200)))).not.toThrow();
  });

  it('accepts a single statement object and single strings for Action and Resource', () => {
    const p = permissions({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'iot:Publish', Resource: topic('a') } });
    expect(p.allows('iot:Publish', topic('a'))).toBe(true);
  });

  it('keeps the document text as given', () => {
    const text = doc(allowing('*'));
    expect(compilePolicy(text).document).toBe(text);
  });
});

describe('policy evaluation', () => {
  it('allows nothing without a matching Allow, and nothing at all without policies', () => {
    expect(permissionsOf([]).allows('iot:Connect', client('x'))).toBe(false);
    const p = permissions(doc(allowing(topic('a'), 'iot:Publish')));
    expect(p.allows('iot:Publish', topic('b'))).toBe(false);
    expect(p.allows('iot:Receive', topic('a'))).toBe(false);
  });

  it('lets an explicit Deny win over any Allow, across policies', () => {
    const allow = compilePolicy(doc(allowing('*'))).bind(FACTS);
    const deny = compilePolicy(doc({ Effect: 'Deny', Action: 'iot:Publish', Resource: topic('secret/*') })).bind(FACTS);
    const p = permissionsOf([allow, deny]);
    expect(p.allows('iot:Publish', topic('secret/x'))).toBe(false);
    expect(p.allows('iot:Receive', topic('secret/x'))).toBe(true);
    expect(p.allows('iot:Publish', topic('public'))).toBe(true);
  });

  it('matches actions case-insensitively, with IAM wildcards', () => {
    const p = permissions(doc(allowing('*', ['IOT:publish', 'iot:Sub*'])));
    expect(p.allows('iot:Publish', topic('a'))).toBe(true);
    expect(p.allows('iot:Subscribe', filter('a'))).toBe(true);
    expect(p.allows('iot:Receive', topic('a'))).toBe(false);
    expect(permissions(doc(allowing('*', '*'))).allows('iot:Connect', client('c'))).toBe(true);
    expect(permissions(doc(allowing('*', 'iot:?eceive'))).allows('iot:Receive', topic('a'))).toBe(true);
  });

  it('supports NotAction and NotResource', () => {
    const p = permissions(doc({ Effect: 'Allow', NotAction: 'iot:Publish', NotResource: topic('private/*') }));
    expect(p.allows('iot:Receive', topic('a'))).toBe(true);
    expect(p.allows('iot:Publish', topic('a'))).toBe(false);
    expect(p.allows('iot:Receive', topic('private/x'))).toBe(false);
  });

  it('treats * as any characters across levels and ? as exactly one character', () => {
    const p = permissions(doc(allowing([topic('devices/*'), topic('room?/temp')], 'iot:Publish')));
    expect(p.allows('iot:Publish', topic('devices/a/b/c'))).toBe(true);
    expect(p.allows('iot:Publish', topic('devices/'))).toBe(true);
    expect(p.allows('iot:Publish', topic('devices'))).toBe(false);
    expect(p.allows('iot:Publish', topic('room1/temp'))).toBe(true);
    expect(p.allows('iot:Publish', topic('room12/temp'))).toBe(false);
    expect(p.allows('iot:Publish', topic('room/temp'))).toBe(false);
    expect(permissions(doc(allowing(`arn:aws:iot:*:*:topic/x`))).allows('iot:Publish', topic('x'))).toBe(true);
  });

  it('treats MQTT + and # as literal characters', () => {
    const p = permissions(doc(allowing([filter('some/+/topic'), filter('all/#')], 'iot:Subscribe')));
    expect(p.allows('iot:Subscribe', filter('some/+/topic'))).toBe(true);
    expect(p.allows('iot:Subscribe', filter('some/x/topic'))).toBe(false);
    expect(p.allows('iot:Subscribe', filter('all/#'))).toBe(true);
    expect(p.allows('iot:Subscribe', filter('all/x'))).toBe(false);
  });

  it('reads ${*}, ${?} and ${$} as the literal characters', () => {
    const p = permissions(doc(allowing([topic('star/${*}'), topic('q/${?}'), topic('${$}aws/x')], 'iot:Publish')));
    expect(p.allows('iot:Publish', topic('star/*'))).toBe(true);
    expect(p.allows('iot:Publish', topic('star/abc'))).toBe(false);
    expect(p.allows('iot:Publish', topic('q/?'))).toBe(true);
    expect(p.allows('iot:Publish', topic('q/a'))).toBe(false);
    expect(p.allows('iot:Publish', topic('$aws/x'))).toBe(true);
  });

  it('reads ${...} literally with Version 2008-10-17', () => {
    const p = permissions({ Version: '2008-10-17', Statement: [allowing(topic('${iot:ClientId}'), 'iot:Publish')] });
    expect(p.allows('iot:Publish', topic('sensor-1'))).toBe(false);
    expect(p.allows('iot:Publish', topic('${iot:ClientId}'))).toBe(true);
  });
});

describe('policy variables', () => {
  const cases: [string, string][] = [
    ['${iot:ClientId}', 'sensor-1'],
    ['${aws:SourceIp}', '10.1.2.3'],
    ['${iot:Connection.Thing.ThingName}', 'sensor-1'],
    ['${iot:Connection.Thing.ThingTypeName}', 'thermometer'],
    ['${iot:Connection.Thing.Attributes[site]}', 'berlin'],
    ['${iot:Connection.Thing.IsAttached}', 'true'],
    ['${iot:Certificate.Subject.CommonName}', 'sensor-1.example'],
    ['${iot:Certificate.Subject.Organization}', 'Acme'],
    ['${iot:Certificate.Subject.Country}', 'DE'],
    ['${iot:Certificate.Issuer.CommonName}', 'Acme CA'],
    ['${iot:Certificate.SerialNumber}', '0a1b2c'],
    ['${iot:Certificate.Validity.NotBefore}', '2024-01-01T00:00:00.000Z'],
    ['${iot:Certificate.Validity.NotAfter}', '2030-01-01T00:00:00.000Z'],
  ];
  it.each(cases)('substitutes %s from the connection', (variable, value) => {
    const p = permissions(doc(allowing(topic(`v/${variable}/data`), 'iot:Publish')));
    expect(p.allows('iot:Publish', topic(`v/${value}/data`))).toBe(true);
    expect(p.allows('iot:Publish', topic(`v/other/data`))).toBe(false);
  });

  it('substitutes values as literal text, so a client id of * is no wildcard', () => {
    const p = permissions(doc(allowing(topic('c/${iot:ClientId}'), 'iot:Publish')), { ...FACTS, clientId: '*' });
    expect(p.allows('iot:Publish', topic('c/*'))).toBe(true);
    expect(p.allows('iot:Publish', topic('c/anything'))).toBe(false);
  });

  it('combines variables with wildcards', () => {
    const p = permissions(doc(allowing(topic('devices/${iot:ClientId}/*'), 'iot:Publish')));
    expect(p.allows('iot:Publish', topic('devices/sensor-1/telemetry/x'))).toBe(true);
    expect(p.allows('iot:Publish', topic('devices/sensor-2/telemetry'))).toBe(false);
  });

  it('lets a resource whose variable cannot be resolved match nothing', () => {
    const noThing: ConnectionFacts = { clientId: 'c1', sourceIp: '10.0.0.1', principal: 'p' };
    const p = permissions(doc(allowing([topic('things/${iot:Connection.Thing.ThingName}'), topic('cert/${iot:Certificate.Subject.CommonName}'), topic('x/${iot:Unknown}')], 'iot:Publish')), noThing);
    expect(p.allows('iot:Publish', topic('things/'))).toBe(false);
    expect(p.allows('iot:Publish', topic('things/${iot:Connection.Thing.ThingName}'))).toBe(false);
    expect(p.allows('iot:Publish', topic('cert/'))).toBe(false);
    expect(p.allows('iot:Publish', topic('x/'))).toBe(false);
    expect(permissions(doc(allowing(topic('a/${iot:Connection.Thing.Attributes[missing]}'))), FACTS).allows('iot:Publish', topic('a/'))).toBe(false);
  });

  it('does not widen an Allow with NotResource when its variable cannot be resolved', () => {
    const noThing: ConnectionFacts = { clientId: 'c1', sourceIp: '10.0.0.1', principal: 'p' };
    const p = permissions(doc({ Effect: 'Allow', Action: 'iot:Publish', NotResource: topic('${iot:Connection.Thing.ThingName}/*') }), noThing);
    expect(p.allows('iot:Publish', topic('anything'))).toBe(false);
  });

  it('gives IsAttached "false" when the connection has no thing', () => {
    const p = permissions(doc(allowing(topic('attached/${iot:Connection.Thing.IsAttached}'), 'iot:Publish')), { clientId: 'c', sourceIp: '1.2.3.4', principal: 'p' });
    expect(p.allows('iot:Publish', topic('attached/false'))).toBe(true);
  });
});

describe('policy conditions', () => {
  const withCondition = (condition: object, facts: ConnectionFacts = FACTS) =>
    permissions(doc(allowing(topic('t'), 'iot:Publish', { Condition: condition })), facts).allows('iot:Publish', topic('t'));
  const noThing: ConnectionFacts = { clientId: 'loose', sourceIp: '192.168.0.9', principal: 'p' };

  it('StringEquals, StringNotEquals and StringEqualsIgnoreCase compare whole values, any of a list', () => {
    expect(withCondition({ StringEquals: { 'iot:ClientId': ['other', 'sensor-1'] } })).toBe(true);
    expect(withCondition({ StringEquals: { 'iot:ClientId': 'Sensor-1' } })).toBe(false);
    expect(withCondition({ StringEquals: { 'iot:ClientId': 'sensor-*' } })).toBe(false);
    expect(withCondition({ StringEqualsIgnoreCase: { 'iot:ClientId': 'SENSOR-1' } })).toBe(true);
    expect(withCondition({ StringNotEquals: { 'iot:Connection.Thing.ThingTypeName': 'camera' } })).toBe(true);
    expect(withCondition({ StringNotEquals: { 'iot:Connection.Thing.ThingTypeName': ['camera', 'thermometer'] } })).toBe(false);
  });

  it('StringLike and StringNotLike use wildcards', () => {
    expect(withCondition({ StringLike: { 'iot:ClientId': 'sensor-?' } })).toBe(true);
    expect(withCondition({ StringLike: { 'iot:Certificate.Subject.CommonName': '*.example' } })).toBe(true);
    expect(withCondition({ StringNotLike: { 'iot:ClientId': 'sensor-*' } })).toBe(false);
  });

  it('uses thing attributes, thing type and certificate fields as keys', () => {
    expect(withCondition({ StringEquals: { 'iot:Connection.Thing.Attributes[site]': 'berlin', 'iot:Connection.Thing.ThingTypeName': 'thermometer' } })).toBe(true);
    expect(withCondition({ StringEquals: { 'iot:Connection.Thing.Attributes[site]': 'paris' } })).toBe(false);
    expect(withCondition({ StringEquals: { 'iot:Certificate.Issuer.Organization': 'Acme' } })).toBe(true);
  });

  it('Bool on IsAttached admits only connections with their thing', () => {
    expect(withCondition({ Bool: { 'iot:Connection.Thing.IsAttached': 'true' } })).toBe(true);
    expect(withCondition({ Bool: { 'iot:Connection.Thing.IsAttached': ['true'] } }, noThing)).toBe(false);
    expect(withCondition({ Bool: { 'iot:Connection.Thing.IsAttached': false } }, noThing)).toBe(true);
  });

  it('IpAddress and NotIpAddress take CIDR blocks and single addresses', () => {
    expect(withCondition({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } })).toBe(true);
    expect(withCondition({ IpAddress: { 'aws:SourceIp': ['192.168.0.0/16', '10.1.2.3'] } })).toBe(true);
    expect(withCondition({ IpAddress: { 'aws:SourceIp': '192.168.0.0/16' } })).toBe(false);
    expect(withCondition({ NotIpAddress: { 'aws:SourceIp': '192.168.0.0/16' } })).toBe(true);
    expect(withCondition({ IpAddress: { 'aws:SourceIp': '::1/128' } }, { ...FACTS, sourceIp: '::1' })).toBe(true);
  });

  it('ArnEquals and ArnLike match with wildcards', () => {
    expect(withCondition({ ArnLike: { 'iot:ClientId': 'sensor-*' } })).toBe(true);
    expect(withCondition({ ArnEquals: { 'iot:ClientId': 'sensor-1' } })).toBe(true);
  });

  it('requires every operator and every key to hold', () => {
    expect(withCondition({ StringEquals: { 'iot:ClientId': 'sensor-1' }, IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } })).toBe(true);
    expect(withCondition({ StringEquals: { 'iot:ClientId': 'sensor-1', 'iot:Connection.Thing.ThingName': 'other' } })).toBe(false);
  });

  it('treats a missing key as failing positive operators and passing negated ones (IfExists passes)', () => {
    expect(withCondition({ StringEquals: { 'iot:Connection.Thing.ThingName': 'loose' } }, noThing)).toBe(false);
    expect(withCondition({ StringNotEquals: { 'iot:Connection.Thing.ThingName': 'x' } }, noThing)).toBe(true);
    expect(withCondition({ StringEqualsIfExists: { 'iot:Connection.Thing.ThingName': 'x' } }, noThing)).toBe(true);
    expect(withCondition({ Null: { 'iot:Connection.Thing.ThingName': 'true' } }, noThing)).toBe(true);
    expect(withCondition({ Null: { 'iot:Connection.Thing.ThingName': 'true' } })).toBe(false);
  });

  it('substitutes policy variables in condition values', () => {
    expect(withCondition({ StringEquals: { 'iot:Connection.Thing.ThingName': '${iot:ClientId}' } })).toBe(true);
    expect(withCondition({ StringEquals: { 'iot:Connection.Thing.ThingName': '${iot:ClientId}' } }, { ...FACTS, clientId: 'x' })).toBe(false);
  });

  it('applies conditions to Deny statements too', () => {
    const document = doc(allowing('*'), { Effect: 'Deny', Action: 'iot:Publish', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } });
    expect(permissions(document).allows('iot:Publish', topic('a'))).toBe(true);
    expect(permissions(document, { ...FACTS, sourceIp: '8.8.8.8' }).allows('iot:Publish', topic('a'))).toBe(false);
  });
});

describe('the permission memo', () => {
  it('gives the same answers as an evaluation without memo, also after it is cleared', () => {
    const document = doc(allowing(topic('devices/${iot:ClientId}/*'), ['iot:Publish', 'iot:Receive']), { Effect: 'Deny', Action: 'iot:Publish', Resource: topic('devices/*/secret') });
    const bound = compilePolicy(document).bind(FACTS);
    const memoized = permissionsOf([bound]);
    const actions: MqttAction[] = ['iot:Publish', 'iot:Receive', 'iot:Subscribe'];
    const asks: [MqttAction, string][] = [];
    for (let i = 0; i < PERMISSION_MEMO_LIMIT * 2 + 10; i++) {
      const t = topic(i % 3 === 0 ? `devices/sensor-1/secret` : i % 3 === 1 ? `devices/sensor-1/t${i % 50}` : `devices/other/t${i}`);
      asks.push([actions[i % actions.length]!, t]);
    }
    for (const [action, resource] of [...asks, ...asks]) {
      expect(memoized.allows(action, resource)).toBe(permissionsOf([bound]).allows(action, resource));
    }
    expect(memoized.allows('iot:Publish', topic('devices/sensor-1/secret'))).toBe(false);
    expect(memoized.allows('iot:Publish', topic('devices/sensor-1/x'))).toBe(true);
  });
});
