// The HTTP action through the engine's public API, with a recording fake of the http sink.
import { createRulesEngine, SUPPORTED_ACTIONS, type HttpAction, type TopicRulePayload } from '../../../rules/index.js';
import { jsonMessage, recordingSinks, refusal } from './helpers.js';

const V2 = '2016-03-23' as const;

function httpRule(http: HttpAction, sql = "SELECT * FROM 'dev/+/data'", extra: Partial<TopicRulePayload> = {}): TopicRulePayload {
  return { sql, awsIotSqlVersion: V2, actions: [{ http }], ...extra };
}

describe('http action: delivery', () => {
  it('posts the serialized output with substituted url and header values and a JSON content type', async () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks);
    engine.putRule('r', httpRule({
      url: 'https://hooks.example.com/${topic(2)}?site=${meta.site}',
      headers: [{ key: 'x-device', value: '${clientid()}' }, { key: 'Authorization', value: 'Bearer abc' }],
    }, "SELECT v, meta FROM 'dev/+/data'"));
    expect(engine.handle(jsonMessage('dev/d1/data', { v: 3, meta: { site: 's9' } }, { clientId: 'c1' }))).toBeUndefined();
    await engine.idle();
    expect(sinks.calls).toEqual([{
      kind: 'http',
      target: 'https://hooks.example.com/d1?site=s9',
      payloads: ['{"v":3,"meta":{"site":"s9"}}'],
      headers: [{ key: 'x-device', value: 'c1' }, { key: 'Authorization', value: 'Bearer abc' }, { key: 'content-type', value: 'application/json' }],
    }]);
    expect(engine.counters()[0]).toMatchObject({ actionsOk: 1, actionsFailed: 0 });
  });

  it('sends raw bytes as application/octet-stream and a string output as JSON', async () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks);
    engine.putRule('raw', httpRule({ url: 'http://local/raw' }, "SELECT * FROM 'bin'"));
    engine.putRule('text', httpRule({ url: 'http://local/text' }, "SELECT VALUE 'hi' FROM 'bin'"));
    engine.handle({ topic: 'bin', payload: Buffer.from([0xff, 0x00, 0x80]), receivedAt: 0 });
    const ct = (i: number) => sinks.calls[i]!.headers!.find((h) => h.key === 'content-type')!.value;
    expect([sinks.calls[0]!.target, ct(0)]).toEqual(['http://local/raw', 'application/octet-stream']);
    expect([sinks.calls[1]!.target, sinks.calls[1]!.payloads[0], ct(1)]).toEqual(['http://local/text', '"hi"', 'application/json']);
  });

  it("uses the action's own content-type entry, whatever its case, and adds no default", () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks);
    engine.putRule('r', httpRule({ url: 'http://local/x', headers: [{ key: 'Content-Type', value: 'text/plain' }] }));
    engine.handle(jsonMessage('dev/d1/data', { v: 1 }));
    expect(sinks.calls[0]!.headers).toEqual([{ key: 'Content-Type', value: 'text/plain' }]);
  });

  it('fails the action, naming the substituted url, when the url is not valid after substitution', async () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks);
    engine.putRule('r', httpRule({ url: 'http://${host}/x' }, "SELECT * FROM 'dev/+/data'", { errorAction: { republish: { topic: 'errors' } } }));
    engine.handle(jsonMessage('dev/d1/data', { host: 'bad host' }));
    await engine.idle();
    expect(sinks.calls.filter((c) => c.kind === 'http')).toEqual([]);
    const report = JSON.parse(sinks.calls.find((c) => c.target === 'errors')!.payloads[0]!);
    expect(report.failures).toEqual([{ failedAction: 'HttpAction', failedResource: 'http://bad host/x', errorMessage: expect.stringContaining('not a valid URL') }]);
  });

  it('fails the action when a substituted header value would add a header line', async () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks);
    engine.putRule('r', httpRule({ url: 'http://local/x', headers: [{ key: 'x-id', value: '${id}' }] }));
    engine.handle(jsonMessage('dev/d1/data', { id: 'a\r\nx-admin: yes' }));
    await engine.idle();
    expect(sinks.calls).toEqual([]);
    expect(engine.counters()[0]).toMatchObject({ actionsFailed: 1 });
  });
});

