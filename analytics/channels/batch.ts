// BatchPutMessage's request rules (spec §2.2): at most 100 messages per call (more refuses the
// whole call), and per message a messageId of 1..128 characters unique within the call and a
// base64 payload of at most 128 KB once decoded. A message breaking a per-message rule becomes an
// error entry named after the exception; the others are accepted.
import type { IncomingChannelMessage } from '../types.js';
import { invalidRequest } from '../errors.js';

export const MAX_BATCH_MESSAGES = 100;
export const MAX_MESSAGE_BYTES = 128 * 1024;

export interface BatchPutMessageErrorEntry {
  messageId?: string;
  errorCode: string;
  errorMessage: string;
}

export interface PreparedBatch {
  accepted: IncomingChannelMessage[];
  errors: BatchPutMessageErrorEntry[];
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function prepareBatch(messages: unknown, receivedAt: number): PreparedBatch {
  if (!Array.isArray(messages)) throw invalidRequest('messages must be a list of {messageId, payload}');
  if (messages.length > MAX_BATCH_MESSAGES) {
    throw invalidRequest(`BatchPutMessage takes at most ${MAX_BATCH_MESSAGES} messages per call, got ${messages.length}`);
  }
  const seen = new Set<string>();
  const accepted: IncomingChannelMessage[] = [];
  const errors: BatchPutMessageErrorEntry[] = [];
  for (const raw of messages as { messageId?: unknown; payload?: unknown }[]) {
    const id = typeof raw?.messageId === 'string' ? raw.messageId : undefined;
    const refuse = (errorMessage: string): void => {
      errors.push({ ...(id !== undefined ? { messageId: id } : {}), errorCode: 'InvalidRequestException', errorMessage });
    };
    if (id === undefined || id.length < 1 || id.length > 128) {
      refuse('messageId must be 1..128 characters');
      continue;
    }
    if (seen.has(id)) {
      refuse(`messageId "${id}" appears more than once in this call`);
      continue;
    }
    seen.add(id);
    if (typeof raw.payload !== 'string' || !BASE64.test(raw.payload)) {
      refuse('payload must be base64 text');
      continue;
    }
    // decoded size is known from the text length: no need to decode an oversized payload
    const decodedBytes = (raw.payload.length / 4) * 3 - (raw.payload.endsWith('==') ? 2 : raw.payload.endsWith('=') ? 1 : 0);
    if (decodedBytes > MAX_MESSAGE_BYTES) {
      refuse(`payload is ${decodedBytes} bytes; a message may hold at most ${MAX_MESSAGE_BYTES} bytes (128 KB)`);
      continue;
    }
    accepted.push({ messageId: id, payload: Buffer.from(raw.payload, 'base64'), receivedAt });
  }
  return { accepted, errors };
}
