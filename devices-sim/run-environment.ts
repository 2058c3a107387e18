// Where a run happened: git commit, machine and versions, recorded in the --report files so
// figures can be compared across machines and commits. The small equivalent of bench/machine.ts
// (devices-sim may not import bench/). Every probe falls back to 'unknown' rather than failing a
// run whose figures are already measured.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface RunEnvironment {
  commit: string;
  machine: {
    /** "<cpu model> × <cores>" */
    cpu: string;
    cores: number;
    memoryGiB: number;
    os: string;
  };
  versions: { node: string; mqtt: string };
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(`${ROOT}node_modules/${name}/package.json`, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString().trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

export function runEnvironment(): RunEnvironment {
  const cpu = cpus();
  return {
    commit: gitCommit(),
    machine: {
      cpu: `${cpu[0]?.model.trim() || 'unknown'} × ${cpu.length}`,
      cores: cpu.length,
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      os: `${platform()} ${release()}`,
    },
    versions: { node: process.version, mqtt: packageVersion('mqtt') },
  };
}
