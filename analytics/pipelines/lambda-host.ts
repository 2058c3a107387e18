// Runs the user functions of lambda activities: `<functionsDir>/<lambdaName>.mjs`, each in its own
// worker thread (node:worker_threads) so a slow or crashing function never blocks or takes down
// the broker's event loop. One worker per function serves invocations one at a time from a bounded
// queue; an invocation that runs past the time limit has its worker terminated (the only way to
// stop a synchronous loop) and the next invocation starts a fresh one.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { LAMBDA_WORKER_SOURCE } from './lambda-worker.js';

export interface LambdaHostOptions {
  /** where function modules live (default `<dataDir>/functions`) */
  functionsDir: string;
  /** time limit of one invocation in ms (default 30 000; AWS allows up to 900 s) */
  timeoutMs?: number;
  /** invocations waiting per function before further ones are refused (default 64) */
  maxQueuedInvocations?: number;
  /** heap limit of a function's worker in MB (default 256) */
  memoryMb?: number;
}

export type LambdaFailureKind = 'timeout' | 'error' | 'missing' | 'queueFull' | 'closed';

/** Why an invocation produced no result. `error` covers a throw, a rejected promise, a result
 * that is not JSON-serialisable and a worker that died. */
export class LambdaFailure extends Error {
  constructor(
    readonly kind: LambdaFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'LambdaFailure';
  }
}

export interface LambdaHost {
  readonly functionsDir: string;
  /** the module file a lambdaName names */
  fileOf(lambdaName: string): string;
  exists(lambdaName: string): boolean;
  /** Calls the function's handler with `events`; resolves with its (JSON) result, whatever type
   * it is, or rejects with a LambdaFailure. */
  invoke(lambdaName: string, events: unknown[]): Promise<unknown>;
  counters(): { workersStarted: number; workersTerminated: number };
  /** terminates every worker; pending invocations fail with kind `closed` */
  close(): Promise<void>;
}

interface Job {
  events: unknown[];
  resolve: (v: unknown) => void;
  reject: (e: LambdaFailure) => void;
}

export function createLambdaHost(opts: LambdaHostOptions): LambdaHost {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const maxQueued = opts.maxQueuedInvocations ?? 64;
  const memoryMb = opts.memoryMb ?? 256;
  const fns = new Map<string, FunctionWorker>();
  const stats = { workersStarted: 0, workersTerminated: 0 };
  let closed = false;
  const fileOf = (name: string): string => join(opts.functionsDir, `${name}.mjs`);

  return {
    functionsDir: opts.functionsDir,
    fileOf,
    exists: (name) => existsSync(fileOf(name)),
    invoke(name, events) {
      if (closed) return Promise.reject(new LambdaFailure('closed', 'the lambda host is closed'));
      let fw = fns.get(name);
      if (!fw) fns.set(name, (fw = new FunctionWorker(name, fileOf(name), { timeoutMs, maxQueued, memoryMb }, stats)));
      return fw.invoke(events);
    },
    counters: () => ({ ...stats }),
    async close() {
      closed = true;
      await Promise.all([...fns.values()].map((fw) => fw.close()));
      fns.clear();
    },
  };
}

class FunctionWorker {
  private worker: Worker | null = null;
  private readonly queue: Job[] = [];
  private current: { id: number; job: Job; timer: NodeJS.Timeout } | null = null;
  private nextId = 1;

  constructor(
    private readonly name: string,
    private readonly file: string,
    private readonly limits: { timeoutMs: number; maxQueued: number; memoryMb: number },
    private readonly stats: { workersStarted: number; workersTerminated: number },
  ) {}

  invoke(events: unknown[]): Promise<unknown> {
    if (this.queue.length >= this.limits.maxQueued) {
      return Promise.reject(new LambdaFailure('queueFull', `function ${this.name}: ${this.queue.length} invocations already waiting`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.current || this.queue.length === 0) return;
    const job = this.queue.shift()!;
    const id = this.nextId++;
    const worker = this.ensureWorker();
    const timer = setTimeout(() => {
      this.finish(id, new LambdaFailure('timeout', `function ${this.name} did not finish within ${this.limits.timeoutMs} ms`));
      this.kill();
    }, this.limits.timeoutMs);
    this.current = { id, job, timer };
    try {
      worker.postMessage({ id, events: job.events, context: { functionName: this.name, awsRequestId: String(id) } });
    } catch (e) {
      // events that cannot be cloned (cannot happen for parsed JSON, kept for safety)
      this.finish(id, new LambdaFailure('error', `function ${this.name}: ${(e as Error).message}`));
    }
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(LAMBDA_WORKER_SOURCE, {
      eval: true,
      workerData: { file: this.file },
      resourceLimits: { maxOldGenerationSizeMb: this.limits.memoryMb },
      stdout: false,
      stderr: false,
    });
    this.stats.workersStarted++;
    // an idle worker must not keep the process alive; close() terminates it anyway
    w.unref();
    w.on('message', (m: { id: number; ok: boolean; json?: string; error?: string; missing?: boolean }) => {
      if (m.ok) this.finish(m.id, undefined, JSON.parse(m.json!));
      else this.finish(m.id, new LambdaFailure(m.missing ? 'missing' : 'error', `function ${this.name}: ${m.error}`));
    });
    // an exception outside the handler's promise (e.g. a throw in a timer) ends the worker
    w.on('error', (e) => this.lost(w, `function ${this.name} crashed: ${e.message}`));
    w.on('exit', (code) => this.lost(w, `function ${this.name}: worker exited with code ${code}`));
    this.worker = w;
    return w;
  }

  private lost(w: Worker, message: string): void {
    if (this.worker !== w) return; // already replaced (timeout)
    this.worker = null;
    if (this.current) this.finish(this.current.id, new LambdaFailure('error', message));
  }

  private kill(): void {
    const w = this.worker;
    this.worker = null;
    if (w) {
      this.stats.workersTerminated++;
      void w.terminate();
    }
  }

  private finish(id: number, failure?: LambdaFailure, result?: unknown): void {
    const cur = this.current;
    if (!cur || cur.id !== id) return; // a late answer to an invocation that already timed out
    clearTimeout(cur.timer);
    this.current = null;
    if (failure) cur.job.reject(failure);
    else cur.job.resolve(result);
    this.pump();
  }

  async close(): Promise<void> {
    for (const job of this.queue.splice(0)) job.reject(new LambdaFailure('closed', 'the lambda host is closed'));
    if (this.current) this.finish(this.current.id, new LambdaFailure('closed', 'the lambda host is closed'));
    const w = this.worker;
    this.worker = null;
    if (w) {
      this.stats.workersTerminated++;
      await w.terminate();
    }
  }
}
