// Which actions hold the device's acknowledgement: only durable channel writes. Everything else
// runs in the background but is still counted and reported through the error action.
import { createRulesEngine, RulesError, type RuleSinks, type TopicRulePayload } from '../../../rules/index.js';
import { jsonMessage, recordingSinks } from './helpers.js';

const V2 = '2016-03-23' as const;

function rule(sql: string, actions: TopicRulePayload['actions'], extra: Partial<TopicRulePayload> = {}): TopicRulePayload {
  return { sql, awsIotSqlVersion: V2, actions, ...extra };
}

/** An http sink whose deliveries settle only when the test says so. */
function heldHttp(): { sink: RuleSinks['http']; urls: string[]; release(i: number): void; fail(i: number, why: string): void } {
  const urls: string[] = [];
  const settle: Array<{ resolve(): void; reject(e: Error): void }> = [];
  return {
    urls,
    sink: (req) => {
      urls.push(req.url);
      return new Promise<void>((resolve, reject) => settle.push({ resolve, reject }));
    },
    release: (i) => settle[i]!.resolve(),
    fail: (i, why) => settle[i]!.reject(new Error(why)),
  };
}

/** Lets every queued promise callback run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('rules engine: only durable actions hold the acknowledgement', () => {
  it('returns undefined for rules without a channel action, yet starts their actions at once', () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks);
    engine.putRule('r', rule("SELECT * FROM 'a'", [{ republish: { topic: 'o' } }, { http: { url: 'http://hook.local/x' } }]));
    expect(engine.handle(jsonMessage('a', { v: 1 }))).toBeUndefined();
    expect(sinks.calls.map((c) => [c.kind, c.target])).toEqual([['republish', 'o'], ['http', 'http://hook.local/x']]);
  });

  it('resolves the handle promise when the channel write is done while a webhook never settles', async () => {
    const sinks = recordingSinks();
    const held = heldHttp();
    sinks.http = held.sink;
    const engine = createRulesEngine(sinks);
    engine.putRule('r', rule("SELECT * FROM 'a'", [{ http: { url: 'http://hook.local/x' } }, { iotAnalytics: { channelName: 'c' } }]));
    const ack = engine.handle(jsonMessage('a', { v: 1 }));
    expect(ack).toBeDefined();
    let acked = false;
    void ack!.then(() => { acked = true; });
    await flush();
    expect(acked).toBe(true);
    expect(held.urls).toEqual(['http://hook.local/x']);
    expect(engine.counters()[0]).toMatchObject({ actionsOk: 1, actionsFailed: 0 }); // the write; the webhook is not counted yet
  });

  it('reports a webhook failure that happens after the acknowledgement through the error action', async () => {
    const sinks = recordingSinks();
    const held = heldHttp();
    sinks.http = held.sink;
    const engine = createRulesEngine(sinks, { newUuid: () => 'trace-9' });
    engine.putRule('r', rule("SELECT * FROM 'a/+'", [{ iotAnalytics: { channelName: 'c' } }, { http: { url: 'http://hook.local/${topic(2)}' } }], {
      errorAction: { republish: { topic: 'errors' } },
    }));
    await engine.handle(jsonMessage('a/d7', { v: 1 }, { clientId: 'd7' }));
    expect(sinks.calls.some((c) => c.target === 'errors')).toBe(false);
    let idle = false;
    void engine.idle().then(() => { idle = true; });
    await flush();
    expect(idle).toBe(false); // the webhook is still in flight
    held.fail(0, 'POST http://hook.local/d7 answered 502 after 3 attempts');
    await engine.idle();
    const report = JSON.parse(sinks.calls.find((c) => c.target === 'errors')!.payloads[0]!);
    expect(report).toMatchObject({ ruleName: 'r', topic: 'a/d7', clientId: 'd7', cloudwatchTraceId: 'trace-9' });
    expect(report.failures).toEqual([
      { failedAction: 'HttpAction', failedResource: 'http://hook.local/d7', errorMessage: 'POST http://hook.local/d7 answered 502 after 3 attempts' },
    ]);
    expect(engine.counters()[0]).toMatchObject({ actionsOk: 1, actionsFailed: 1, errorActionsFailed: 0 });
  });

  it('sends one error message listing every failed action and rejects only after it', async () => {
    const sinks = recordingSinks({ channel: 'bad', republish: 'down' });
    const held = heldHttp();
    sinks.http = held.sink;
    const engine = createRulesEngine(sinks);
    engine.putRule('r', rule("SELECT * FROM 'a'", [
      { iotAnalytics: { channelName: 'bad' } },
      { republish: { topic: 'down' } },
      { http: { url: 'https://hook.local/y' } },
    ], { errorAction: { iotAnalytics: { channelName: 'errors' } } }));
    let outcome: unknown = 'pending';
    void engine.handle(jsonMessage('a', {}))!.then(() => { outcome = 'resolved'; }, (e: unknown) => { outcome = e; });
    await flush();
    expect(outcome).toBe('pending'); // waits for the webhook: the error message must list it too
    held.fail(0, 'timeout');
    await engine.idle();
    await flush();
    expect(outcome).toBeInstanceOf(RulesError);
    expect((outcome as RulesError).code).toBe('RuleActionFailedException');
    const reports = sinks.calls.filter((c) => c.target === 'errors');
    expect(reports).toHaveLength(1);
    expect(JSON.parse(reports[0]!.payloads[0]!).failures.map((f: { failedAction: string }) => f.failedAction)).toEqual([
      'IotAnalyticsAction', 'RepublishAction', 'HttpAction',
    ]);
  });

  it('waits only for the rules with a channel action when several rules fire', async () => {
    const sinks = recordingSinks();
    const held = heldHttp();
    sinks.http = held.sink;
    const engine = createRulesEngine(sinks);
    engine.putRule('hook', rule("SELECT * FROM 'a'", [{ http: { url: 'http://hook.local/z' } }]));
    engine.putRule('store', rule("SELECT * FROM 'a'", [{ iotAnalytics: { channelName: 'c' } }]));
    await expect(engine.handle(jsonMessage('a', {}))).resolves.toBeUndefined();
    held.release(0);
    await engine.idle();
    expect(engine.counters().map((c) => [c.ruleName, c.actionsOk])).toEqual([['hook', 1], ['store', 1]]);
  });

  it('a rule whose only action is a failing channel write rejects with the action, its channel and the reason, and counts it', async () => {
    const sinks = recordingSinks({ channel: 'a-full' });
    const engine = createRulesEngine(sinks);
    engine.putRule('lone', rule("SELECT * FROM 'a'", [{ iotAnalytics: { channelName: '${topic()}-full' } }]));
    engine.putRule('good', rule("SELECT * FROM 'b'", [{ iotAnalytics: { channelName: 'c' } }]));
    const outcome = await engine.handle(jsonMessage('a', {}))!.then(() => undefined, (e: unknown) => e);
    expect(outcome).toBeInstanceOf(RulesError);
    expect((outcome as RulesError).code).toBe('RuleActionFailedException');
    expect((outcome as RulesError).message).toBe('rule lone: IotAnalyticsAction a-full: channel a-full is full');
    await expect(engine.handle(jsonMessage('b', {}))).resolves.toBeUndefined();
    await engine.idle();
    expect(engine.counters().map((c) => [c.ruleName, c.actionsOk, c.actionsFailed])).toEqual([['lone', 0, 1], ['good', 1, 0]]);
  });

  it('counts an error action that fails in the background', async () => {
    const sinks = recordingSinks({ http: 'http://hook.local/fail', republish: 'errs' });
    const engine = createRulesEngine(sinks);
    engine.putRule('r', rule("SELECT * FROM 'a'", [{ http: { url: 'http://hook.local/fail' } }], { errorAction: { republish: { topic: 'errs' } } }));
    expect(engine.handle(jsonMessage('a', {}))).toBeUndefined();
    await engine.idle();
    expect(engine.counters()[0]).toMatchObject({ fired: 1, actionsOk: 0, actionsFailed: 1, errorActionsFailed: 1 });
  });
});
