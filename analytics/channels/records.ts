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

/** The line JSON.stringify would write for a RecordLine, built as text: once per archived
 * message, and no record object or key walk on the way. */
export function encodeRecord(m: ArchivedMessage): string {
  let line = '{"seq":' + jsonNumber(m.seq) + ',"receivedAt":' + jsonNumber(m.receivedAt);
  if (m.messageId !== undefined) line += ',"messageId":' + JSON.stringify(m.messageId);
  if (m.clientId !== undefined) line += ',"clientId":' + JSON.stringify(m.clientId);
  if (m.topic !== undefined) line += ',"topic":' + JSON.stringify(m.topic);
  if (m.deliveryKey !== undefined) line += ',"deliveryKey":' + JSON.stringify(m.deliveryKey);
  // base64 needs no escaping
  return line + ',"payload":"' + m.payload.toString('base64') + '"}\n';
}

function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
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
