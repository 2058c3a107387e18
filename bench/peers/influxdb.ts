// InfluxDB 1.6 (Debian's `influxdb`) as a benchmark peer: started by the bench itself on free
// loopback ports with its own data, WAL and meta directories in a temporary directory, spoken to
// over its HTTP API (/ping, /write with line protocol, /query with InfluxQL) through Node's fetch.
// The process and the directory are tracked by children.ts, so Ctrl-C or an exception never leaves
// an influxd or its files behind.
import { readFileSync, readdirSync, statSync, writeFileSync, type Dirent } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { debianPackageVersion, ensureDebianPackage } from './debian-package.js';
import { installCleanup, removeTempDir, spawnTracked, stderrTail, stopChild, tempDir } from './children.js';

export interface InfluxQueryResult {
  /** rows over all series (one series per GROUP BY tag value) */
  rows: number;
  series: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
}

export interface InfluxPeer {
  readonly url: string;
  /** the Debian package version, e.g. 1.6.7~rc0-1+b13 */
  readonly version: string;
  readonly pid: number;
  /** CREATE DATABASE (idempotent in InfluxDB) */
  createDatabase(db: string): Promise<void>;
  /**
   * POST /write with a line-protocol body; resolves on 204 (the points are in the WAL and the
   * cache, queryable). A write refused because the cache is full is retried after a pause
   * (InfluxDB's own backpressure); the number of such retries is counted in `writeRetries`.
   */
  write(db: string, body: string, precision: 'ms' | 'u' | 'ns'): Promise<void>;
  /** One InfluxQL statement; `epoch=ms` so times come back as numbers, as ours do. */
  query(db: string, q: string): Promise<InfluxQueryResult>;
  readonly writeRetries: number;
  /** user + system CPU seconds of influxd so far (from /proc), to see background compaction */
  cpuSeconds(): number;
  /** influxd's peak resident set (VmHWM) in bytes */
  peakRssBytes(): number;
  /**
   * Waits until influxd is idle (under 10 % of a core for a second: WAL snapshots and compactions
   * done), at most `maxMs`; resolves to the seconds waited. Writes return before that work.
   */
  settle(maxMs: number): Promise<number>;
  /** bytes under the data and WAL directories */
  diskBytes(): number;
  stop(): Promise<void>;
}

/**
 * Installs the package if needed, starts influxd and waits for /ping. Throws with the reason (no
 * apt-get, no network, influxd exiting at start) so the bench can print it and go on without it.
 */
export async function startInfluxDB(): Promise<InfluxPeer> {
  const binary = ensureDebianPackage('influxdb', 'influxd');
  installCleanup();
  const dir = tempDir('iotcore-influxdb-');
  const [rpcPort, httpPort] = [await freePort(), await freePort()];
  const config = join(dir, 'influxdb.conf');
  writeFileSync(config, configText(dir, rpcPort, httpPort));
  const child = spawnTracked(binary, ['run', '-config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  const tail = stderrTail(child);
  const url = `http://127.0.0.1:${httpPort}`;
  try {
    await waitForPing(url, () => child.exitCode !== null || child.signalCode !== null, 30_000);
  } catch (err) {
    await stopChild(child, 2000);
    removeTempDir(dir);
    throw new Error(`influxd did not start: ${(err as Error).message}; its log: ${tail().slice(-600) || '(empty)'}`);
  }
  const pid = child.pid!;
  let writeRetries = 0;
  let stopped = false;

  const post = async (path: string, body: string, contentType: string): Promise<Response> =>
    fetch(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': contentType } });

  const peer: InfluxPeer = {
    url,
    version: debianPackageVersion('influxdb'),
    pid,
    get writeRetries() {
      return writeRetries;
    },
    async createDatabase(db) {
      await peer.query(db, `CREATE DATABASE ${quoteIdent(db)}`);
    },
    async write(db, body, precision) {
      for (let attempt = 0; ; attempt++) {
        const res = await post(`/write?db=${encodeURIComponent(db)}&precision=${precision}`, body, 'text/plain; charset=utf-8');
        if (res.status === 204) return;
        const text = await res.text();
        // "cache-max-memory-size exceeded": the snapshotter is behind; InfluxDB wants us to wait
        if (res.status >= 500 && /cache.*(max|size)|timeout/i.test(text) && attempt < 50) {
          writeRetries++;
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        throw new Error(`InfluxDB /write answered ${res.status}: ${text.slice(0, 300)}`);
      }
    },
    async query(db, q) {
      const res = await post('/query', new URLSearchParams({ db, q, epoch: 'ms' }).toString(), 'application/x-www-form-urlencoded');
      const text = await res.text();
      if (res.status !== 200) throw new Error(`InfluxDB /query answered ${res.status}: ${text.slice(0, 300)}`);
      const body = JSON.parse(text) as { error?: string; results?: { error?: string; series?: InfluxQueryResult['series'] }[] };
      const result = body.results?.[0];
      const error = body.error ?? result?.error;
      if (error) throw new Error(`InfluxQL error for ${q.slice(0, 80)}: ${error}`);
      const series = result?.series ?? [];
      return { rows: series.reduce((n, s) => n + s.values.length, 0), series };
    },
    cpuSeconds: () => procCpuSeconds(pid),
    peakRssBytes: () => procPeakRss(pid),
    async settle(maxMs) {
      const started = Date.now();
      let quiet = 0;
      let last = procCpuSeconds(pid);
      while (Date.now() - started < maxMs && quiet < 2) {
        await new Promise((r) => setTimeout(r, 500));
        const now = procCpuSeconds(pid);
        quiet = now - last < 0.05 ? quiet + 1 : 0;
        last = now;
      }
      return (Date.now() - started) / 1000;
    },
    diskBytes: () => duBytes(join(dir, 'data')) + duBytes(join(dir, 'wal')),
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopChild(child);
      removeTempDir(dir);
    },
  };
  return peer;
}

/**
 * The whole configuration, so nothing of /etc/influxdb applies: own directories, loopback ports,
 * no usage reporting, no auth, no HTTP access log and no _internal monitor database (both would
 * be work the peer does for us that ours does not), no row limit on query answers.
 */
function configText(dir: string, rpcPort: number, httpPort: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  max-row-limit = 0

[logging]
  level = "warn"
  suppress-logo = true
`;
}

async function waitForPing(url: string, exited: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (exited()) throw new Error('influxd exited');
    try {
      const res = await fetch(`${url}/ping`);
      if (res.status === 204) return;
      last = `/ping answered ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no /ping after ${timeoutMs / 1000} s (${last})`);
}

/** A port free on 127.0.0.1 right now (the OS picks it; influxd binds it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function procCpuSeconds(pid: number): number {
  try {
    // fields after the ")" of the command name: utime and stime are the 12th and 13th
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

function procPeakRss(pid: number): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

function duBytes(path: string): number {
  let total = 0;
  const walk = (p: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(p, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = join(p, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) total += statSync(full).size;
    }
  };
  walk(path);
  return total;
}
