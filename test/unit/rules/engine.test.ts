// The engine through its public API with a recording fake of the sinks.
import { createRulesEngine, RulesError, type TopicRulePayload } from '../../../rules/index.js';
import { jest } from '@jest/globals';
import { jsonMessage, recordingSinks, refusal } from './helpers.js';

const V2 = '2016-03-23' as const;

function rule(sql: string, actions: TopicRulePayload['actions'], extra: Partial<TopicRulePayload> = {}): TopicRulePayload {
  return { sql, awsIotSqlVersion: V2, actions, ...extra };
}

describe('rules engine: matching and evaluation', () => {
  it('returns undefined without reading the payload when no rule matches', () => {
    const engine = createRulesEngine(recordingSinks());
    engine.putRule('r', rule("SELECT * FROM 'a/+'", [{ republish: { topic: 'out' } }]));
    const msg = jsonMessage('b/c', { x: 1 });
    const toString = jest.spyOn(msg.payload, 'toString');
    expect(engine.handle(msg)).toBeUndefined();
    expect(toString).not.toHaveBeenCalled();
  });

  it('does not parse the payload for a matching rule that never reads it', async () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks);
    engine.putRule('r', rule("SELECT topic(2) AS id FROM 'a/+'", [{ republish: { topic: 'out' } }]));
    const msg = jsonMessage('a/dev7', { x: 1 });
    const toString = jest.spyOn(msg.payload, 'toString');
    await engine.handle(msg);
    expect(toString).not.toHaveBeenCalledWith('utf8');
    expect(sinks.calls[0]!.payloads).toEqual(['{"id":"dev7"}']);
  });

  it('parses a payload once for several matching rules', async () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks);
    engine.putRule('r1', rule("SELECT t FROM 'a/#'", [{ republish: { topic: 'o1' } }]));
    engine.putRule('r2', rule("SELECT t * 2 AS t2 FROM 'a/+' WHERE t > 0", [{ republish: { topic: 'o2' } }]));
    const msg = jsonMessage('a/b', { t: 4 });
    const toString = jest.spyOn(msg.payload, 'toString');
    await engine.handle(msg);
    expect(toString.mock.calls.filter((c) => c[0] === 'utf8')).toHaveLength(1);
    expect(sinks.calls.map((c) => [c.target, c.payloads[0]])).toEqual([['o1', '{"t":4}'], ['o2', '{"t2":8}']]);
  });

  it('passes a non-JSON payload through SELECT * byte for byte and sees no attributes in it', async () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks);
    const captured: Buffer[] = [];
    sinks.republish = async (_t, p) => { captured.push(p); };
    engine.putRule('star', rule("SELECT * FROM 'bin'", [{ republish: { topic: 'o' } }]));
    engine.putRule('attr', rule("SELECT x FROM 'bin'", [{ republish: { topic: 'o' } }]));
    const bytes = Buffer.from([0xff, 0x00, 0x7b, 0x80]);
    await engine.handle({ topic: 'bin', payload: bytes, receivedAt: 0 });
    expect(captured[0]!.equals(bytes)).toBe(true);
    expect(captured[1]!.toString()).toBe('{}');
  });

  it('counts matched, fired and no-result per rule', async () => {
    const engine = createRulesEngine(recordingSinks());
    engine.putRule('r', rule("SELECT * FROM 'a' WHERE v > 1", [{ republish: { topic: 'o' } }]));
    expect(engine.handle(jsonMessage('a', { v: 2 }))).toBeUndefined(); // republish only: nothing holds the ack
    expect(engine.handle(jsonMessage('a', { v: 0 }))).toBeUndefined(); // matched, did not fire
    await engine.idle();
    expect(engine.counters()).toEqual([
      { ruleName: 'r', matched: 2, fired: 1, noResult: 1, failed: 0, actionsOk: 1, actionsFailed: 0, errorActionsFailed: 0 },
    ]);
  });

  it('skips disabled rules', () => {
    const engine = createRulesEngine(recordingSinks());
    engine.putRule('r', rule("SELECT * FROM 'a'", [{ republish: { topic: 'o' } }], { ruleDisabled: true }));
    expect(engine.handle(jsonMessage('a', {}))).toBeUndefined();
  });

  it('routes Basic Ingest topics only to the named rule, hiding the prefix from topic()', async () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks);
    engine.putRule('Named', rule("SELECT topic() AS t FROM 'b/#'", [{ republish: { topic: 'o' } }]));
    engine.putRule('Other', rule("SELECT topic() AS t FROM '#'", [{ republish: { topic: 'o2' } }]));
    await engine.handle(jsonMessage('$aws/rules/Named/b/c', {}));
    expect(sinks.calls.map((c) => [c.target, c.payloads[0]])).toEqual([['o', '{"t":"b/c"}']]);
    expect(engine.handle(jsonMessage('$aws/rules/Missing/x', {}))).toBeUndefined();
    expect(engine.basicIngestMisses()).toBe(1);
  });
});

