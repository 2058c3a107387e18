import { createIngest, type RuleHandler } from '../../../broker/mqtt/ingest.js';
import type { RuleMessage } from '../../../rules/index.js';

const silent = { error() {}, warn() {}, info() {}, debug() {} };

function rulesThat(handle: (msg: RuleMessage) => Promise<void> | undefined): RuleHandler & { seen: RuleMessage[] } {
  const seen: RuleMessage[] = [];
  return { seen, handle: (msg) => (seen.push(msg), handle(msg)) };
}

describe('the ingest seam', () => {
  it('lets a publish through at once and counts it when no rule matches', () => {
    const rules = rulesThat(() => undefined);
    const ingest = createIngest(rules, 1024, silent);
    expect(ingest.fromDevice('c1', { topic: 'a/b', payload: Buffer.from('x') })).toBeUndefined();
    expect(ingest.counters).toMatchObject({ received: 1, receivedBytes: 1, unmatched: 1 });
    expect(rules.seen[0]).toMatchObject({ topic: 'a/b', clientId: 'c1', protocol: 'mqtt' });
  });

  it('waits for the rule actions before the publish may be acknowledged', async () => {
    let release!: () => void;
    const ingest = createIngest(rulesThat(() => new Promise<void>((r) => (release = r))), 1024, silent);
    let done = false;
    const pending = ingest.fromDevice('c1', { topic: 't', payload: Buffer.from('{}') })!.then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    release();
    await pending;
    expect(done).toBe(true);
  });

  it('refuses a payload over the limit without running the rules', async () => {
    const rules = rulesThat(() => Promise.resolve());
    const ingest = createIngest(rules, 4, silent);
    await expect(ingest.fromDevice('c1', { topic: 't', payload: Buffer.alloc(5) })).rejects.toMatchObject({ code: 'PayloadTooLarge', statusCode: 413 });
    expect(rules.seen).toHaveLength(0);
    expect(ingest.counters.oversized).toBe(1);
  });

  it('refuses publishes to $SYS topics', async () => {
    const ingest = createIngest(rulesThat(() => Promise.resolve()), 1024, silent);
    await expect(ingest.fromDevice('c1', { topic: '$SYS/x', payload: Buffer.alloc(1) })).rejects.toMatchObject({ code: 'ReservedTopic' });
  });

  it('refuses device publishes on the alert topics, which only the broker publishes, and nothing else under iotcore/', async () => {
    const handled: string[] = [];
    const ingest = createIngest(rulesThat((m) => (handled.push(m.topic), Promise.resolve())), 1024, silent);
    await expect(ingest.fromDevice('c1', { topic: 'iotcore/alerts/monitor/dev-1', payload: Buffer.from('{}') })).rejects.toMatchObject({ code: 'ReservedTopic', message: expect.stringContaining('only the broker publishes alerts') });
    await expect(ingest.fromDevice('c1', { topic: 'iotcore/alerts', payload: Buffer.from('{}') })).rejects.toMatchObject({ code: 'ReservedTopic' });
    await ingest.fromDevice('c1', { topic: 'iotcore/alertsx', payload: Buffer.from('{}') });
    expect(handled).toEqual(['iotcore/alertsx']);
  });

  it('turns a failed action into IngestFailed so the message is not acknowledged', async () => {
    const ingest = createIngest(rulesThat(() => Promise.reject(new Error('disk full'))), 1024, silent);
    await expect(ingest.fromDevice('c1', { topic: 't', payload: Buffer.alloc(1) })).rejects.toMatchObject({
      code: 'IngestFailed',
      message: expect.stringContaining('disk full'),
    });
    expect(ingest.counters.failed).toBe(1);
  });

  it('runs broker-originated publishes through the rules but ignores aedes heartbeats', () => {
    const rules = rulesThat(() => undefined);
    const ingest = createIngest(rules, 1024, silent);
    ingest.fromBroker({ topic: '$SYS/abc/heartbeat', payload: 'x' });
    ingest.fromBroker({ topic: 'republished/topic', payload: 'x' });
    expect(rules.seen.map((m) => m.topic)).toEqual(['republished/topic']);
  });
});
