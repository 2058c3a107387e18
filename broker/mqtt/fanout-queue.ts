// The queue in front of aedes' fan-out, made constant-time.
//
// aedes hands every PUBLISH to mqemitter, which delivers at most `concurrency` messages at once and
// holds the rest in two plain arrays it drains with Array#shift(). V8 shifts an array of more than
// ~16k elements by copying it (such an array lives where it cannot be trimmed in place): measured
// here, 0.2 µs per shift+push at 10k queued, 68 µs at 50k, 160 µs at 100k. So once a burst queued
// tens of thousands of messages, draining each one cost more than delivering it, the queue grew
// further and the broker never recovered (a QoS 1 fan-in run spent 35 % of the thread in that
// shift, with 8 s of latency). A deque from `denque` keeps push and shift O(1) at any length.
//
// mqemitter (and mqemitter-redis, which extends it) keeps the queue in `_messageQueue` and
// `_messageCallbacks` and only uses push(), shift() and length on them, which Denque provides
// with the same meaning. Swapped while the queue is empty (at start-up, before any client).
import Denque from 'denque';

/**
 * How many messages aedes' emitter delivers at once (aedes' default is 100). A QoS 1 delivery holds
 * its slot for at least two turns of the event loop (aedes defers it, then defers the write's
 * callback), so the fan-out rate is bounded by concurrency / (2 × loop turn). With 1,000 devices
 * publishing, a loop turn of ~10 ms capped delivery near 5,000 msg/s and queued seconds of
 * messages (fan-in harness, 1,000 devices × 10 msg/s QoS 1: subscriber p50 1.6–3.4 s with 100,
 * 53–137 ms with 1,000). The queue beyond it is unbounded either way (aedes has no cap), so a
 * higher limit holds no more messages, only lets more of them move.
 */
export const FANOUT_CONCURRENCY = 1000;

interface EmitterQueues {
  _messageQueue: unknown;
  _messageCallbacks: unknown;
}

/** Replaces the emitter's message queues with deques; false when `mq` is not shaped as expected
 * (a different mqemitter version), in which case it is left alone. */
export function useConstantTimeQueue(mq: object): boolean {
  const q = mq as Partial<EmitterQueues>;
  if (!Array.isArray(q._messageQueue) || !Array.isArray(q._messageCallbacks)) return false;
  if (q._messageQueue.length > 0 || q._messageCallbacks.length > 0) return false;
  q._messageQueue = new Denque();
  q._messageCallbacks = new Denque();
  return true;
}
