import { decodeRecord, encodeRecord } from '../../../../analytics/channels/records.js';
import type { ArchivedMessage } from '../../../../analytics/types.js';

// What the archive held before the line was built as text: the same fields, in the same order,
// through JSON.stringify. Segments written by either must read the same.
function stringified(m: ArchivedMessage): string {
  const { seq, receivedAt, messageId, clientId, topic, deliveryKey } = m;
  return JSON.stringify({ seq, receivedAt, messageId, clientId, topic, deliveryKey, payload: m.payload.toString('base64') }) + '\n';
}

const messages: ArchivedMessage[] = [
  { channelName: 'ch', seq: 1, receivedAt: 1_790_000_000_123, payload: Buffer.from('{"t":21.5}') },
  {
    channelName: 'ch', seq: 42, receivedAt: 1_790_000_000_456, payload: Buffer.from([0, 255, 10, 34, 92]),
    messageId: 'm-1', clientId: 'sensor "7"\\north', topic: 'dt/ünïcode/\u2028/\u0001', deliveryKey: '17:0:AbC-_x',
  },
  { channelName: 'ch', seq: 9_007_199_254_740_991, receivedAt: Number.NaN, payload: Buffer.alloc(0), topic: '' },
];

describe('archive records', () => {
  it.each(messages.map((m) => [m.seq, m]))('a record (seq %d) is written exactly as JSON.stringify writes its fields', (_seq, m) => {
    expect(encodeRecord(m)).toBe(stringified(m));
  });

  it('every written record reads back as the message it was made from', () => {
    for (const m of messages.slice(0, 2)) {
      const back = decodeRecord('ch', encodeRecord(m).trimEnd());
      expect(back).toEqual(m);
    }
  });

  it('a receive time that is not a finite number is written as null, so the line stays JSON', () => {
    expect(JSON.parse(encodeRecord(messages[2]!))).toMatchObject({ receivedAt: null, topic: '' });
  });
});
