import MQEmitter from 'mqemitter';
import { useConstantTimeQueue } from '../../../broker/mqtt/fanout-queue.js';

describe('the fan-out queue in front of aedes', () => {
  it('holds every message queued behind the concurrency limit and delivers each once, in order', async () => {
    const mq = MQEmitter({ concurrency: 1 });
    const queued = () => (mq as unknown as { length: number }).length; // mqemitter's getter, untyped
    expect(useConstantTimeQueue(mq)).toBe(true);
    const delivered: number[] = [];
    mq.on('devices/+/telemetry', (message, done) => {
      delivered.push((message as unknown as { n: number }).n);
      setImmediate(done); // a delivery that finishes later, as a socket write does
    });
    const total = 30_000; // past the ~16k elements where an array's shift() starts copying
    let emitted = 0;
    const allEmitted = new Promise<void>((resolve) => {
      for (let n = 0; n < total; n++) {
        mq.emit({ topic: `devices/d${n % 7}/telemetry`, n } as never, () => {
          if (++emitted === total) resolve();
        });
      }
    });
    expect(queued()).toBe(total - 1); // one in flight, the rest queued
    await allEmitted;
    expect(delivered).toEqual(Array.from({ length: total }, (_, n) => n));
    expect(queued()).toBe(0);
  });

  it('leaves an emitter alone when its queues are not the arrays it expects, or not empty', () => {
    expect(useConstantTimeQueue({})).toBe(false);
    const busy = { _messageQueue: [{ topic: 't' }], _messageCallbacks: [() => undefined] };
    expect(useConstantTimeQueue(busy)).toBe(false);
    expect(Array.isArray(busy._messageQueue)).toBe(true);
  });
});
