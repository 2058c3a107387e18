// Payload sizing (--payload-bytes): pads a JSON telemetry payload with a `pad` string attribute
// to exactly the requested number of bytes, so load tests can measure the broker and pipeline
// with realistic message sizes without changing what the readings are.

import { SimError } from './errors.js';

/** AWS IoT's largest MQTT payload is 128 KiB; below 64 bytes nothing fits besides the ids. */
export const PAYLOAD_BYTES_RANGE = [64, 131_072] as const;

/** `,"pad":""`: what the attribute costs before its characters. */
const PAD_OVERHEAD = ',"pad":""'.length;
/** The characters a pad is cut from: plain ASCII (one byte each, nothing to escape in JSON). */
const PAD_SOURCE = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(PAYLOAD_BYTES_RANGE[1] / 36));

/** Throws InvalidArgumentException unless `value` is a whole number of bytes in range; `name`
 * is how the caller spells the option (`payloadBytes`, `--payload-bytes`). */
export function checkPayloadBytes(value: number, name = 'payloadBytes'): void {
  const [min, max] = PAYLOAD_BYTES_RANGE;
  if (!(Number.isInteger(value) && value >= min && value <= max)) {
    throw new SimError('InvalidArgumentException', `${name} must be a whole number of bytes between ${min} and ${max}, got ${String(value)}`);
  }
}

/**
 * The size of message `seq` when payloads range over [min, max]: spread evenly over the range by a
 * multiplicative hash of the sequence number, so a run is reproducible and needs no random source.
 */
export function payloadSizeFor(seq: number, min: number, max: number): number {
  return min + (Math.imul(seq, 2654435761) >>> 0) % (max - min + 1);
}

/**
 * `json` (a serialized non-empty object of ASCII characters, as the simulator's payloads are) with
 * a `pad` attribute appended so the result is exactly `targetBytes` long; unchanged when the
 * payload is already too large for a pad to fit.
 */
export function padPayload(json: string, targetBytes: number): string {
  const padLength = targetBytes - Buffer.byteLength(json) - PAD_OVERHEAD;
  if (padLength < 0 || !json.endsWith('}') || json === '{}') return json;
  return `${json.slice(0, -1)},"pad":"${PAD_SOURCE.slice(0, padLength)}"}`;
}