describe('http action: definitions', () => {
  const engine = createRulesEngine(recordingSinks());
  const put = (http: unknown) => engine.putRule('r', { sql: "SELECT * FROM 'a'", actions: [{ http: http as HttpAction }] });

  it('is listed among the supported actions and accepts plain http and a matching confirmationUrl', () => {
    expect(SUPPORTED_ACTIONS).toContain('http');
    expect(put({ url: 'http://127.0.0.1:8080/hook' }).ruleName).toBe('r');
    expect(put({ url: 'https://h.example/a/${topic()}', confirmationUrl: 'https://h.example/a/' }).ruleName).toBe('r');
    expect(put({ url: 'https://h.example/a', enableBatching: false }).ruleName).toBe('r');
  });

  it('refuses a missing, non-http or too long url and one that does not start with confirmationUrl', () => {
    expect(refusal(() => put({})).message).toMatch(/url is required/);
    expect(refusal(() => put({ url: 'ftp://h/x' })).message).toMatch(/http:\/\/ or https:\/\//);
    expect(refusal(() => put({ url: '${host}/x' })).message).toMatch(/http:\/\/ or https:\/\//);
    expect(refusal(() => put({ url: `https://h/${'a'.repeat(2048)}` })).message).toMatch(/longer than 2048 bytes/);
    expect(refusal(() => put({ url: 'https://a.example/x', confirmationUrl: 'https://b.example/' })).message).toMatch(/must start with confirmationUrl/);
    expect(refusal(() => put({ url: 'https://h/${nosuch()}' })).message).toMatch(/unknown function/);
  });

  it('refuses too many headers, bad or duplicate keys and templates in keys', () => {
    const many = Array.from({ length: 101 }, (_, i) => ({ key: `h${i}`, value: 'v' }));
    expect(refusal(() => put({ url: 'http://h', headers: many })).message).toMatch(/at most 100/);
    expect(refusal(() => put({ url: 'http://h', headers: [{ key: '', value: 'v' }] })).message).toMatch(/1 to 256 bytes/);
    expect(refusal(() => put({ url: 'http://h', headers: [{ key: 'k'.repeat(257), value: 'v' }] })).message).toMatch(/1 to 256 bytes/);
    expect(refusal(() => put({ url: 'http://h', headers: [{ key: 'X-A', value: '1' }, { key: 'x-a', value: '2' }] })).message).toMatch(/more than once/);
    expect(refusal(() => put({ url: 'http://h', headers: [{ key: 'x-${topic()}', value: '1' }] })).message).toMatch(/not a valid HTTP header name/);
    expect(refusal(() => put({ url: 'http://h', headers: [{ key: 'x', value: 5 }] })).message).toMatch(/value must be a string/);
    expect(put({ url: 'http://h', headers: Array.from({ length: 100 }, (_, i) => ({ key: `h${i}`, value: 'v' })) }).ruleName).toBe('r');
  });

  it('refuses SigV4 auth and batching as not supported yet', () => {
    const auth = refusal(() => put({ url: 'https://h', auth: { sigv4: { signingRegion: 'eu-west-1', serviceName: 'execute-api', roleArn: 'arn:x' } } }));
    expect([auth.code, auth.statusCode]).toEqual(['InvalidRequestException', 400]);
    expect(auth.message).toMatch(/auth.*not supported yet/);
    expect(refusal(() => put({ url: 'https://h', enableBatching: true })).message).toMatch(/batching.*not supported yet/);
    expect(refusal(() => put({ url: 'https://h', batchConfig: { maxBatchSize: 10 } })).message).toMatch(/batching.*not supported yet/);
  });
});
