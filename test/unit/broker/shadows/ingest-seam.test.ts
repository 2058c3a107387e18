// The ingest seam with a shadow service: requests are handed over, response topics refused.
import { createIngest, type ShadowRequests } from '../../../../broker/mqtt/ingest.js';
import type { RuleMessage } from '../../../../rules/index.js';

const silent = { error() {}, warn() {}, info() {}, debug() {} };

function shadowsThat(answer: ReturnType<ShadowRequests['offer']>): ShadowRequests & { seen: string[] } {
  const seen: string[] = [];
  return { seen, offer: (topic) => (seen.push(topic), answer) };
}

describe('the ingest seam with the shadow service', () => {
  it('hands a shadow request to the service and still runs it through the rules', () => {
    const ruled: RuleMessage[] = [];
    const shadows = shadowsThat('handled');
    const ingest = createIngest({ handle: (m) => void ruled.push(m) }, 1024, silent, shadows);
    expect(ingest.fromDevice('d1', { topic: '$aws/things/t/shadow/update', payload: '{}' })).toBeUndefined();
    expect(shadows.seen).toEqual(['$aws/things/t/shadow/update']);
    expect(ruled.map((m) => m.topic)).toEqual(['$aws/things/t/shadow/update']);
  });

  it('refuses a device publish on a shadow response topic without running the rules', async () => {
    const ruled: RuleMessage[] = [];
    const ingest = createIngest({ handle: (m) => void ruled.push(m) }, 1024, silent, shadowsThat('refused'));
    await expect(ingest.fromDevice('d1', { topic: '$aws/things/t/shadow/update/accepted', payload: '{}' })).rejects.toMatchObject({ code: 'ReservedTopic', statusCode: 403 });
    expect(ruled).toEqual([]);
    expect(ingest.counters.reserved).toBe(1);
  });

  it('does not ask the shadow service about topics outside $aws/things/', () => {
    const shadows = shadowsThat('refused');
    const ingest = createIngest({ handle: () => undefined }, 1024, silent, shadows);
    expect(ingest.fromDevice('d1', { topic: 'sensors/t/shadow/update/accepted', payload: '{}' })).toBeUndefined();
    expect(shadows.seen).toEqual([]);
  });
});
