// The peers we measure against (Mosquitto, InfluxDB, Redis) come from Debian's packages, installed
// by the benchmark itself so that one `npm run bench` on a fresh machine measures them all.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Returns the path of `binary`, installing Debian's `pkg` first when it is missing. Throws with
 * the reason when it cannot be installed (no apt-get, not root, no network to Debian's mirror).
 * The package's own service is not started: a benchmark starts its peer itself, on its own ports.
 */
export function ensureDebianPackage(pkg: string, binary: string): string {
  const found = which(binary);
  if (found) return found;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // policy-rc.d exit 101 would be the usual way to stop services starting; in a container without
  // an init system they do not start anyway, and a started one listens on ports we do not use.
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', pkg]]) {
    const res = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (res.error) throw new Error(`cannot install the Debian package ${pkg}: ${res.error.message}`);
    if (res.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (exit ${res.status}): ${res.stderr.toString().trim().slice(-500)}`);
  }
  const installed = which(binary);
  if (!installed) throw new Error(`the Debian package ${pkg} installed no ${binary} on the PATH or in /usr/sbin`);
  return installed;
}

/** The installed version of a Debian package, for the benchmark's header. */
export function debianPackageVersion(pkg: string): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'not installed';
  }
}

function which(binary: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin'];
  return dirs.map((d) => `${d}/${binary}`).find((p) => existsSync(p));
}