describe('rules engine: actions', () => {
  it('republishes to a topic built from the substitution template with the given QoS', async () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks);
    engine.putRule('r', rule("SELECT v FROM 'dev/+/data'", [{ republish: { topic: 'out/${topic(2)}/${clientid()}/${meta.site}/${topic()}', qos: 1 } }]));
    await engine.handle(jsonMessage('dev/d1/data', { v: 1, meta: { site: 's9' } }, { clientId: 'c1' }));
    expect(sinks.calls).toEqual([{ kind: 'republish', target: 'out/d1/c1/s9/dev/d1/data', payloads: ['{"v":1}'], qos: 1 }]);
  });

  it('calls the sinks in message order even when an earlier delivery settles later', async () => {
    const order: string[] = [];
    const releases: Array<() => void> = [];
    const engine = createRulesEngine({
      channel: (_c, payloads) => {
        order.push(payloads[0]!.toString());
        return new Promise<void>((resolve) => releases.push(resolve));
      },
      republish: async () => {},
      http: async () => {},
    });
    engine.putRule('r', rule("SELECT n FROM 'a'", [{ iotAnalytics: { channelName: 'c' } }]));
    const first = engine.handle(jsonMessage('a', { n: 1 }))!;
    const second = engine.handle(jsonMessage('a', { n: 2 }))!;
    expect(order).toEqual(['{"n":1}', '{"n":2}']);
    let firstDone = false;
    void first.then(() => { firstDone = true; });
    releases[1]!();
    await second;
    expect(firstDone).toBe(false); // each message's promise waits for its own delivery
    releases[0]!();
    await first;
  });

  it('hands the channel each output object beside its bytes only when the bytes parse back to it exactly', async () => {
    const seen: Array<{ text: string; object: unknown }> = [];
    const engine = createRulesEngine({
      channel: async (_c, payloads, _source, objects) => {
        payloads.forEach((p, i) => seen.push({ text: p.toString(), object: objects?.[i] }));
      },
      republish: async () => {},
      http: async () => {},
    });
    engine.putRule('all', rule("SELECT * FROM 'a'", [{ iotAnalytics: { channelName: 'c' } }]));
    engine.putRule('batch', rule("SELECT VALUE items FROM 'b'", [{ iotAnalytics: { channelName: 'c', batchMode: true } }]));
    engine.putRule('old', { sql: "SELECT 10.0 AS v FROM 'w'", awsIotSqlVersion: '2015-10-08', actions: [{ iotAnalytics: { channelName: 'c' } }] });
    await engine.handle(jsonMessage('a', { t: 21.5, tags: ['x'] }));
    await engine.handle({ ...jsonMessage('b', {}), payload: Buffer.from('{"items":[{"n":1},7,{"z":-0}]}') });
    await engine.handle(jsonMessage('w', {}));
    for (const { text, object } of seen) if (object !== undefined) expect(object).toStrictEqual(JSON.parse(text));
    expect(seen.map((s) => [s.text, s.object !== undefined])).toEqual([
      ['{"t":21.5,"tags":["x"]}', true],
      ['{"n":1}', true],
      ['7', false], // not an object
      ['{"z":0}', false], // -0 would come back as 0
      ['{"v":10.0}', false], // a whole Decimal of SQL 2015 has no JS number of its own
    ]);
  });

  it('turns $$ at the start of a republish topic into a reserved $ topic', async () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks);
    engine.putRule('r', rule("SELECT * FROM 'a'", [{ republish: { topic: '$$aws/things/T/shadow/update' } }]));
    await engine.handle(jsonMessage('a', {}));
    expect(sinks.calls[0]!.target).toBe('$aws/things/T/shadow/update');
  });

  it('sends one channel message per element in batchMode and the whole array otherwise', async () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks);
    engine.putRule('b', rule("SELECT VALUE items FROM 'a'", [{ iotAnalytics: { channelName: 'ch', batchMode: true } }]));
    engine.putRule('w', rule("SELECT VALUE items FROM 'a'", [{ iotAnalytics: { channelName: 'whole' } }]));
    await engine.handle(jsonMessage('a', { items: [{ x: 1 }, { x: 2 }] }));
    expect(sinks.calls).toEqual([
      { kind: 'channel', target: 'ch', payloads: ['{"x":1}', '{"x":2}'] },
      { kind: 'channel', target: 'whole', payloads: ['[{"x":1},{"x":2}]'] },
    ]);
  });

  it('fails a batchMode output of more than 100 elements', async () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks);
    engine.putRule('b', rule("SELECT VALUE items FROM 'a'", [{ iotAnalytics: { channelName: 'ch', batchMode: true } }]));
    await expect(engine.handle(jsonMessage('a', { items: Array.from({ length: 101 }, (_, i) => i) }))).rejects.toThrow(/more than 100/);
    expect(sinks.calls).toEqual([]);
  });

  it('rejects handle() after running the error action when a channel action fails', async () => {
    const sinks = recordingSinks({ channel: 'bad' });
    const engine = createRulesEngine(sinks, { newUuid: () => 'trace-1' });
    engine.putRule('Failing', rule("SELECT * FROM 'f/#'", [{ iotAnalytics: { channelName: 'bad' } }, { republish: { topic: 'ok' } }], {
      errorAction: { republish: { topic: 'errors/${topic()}' } },
    }));
    const msg = jsonMessage('f/1', { v: 1 }, { clientId: 'dev' });
    const err = await engine.handle(msg)!.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RulesError);
    expect((err as RulesError).code).toBe('RuleActionFailedException');
    const report = sinks.calls.find((c) => c.target === 'errors/f/1');
    expect(JSON.parse(report!.payloads[0]!)).toEqual({
      ruleName: 'Failing',
      topic: 'f/1',
      cloudwatchTraceId: 'trace-1',
      clientId: 'dev',
      base64OriginalPayload: msg.payload.toString('base64'),
      failures: [{ failedAction: 'IotAnalyticsAction', failedResource: 'bad', errorMessage: 'channel bad is full' }],
    });
    expect(engine.counters()[0]).toMatchObject({ fired: 1, actionsOk: 1, actionsFailed: 1 });
  });

  it('only counts a republish failure and reports it through the error action', async () => {
    const sinks = recordingSinks({ republish: 'down' });
    const engine = createRulesEngine(sinks);
    engine.putRule('r', rule("SELECT * FROM 'a'", [{ republish: { topic: 'down' } }], { errorAction: { iotAnalytics: { channelName: 'errors' } } }));
    expect(engine.handle(jsonMessage('a', {}))).toBeUndefined();
    await engine.idle();
    const report = JSON.parse(sinks.calls.find((c) => c.target === 'errors')!.payloads[0]!);
    expect(report.failures).toEqual([{ failedAction: 'RepublishAction', failedResource: 'down', errorMessage: 'cannot publish to down' }]);
    expect(engine.counters()[0]).toMatchObject({ actionsFailed: 1, errorActionsFailed: 0 });
  });

  it('counts a failing error action without hiding the original failure', async () => {
    const sinks = recordingSinks({ channel: 'bad', republish: 'errs' });
    const engine = createRulesEngine(sinks);
    engine.putRule('r', rule("SELECT * FROM 'a'", [{ iotAnalytics: { channelName: 'bad' } }], { errorAction: { republish: { topic: 'errs' } } }));
    await expect(engine.handle(jsonMessage('a', {}))).rejects.toThrow(/IotAnalyticsAction bad/);
    expect(engine.counters()[0]).toMatchObject({ actionsFailed: 1, errorActionsFailed: 1 });
  });

  it('treats a sink that throws synchronously as a failed action', async () => {
    const sinks = recordingSinks();
    sinks.channel = () => { throw new Error('boom'); };
    const engine = createRulesEngine(sinks);
    engine.putRule('r', rule("SELECT * FROM 'a'", [{ iotAnalytics: { channelName: 'c' } }]));
    await expect(engine.handle(jsonMessage('a', {}))).rejects.toThrow(/boom/);
  });
});

