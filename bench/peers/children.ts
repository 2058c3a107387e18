// Child processes and temporary directories of a benchmark, tracked so that a normal end, an
// exception or Ctrl-C never leaves a broker, a load generator or a data directory behind.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
let installed = false;

/** Kills what is still running and removes the directories, synchronously (also usable from 'exit'). */
function cleanUpNow(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/** Registers the handlers once: on SIGINT/SIGTERM the bench exits 130/143 after cleaning up. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanUpNow);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping the brokers and load generators`);
      cleanUpNow();
      process.exit(code);
    });
  }
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Starts `command` and tracks it until it exits. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));
  return child;
}

/** A TypeScript entry point run like the bench itself (same node, same tsx loader flags). */
export function spawnTs(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawnTracked(process.execPath, [...process.execArgv, script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
}

/** Resolves when the child exits (at once when it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

/** Calls `onLine` for every stdout line of the child. */
export function onLines(child: ChildProcess, onLine: (line: string) => void): void {
  if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine);
}

/** Keeps the last `max` characters of the child's stderr, for error messages. */
export function stderrTail(child: ChildProcess, max = 2000): () => string {
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-max);
  });
  return () => tail.trim();
}

/** The first stdout line matching `pattern`; rejects when the child exits first or after `timeoutMs`. */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number, describe: () => string): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`not ready after ${timeoutMs / 1000} s; ${describe()}`))), timeoutMs);
    onLines(child, (line) => {
      const match = line.match(pattern);
      if (match) finish(() => resolve(match));
    });
    child.once('exit', (code, signal) => finish(() => reject(new Error(`exited (${signal ?? `code ${code}`}) before it was ready; ${describe()}`))));
    child.once('error', (err) => finish(() => reject(err)));
  });
}
