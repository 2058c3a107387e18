// One subscriber that stops reading must cost the other clients nothing.
//
// aedes 1.x finishes a delivery only once the subscriber's socket accepted the bytes: when write()
// answers false it waits for 'drain' (or for drainTimeout, which then drops the client). The
// publish that caused the delivery waits with it, and through mqemitter's bounded concurrency
// every later publish too, so one stuck socket stalls delivery to everybody until the timeout
// (measured here: with 4 healthy subscribers, all stopped after ~10 MB of output for the stuck one).
//
// The guard: a connection may queue up to `maxQueuedBytes` of output in user space, and its
// write() answers true until then, so aedes never waits on a reader that is only briefly behind.
// A connection that queues more is closed at once: it is stuck, or too slow for what it
// subscribed to. Memory per connection stays bounded by the limit plus one packet.
import type { Duplex } from 'node:stream';

/** The error a slow consumer's connection is destroyed with. */
export class SlowConsumerError extends Error {
  readonly code = 'SlowConsumer';
  constructor(readonly queuedBytes: number, readonly maxQueuedBytes: number) {
    super(`slow consumer: ${queuedBytes} bytes queued for the client, more than ${maxQueuedBytes}`);
  }
}

/**
 * Wraps `stream.write` so backpressure never reaches aedes below `maxQueuedBytes`; above it,
 * `onOverflow` is told (before the stream is destroyed, so it can note the reason) and the stream
 * is destroyed with a SlowConsumerError.
 */
export function guardSlowConsumer(stream: Duplex, maxQueuedBytes: number, onOverflow: (err: SlowConsumerError) => void): void {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  let overflowed = false;
  stream.write = function guardedWrite(...args: unknown[]): boolean {
    const accepted = write(...args);
    if (accepted || overflowed) return accepted;
    if (stream.writableLength <= maxQueuedBytes) return true; // room left: aedes goes on
    overflowed = true;
    const err = new SlowConsumerError(stream.writableLength, maxQueuedBytes);
    onOverflow(err);
    stream.destroy(err);
    return false;
  } as Duplex['write'];
}
