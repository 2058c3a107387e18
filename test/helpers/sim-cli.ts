// `npm run sim` as a child process: the real CLI, with --json so its last line is the summary.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Summary } from '../../devices-sim/index.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** The simulator CLI; `done` resolves with its exit code and output once it has exited. */
export function sim(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'devices-sim/main.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = new Promise<{ code: number | null; summary: Summary; stderr: string }>((resolveDone, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolveDone({ code, summary: JSON.parse(last) as Summary, stderr });
      } catch {
        reject(new Error(`no JSON summary line (exit ${code}); stdout:\n${stdout}\nstderr:\n${stderr}`));
      }
    });
  });
  return { child, done };
}
