// prepareBatch(): BatchPutMessage's per-call and per-message rules.
import { prepareBatch } from '../../../../analytics/channels/index.js';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

describe('prepareBatch', () => {
  it('accepts messages with unique ids and decodes their base64 payloads to the raw bytes', () => {
    const r = prepareBatch([{ messageId: 'a', payload: b64('{"t": 1}') }, { messageId: 'b', payload: b64(Buffer.from([0, 255])) }], 1000);
    expect(r.errors).toEqual([]);
    expect(r.accepted).toEqual([
      { messageId: 'a', payload: Buffer.from('{"t": 1}'), receivedAt: 1000 },
      { messageId: 'b', payload: Buffer.from([0, 255]), receivedAt: 1000 },
    ]);
  });

  it('turns a duplicate id, a bad id, bad base64 and a payload over 128 KB into error entries named after the exception', () => {
    const r = prepareBatch([
      { messageId: 'a', payload: b64('1') },
      { messageId: 'a', payload: b64('2') },
      { messageId: '', payload: b64('3') },
      { messageId: 'x'.repeat(129), payload: b64('4') },
      { messageId: 'c', payload: 'not base64!' },
      { messageId: 'd', payload: b64(Buffer.alloc(128 * 1024 + 1)) },
      { messageId: 'e', payload: b64(Buffer.alloc(128 * 1024)) },
    ], 0);
    expect(r.accepted.map((m) => m.messageId)).toEqual(['a', 'e']);
    expect(r.errors.map((e) => [e.messageId, e.errorCode])).toEqual([
      ['a', 'InvalidRequestException'],
      ['', 'InvalidRequestException'],
      ['x'.repeat(129), 'InvalidRequestException'],
      ['c', 'InvalidRequestException'],
      ['d', 'InvalidRequestException'],
    ]);
  });

  it('refuses the whole call above 100 messages or without a message list', () => {
    const many = Array.from({ length: 101 }, (_, i) => ({ messageId: String(i), payload: b64('{}') }));
    expect(() => prepareBatch(many, 0)).toThrow(expect.objectContaining({ code: 'InvalidRequestException', message: expect.stringMatching(/at most 100/) }));
    expect(prepareBatch(many.slice(0, 100), 0).accepted).toHaveLength(100);
    expect(() => prepareBatch(undefined, 0)).toThrow(expect.objectContaining({ code: 'InvalidRequestException' }));
  });
});
