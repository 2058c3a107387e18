// One archived message = one JSON line inside a gzip member. The payload is base64 because
// payloads may be binary (spec §2.2); everything else is plain JSON. `deliveryKey` (redelivery.ts)
// is written only when the message has one: records without it (and older archives) stay valid.
import type { ArchivedMessage } from '../types.js';

interface RecordLine {
  seq: number;
  receivedAt: number;
  messageId?: string;
  clientId?: string;
  topic?: string;
  deliveryKey?: string;
  payload: string;
}

export function encodeRecord(m: ArchivedMessage): string {
  const line: RecordLine = {
    seq: m.seq,
    receivedAt: m.receivedAt,
    messageId: m.messageId,
    clientId: m.clientId,
    topic: m.topic,
    deliveryKey: m.deliveryKey,
    payload: m.payload.toString('base64'),
  };
  return JSON.stringify(line) + '\n';
}

/** Parses one line; undefined for a torn or foreign line (never throws). */
export function decodeRecord(channelName: string, line: string): ArchivedMessage | undefined {
  let r: RecordLine;
  try {
    r = JSON.parse(line) as RecordLine;
  } catch {
    return undefined;
  }
  if (typeof r !== 'object' || r === null || typeof r.seq !== 'number' || typeof r.payload !== 'string') return undefined;
  const m: ArchivedMessage = {
    channelName,
    seq: r.seq,
    receivedAt: r.receivedAt,
    payload: Buffer.from(r.payload, 'base64'),
  };
  if (r.messageId !== undefined) m.messageId = r.messageId;
  if (r.clientId !== undefined) m.clientId = r.clientId;
  if (r.topic !== undefined) m.topic = r.topic;
  if (typeof r.deliveryKey === 'string') m.deliveryKey = r.deliveryKey;
  return m;
}