describe('rules engine: definitions', () => {
  it('refuses an unsupported action type by name', () => {
    const engine = createRulesEngine(recordingSinks());
    const e = refusal(() => engine.putRule('r', rule("SELECT * FROM 'a'", [{ lambda: { functionArn: 'arn:x' } }])));
    expect(e.code).toBe('InvalidRequestException');
    expect(e.statusCode).toBe(400);
    expect(e.message).toMatch(/'lambda' is not supported/);
  });

  it('refuses malformed actions and rule names', () => {
    const engine = createRulesEngine(recordingSinks());
    const sql = "SELECT * FROM 'a'";
    expect(refusal(() => engine.putRule('r', rule(sql, [{ republish: { topic: 'x', qos: 2 } }]))).message).toContain('qos');
    expect(refusal(() => engine.putRule('r', rule(sql, [{ iotAnalytics: { channelName: '' } }]))).message).toContain('channelName');
    expect(refusal(() => engine.putRule('r', rule(sql, [{ republish: { topic: 'a' }, iotAnalytics: { channelName: 'c' } }]))).message).toContain('exactly one');
    expect(refusal(() => engine.putRule('r', rule(sql, [{ republish: { topic: 'x/${nosuch()}' } }]))).message).toContain('unknown function');
    expect(refusal(() => engine.putRule('bad-name', rule(sql, []))).code).toBe('InvalidRequestException');
    expect(refusal(() => engine.putRule('x'.repeat(129), rule(sql, []))).code).toBe('InvalidRequestException');
    expect(refusal(() => engine.putRule('r', rule(sql, Array.from({ length: 11 }, () => ({ republish: { topic: 'o' } }))))).message).toContain('at most 10');
    expect(engine.listRules()).toEqual([]);
  });

  it('keeps the working rule when a replacement has invalid SQL', async () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks);
    engine.putRule('r', rule("SELECT v FROM 'a'", [{ republish: { topic: 'o' } }]));
    expect(refusal(() => engine.putRule('r', rule("SELECT v FROM 'b' WHERE", [{ republish: { topic: 'o' } }]))).code).toBe('SqlParseException');
    expect(engine.getRule('r')!.topicFilter).toBe('a');
    await engine.handle(jsonMessage('a', { v: 1 }));
    expect(sinks.calls).toHaveLength(1);
  });

  it('replaces a rule: the new filter applies, the old one no longer matches, counters restart', async () => {
    const engine = createRulesEngine(recordingSinks(), { now: () => 42 });
    engine.putRule('r', rule("SELECT * FROM 'a'", [{ republish: { topic: 'o' } }]));
    await engine.handle(jsonMessage('a', {}));
    const info = engine.putRule('r', rule("SELECT * FROM 'b'", [{ republish: { topic: 'o' } }]));
    expect(info).toMatchObject({ ruleName: 'r', topicFilter: 'b', createdAt: 42 });
    expect(engine.handle(jsonMessage('a', {}))).toBeUndefined();
    engine.handle(jsonMessage('b', {}));
    await engine.idle();
    expect(engine.counters()[0]).toMatchObject({ matched: 1, actionsOk: 1 });
  });

  it('deletes rules and defaults the SQL version to 2015-10-08', () => {
    const engine = createRulesEngine(recordingSinks());
    const info = engine.putRule('r', { sql: "SELECT * FROM 'a'", actions: [] });
    expect(info.topicRulePayload).toMatchObject({ awsIotSqlVersion: '2015-10-08', ruleDisabled: false });
    expect(engine.deleteRule('r')).toBe(true);
    expect(engine.deleteRule('r')).toBe(false);
    expect(engine.getRule('r')).toBeUndefined();
    expect(engine.handle(jsonMessage('a', {}))).toBeUndefined();
  });

  it('keeps its own copy of the definition', () => {
    const engine = createRulesEngine(recordingSinks());
    const payload = rule("SELECT * FROM 'a'", [{ republish: { topic: 'o' } }]);
    engine.putRule('r', payload);
    payload.actions.push({ republish: { topic: 'sneaky' } });
    expect(engine.getRule('r')!.topicRulePayload.actions).toHaveLength(1);
    expect(() => engine.getRule('r')!.topicRulePayload.actions.push({})).toThrow(/not extensible/);
  });
});
