// Delivery of the rules' http action (a webhook), with the AWS IoT policy: one POST, at most two
// retries and only for 429 and 5xx answers, all within one overall deadline (3 s). Uses Node's
// built-in fetch. Deliveries run concurrently up to a limit; beyond it they wait in a bounded
// queue, and when that is full a delivery fails at once (counted as `dropped`) so a dead webhook
// can never grow memory. A failure reaches the rule's errorAction through the rejected promise.
import type { HttpRequest } from '../../rules/index.js';

export interface HttpDeliveryOptions {
  /** deliveries in flight at once */
  concurrency: number;
  /** deliveries waiting for a slot; beyond this they fail at once */
  maxQueued: number;
  /** overall deadline of one delivery, retries included (AWS: 3,000 ms) */
  timeoutMs: number;
  /** retries after the first attempt (AWS: 2) */
  maxRetries: number;
  /** first retry delay; doubled for each further retry */
  retryDelayMs: number;
}

export const HTTP_DELIVERY_DEFAULTS: HttpDeliveryOptions = { concurrency: 32, maxQueued: 10_000, timeoutMs: 3000, maxRetries: 2, retryDelayMs: 100 };

export interface HttpDeliveryCounters {
  inFlight: number;
  queued: number;
  delivered: number;
  failed: number;
  retries: number;
  dropped: number;
}

export interface HttpDelivery {
  send(request: HttpRequest): Promise<void>;
  counters(): HttpDeliveryCounters;
  /** refuses new deliveries and waits for those under way (each ends by its deadline) */
  close(): Promise<void>;
}

export function createHttpDelivery(options: Partial<HttpDeliveryOptions> = {}): HttpDelivery {
  const opts = { ...HTTP_DELIVERY_DEFAULTS, ...options };
  const counters = { delivered: 0, failed: 0, retries: 0, dropped: 0 };
  const waiting: (() => void)[] = [];
  const running = new Set<Promise<void>>();
  let active = 0; // slots taken; a finishing delivery hands its slot straight to the next waiter
  let closed = false;

  async function deliver(request: HttpRequest): Promise<void> {
    const deadline = AbortSignal.timeout(opts.timeoutMs);
    const headers = request.headers.map(({ key, value }) => [key, value] as [string, string]);
    // A Buffer is a Uint8Array; the DOM typings only want to know it is not shared memory.
    const body = request.body as Uint8Array<ArrayBuffer>;
    for (let attempt = 0; ; attempt++) {
      let status: number;
      try {
        const res = await fetch(request.url, { method: 'POST', headers, body, signal: deadline, redirect: 'manual' });
        status = res.status;
        await res.body?.cancel(); // the answer's body is not used; free the connection
      } catch (err) {
        if (deadline.aborted) throw new Error(`POST ${request.url}: no answer within ${opts.timeoutMs} ms`);
        // a refused or reset connection is not retried (AWS retries only 429 and 5xx answers)
        throw new Error(`POST ${request.url}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
      }
      if (status >= 200 && status < 300) return;
      const retryable = status === 429 || status >= 500;
      if (!retryable || attempt >= opts.maxRetries) {
        throw new Error(`POST ${request.url}: HTTP ${status}${retryable ? ` after ${attempt + 1} attempts` : ''}`);
      }
      counters.retries++;
      await sleep(opts.retryDelayMs * 2 ** attempt, deadline).catch(() => {
        throw new Error(`POST ${request.url}: HTTP ${status}, and the ${opts.timeoutMs} ms deadline left no time to retry`);
      });
    }
  }

  async function run(request: HttpRequest): Promise<void> {
    if (active < opts.concurrency) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    const attempt = deliver(request);
    running.add(attempt);
    try {
      await attempt;
      counters.delivered++;
    } catch (err) {
      counters.failed++;
      throw err;
    } finally {
      running.delete(attempt);
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  }

  return {
    send(request) {
      if (closed) return Promise.reject(new Error(`POST ${request.url}: the server is stopping`));
      if (waiting.length >= opts.maxQueued) {
        counters.dropped++;
        return Promise.reject(new Error(`POST ${request.url}: ${opts.maxQueued} deliveries already waiting; dropped`));
      }
      return run(request);
    },
    counters: () => ({ inFlight: active, queued: waiting.length, ...counters }),
    async close() {
      closed = true;
      while (active > 0) {
        await Promise.allSettled([...running]);
        await new Promise((r) => setImmediate(r)); // let a handed-over waiter start
      }
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
