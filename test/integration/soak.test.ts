// Soak: the server process holds 10,000 idle MQTT connections (from one child process) while a
// steady QoS 1 load flows (from another), and is watched once a second through /proc: resident
// memory must level off, every descriptor must come back once the clients are gone, no idle client
// may be dropped, and every acknowledged message must be stored exactly once.
//
// Warm-up: the idle clients connect while the load starts; it ends once all are connected and
// WARMUP_MESSAGES have been acknowledged. Then the load runs for SOAK_SECONDS worth of messages
// (40 s in CI after a 60 s warm-up that lets the heap and the bounded indexes approach their plateau, about 2 min in all; SOAK_SECONDS=600 for a run by hand that also finds leaks far
// smaller than a payload). The series goes to test-artifacts/soak.csv (t_s, phase, rss_mib, fds,
// sockets, connected, acked) and the figures to test-artifacts/soak.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';
import { openFiles, readProcess, slope, startSampler } from '../helpers/process-sampler.js';
import { killChildServers, startChildServer } from '../helpers/child-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 40);
const IDLE_CLIENTS = 10_000;
const LOAD_DEVICES = 50;
const RATE = 800; // messages per second offered, QoS 1
const PAYLOAD_BYTES = 2048;
/** messages acknowledged before memory is judged: 20 s of load, by which the server's heaps and
 * caches have grown to their working size (measured: resident memory levels off after ~15 s) */
const WARMUP_MESSAGES = 60 * RATE;
const MEASURED_MESSAGES = SOAK_SECONDS * RATE;

const CONFIG = {
  rules: [{ ruleName: 'soak_to_channel', topicRulePayload: { sql: "SELECT * FROM 'soak/+/data'", awsIotSqlVersion: '2016-03-23', actions: [{ iotAnalytics: { channelName: 'soak' } }] } }],
  channels: [{ channelName: 'soak' }],
  datastores: [{ datastoreName: 'soak_store' }],
  // The datastore keeps src and n, not the 2 KiB pad: DuckDB caches the data it stores, up to its
  // memory limit, and at 1.6 MiB/s that cache alone would grow for minutes, which is no leak but
  // would hide one. The pad still goes through MQTT, the rules, the archive and the
  // pipeline's first activities, where a leak would keep it.
  pipelines: [{ pipelineName: 'soak_pipeline', pipelineActivities: [{ channel: { name: 'in', channelName: 'soak', next: 'keep' } }, { selectAttributes: { name: 'keep', attributes: ['src', 'n'], next: 'out' } }, { datastore: { name: 'out', datastoreName: 'soak_store' } }] }],
};

const children = new Set<ChildProcess>();
const dataDirs: { remove(): void }[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  killChildServers();
  for (const d of dataDirs) d.remove();
});

function tsxChild(args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
  return child;
}

/** The JSON lines a child prints, and a wait for the first one with a given event. */
function events(child: ChildProcess): { next<T>(event: string, timeoutMs: number): Promise<T>; on(event: string, f: (e: any) => void): void } {
  const seen: any[] = [];
  const listeners: [string, (e: any) => void][] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let e: any;
    try {
      e = JSON.parse(line);
    } catch {
      return; // not one of ours (a runtime warning)
    }
    seen.push(e);
    for (const [name, f] of listeners) if (e.event === name) f(e);
  });
  return {
    next: (event, timeoutMs) => eventually(async () => seen.find((e) => e.event === event), timeoutMs, `"${event}" from ${child.spawnargs.slice(2, 4).join(' ')}`),
    on: (event, f) => listeners.push([event, f]),
  };
}

/** MQTT clients connected now, from /metrics; one connection per request (agent: false), so the
 * poll itself never holds a descriptor in the server between samples. */
function connectedClients(httpPort: number): Promise<number> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port: httpPort, path: '/metrics', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        const m = /^iotcore_mqtt_connected_clients (\d+)$/m.exec(text);
        if (m) resolve(Number(m[1]));
        else reject(new Error('no iotcore_mqtt_connected_clients on /metrics'));
      });
    }).on('error', reject);
  });
}

// DuckDB's cache is bounded, as in production: by default it may take 80 % of the RAM and would
// grow with the data stored, which is not what this test looks for
const startServerChild = (dataDir: string, configFile: string) => startChildServer(dataDir, configFile, { IOT_DUCKDB_MEMORY_LIMIT: '256MB' });

interface LoadReport { sent: number; acked: number; skipped: number; disconnects: number; seconds: number; perDevice: number[] }

describe('a server soaked with 10,000 idle connections and a steady QoS 1 load', () => {
  it('keeps every idle client, levels off in memory, gives back every descriptor and stores every acknowledged message once', async () => {
    const data = tempDataDir('iotcore-soak-');
    dataDirs.push(data);
    const configFile = join(data.dir, 'soak-config.json');
    writeFileSync(configFile, JSON.stringify(CONFIG));
    const server = await startServerChild(data.dir, configFile);
    const pid = server.child.pid!;
    const baseline = readProcess(pid)!; // listening, no client yet

    const sampler = startSampler(pid);
    const poll = setInterval(() => {
      connectedClients(server.ports.http).then((n) => (sampler.extra.connected = n), () => undefined);
    }, 1000);

    // warm-up: the load starts, and 10,000 idle connections come meanwhile, all CONNACKed
    sampler.phase = 'warm-up';
    const load = tsxChild([join(ROOT, 'test/helpers/qos1-load.ts'), String(server.ports.mqtt), String(LOAD_DEVICES), String(RATE), String(PAYLOAD_BYTES)]);
    const loadEvents = events(load);
    let acked = 0;
    loadEvents.on('progress', (e: { acked: number }) => (acked = sampler.extra.acked = e.acked));
    await loadEvents.next('connected', 60_000);
    const idle = tsxChild([join(ROOT, 'test/helpers/idle-connections.ts'), String(server.ports.mqtt), String(IDLE_CLIENTS)]);
    const idleEvents = events(idle);
    const ready = await idleEvents.next<{ connected: number; failed: number; ms: number }>('ready', 240_000);
    expect(ready).toMatchObject({ connected: IDLE_CLIENTS, failed: 0 });
    await eventually(async () => ((await connectedClients(server.ports.http)) === IDLE_CLIENTS + LOAD_DEVICES ? true : undefined), 30_000, `the server to count ${IDLE_CLIENTS + LOAD_DEVICES} connected clients`);
    await eventually(async () => (acked >= WARMUP_MESSAGES ? true : undefined), 240_000, `${WARMUP_MESSAGES} acknowledged messages`);

    // measured: a number of messages rather than seconds, so a slower machine is judged on as many
    sampler.phase = 'measure';
    const measuredFrom = acked;
    await eventually(async () => (acked >= measuredFrom + MEASURED_MESSAGES ? true : undefined), (SOAK_SECONDS + 600) * 1000, `${MEASURED_MESSAGES} more acknowledged messages`);
    sampler.phase = 'drain';
    load.stdin!.write('stop\n');
    const report = await loadEvents.next<LoadReport>('done', 120_000);
    sampler.extra.acked = report.acked;

    // the idle clients are all still there, and only they are connected
    sampler.phase = 'after-load';
    idle.stdin!.write('status\n');
    const status = await idleEvents.next<{ open: number; closedByBroker: number }>('status', 30_000);
    const connectedAfterLoad = await eventually(async () => {
      const n = await connectedClients(server.ports.http);
      return n <= IDLE_CLIENTS ? n : undefined; // the load's clients are leaving
    }, 30_000, 'the load clients to be gone');

    // everybody leaves: the descriptors come back
    sampler.phase = 'disconnect';
    idle.stdin!.write('close\n');
    await idleEvents.next('closed', 60_000);
    sampler.phase = 'closed';
    // Each connection's socket is closed once the broker has handled its DISCONNECT; wait for
    // that (or time out and report what is still open) rather than for a number of seconds.
    // FILE_SLACK: files the server may have opened for good since the baseline now that data has
    // flowed (the channel archive's current segment, DuckDB's WAL); a leaked socket per client
    // would leave thousands.
    const FILE_SLACK = 4;
    let end = readProcess(pid)!;
    try {
      end = await eventually(async () => {
        const now = readProcess(pid)!;
        return now.sockets <= baseline.sockets && now.fds <= baseline.fds + FILE_SLACK && (await connectedClients(server.ports.http)) === 0 ? now : undefined;
      }, 60_000, 'the descriptors to return to the baseline');
    } catch {
      end = readProcess(pid)!; // asserted below, with what is open
    }
    clearInterval(poll);
    sampler.stop();
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    writeFileSync(join(ROOT, 'test-artifacts', 'soak.csv'), sampler.csv());
    const endFiles = openFiles(pid);

    // stop it cleanly (every row committed) and read the datastore back
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);

    // --- memory -------------------------------------------------------------------------------
    // Judged on the floor of resident memory — the least of the samples in each quarter of the
    // measured window — because the garbage collector's sawtooth and DuckDB's checkpoints lift
    // single samples by tens of MiB for a while and then give it back (a 300 s run showed a 60 MiB
    // hump for 50 s), while a leak lifts the floor and keeps it up. Two bounds, in MiB:
    //  - the floor of the last quarter at most GROWTH_BOUND_MIB above that of the first quarter;
    //  - the least-squares slope through the floors of each eighth, times the window's length,
    //    under GROWTH_BOUND_MIB too (a steady climb, even one that started late).
    // A leak of one payload per message (2 KiB at 800 msg/s: 1.6 MiB/s and more with its object
    // overhead) lifts the floor by over 45 MiB across 3/4 of the 40 s window: both bounds break
    // (a server made to keep every payload it parsed: floor +59 MiB). Without a leak the floors
    // moved by under 10 MiB (the redelivery window's keys, bounded at 100,000, are among what grows
    // and stops). A leak of a tenth of a payload needs SOAK_SECONDS=600 to show.
    // Measured without a leak, after the 60 s warm-up, on 2 cores busy with other test suites: the
    // floors still rise by 22–30 MiB across the window (the heap settling towards its plateau,
    // about 430 MiB, which a 300 s run by hand showed flat; a redelivery index cut to 10,000 keys
    // rose as much, so it is not that). The bound sits between that and the leak's 45+ MiB.
    const GROWTH_BOUND_MIB = 40;
    const measured = sampler.samples.filter((s) => s.phase === 'measure');
    const floor = (from: number, to: number): { x: number; y: number } => {
      const part = measured.slice(Math.floor(measured.length * from), Math.ceil(measured.length * to));
      return { x: part[0]!.t, y: Math.min(...part.map((s) => s.rssMiB)) };
    };
    const quarterFloors = [0, 1, 2, 3].map((q) => floor(q / 4, (q + 1) / 4).y);
    const floorGrowthMiB = quarterFloors[3]! - quarterFloors[0]!;
    const eighthFloors = Array.from({ length: 8 }, (_, e) => floor(e / 8, (e + 1) / 8));
    const windowSeconds = measured.at(-1)!.t - measured[0]!.t;
    const slopeGrowthMiB = slope(eighthFloors) * windowSeconds;
    const figures = {
      idleConnectMs: ready.ms,
      load: { offeredPerSecond: RATE, payloadBytes: PAYLOAD_BYTES, sent: report.sent, acked: report.acked, skipped: report.skipped, ackedPerSecond: Math.round(report.acked / report.seconds), measuredSeconds: Math.round(windowSeconds) },
      rssMiB: { baseline: +baseline.rssMiB.toFixed(1), quarterFloors: quarterFloors.map((f) => +f.toFixed(1)), floorGrowth: +floorGrowthMiB.toFixed(1), slopeGrowth: +slopeGrowthMiB.toFixed(1), peak: +Math.max(...sampler.samples.map((s) => s.rssMiB)).toFixed(1) },
      fds: { baseline: baseline.fds, baselineSockets: baseline.sockets, peak: Math.max(...sampler.samples.map((s) => s.fds)), end: end.fds, endSockets: end.sockets },
    };
    writeFileSync(join(ROOT, 'test-artifacts', 'soak.json'), `${JSON.stringify(figures, null, 2)}\n`);

    // --- what must hold ------------------------------------------------------------------------
    expect(measured.length).toBeGreaterThanOrEqual(16); // two samples an eighth at least
    expect(status).toEqual({ event: 'status', open: IDLE_CLIENTS, closedByBroker: 0 });
    expect(connectedAfterLoad).toBe(IDLE_CLIENTS);
    expect(report.disconnects).toBe(0);
    expect(report.acked).toBe(report.sent);
    expect({ floorGrowthMiB: Math.round(floorGrowthMiB), withinBound: floorGrowthMiB < GROWTH_BOUND_MIB }).toEqual({ floorGrowthMiB: Math.round(floorGrowthMiB), withinBound: true });
    expect({ slopeGrowthMiB: Math.round(slopeGrowthMiB), withinBound: slopeGrowthMiB < GROWTH_BOUND_MIB }).toEqual({ slopeGrowthMiB: Math.round(slopeGrowthMiB), withinBound: true });
    expect({ sockets: end.sockets, fds: end.fds, openFiles: endFiles }).toMatchObject({ sockets: baseline.sockets });
    expect(end.fds).toBeLessThanOrEqual(baseline.fds + FILE_SLACK);

    const check = await startTestServer(data.dir, { config: configFile });
    try {
      await check.analytics.putDataset({
        datasetName: 'soak_counts',
        actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT src, count(*) AS c, count(DISTINCT n) AS d, min(n) AS lo, max(n) AS hi FROM soak_store GROUP BY src ORDER BY src' } }],
      });
      const { rows } = await check.analytics.runDataset('soak_counts');
      const stored = Object.fromEntries(rows.map(([src, c, d, lo, hi]) => [String(src), [Number(c), Number(d), Number(lo), Number(hi)]]));
      // device i acknowledged n = 0..perDevice[i]-1: each of those once, and nothing else
      const expected = Object.fromEntries(report.perDevice.map((k, i) => [`soak-load-${i}`, [k, k, 0, k - 1]] as const).filter(([, [k]]) => k > 0));
      expect(stored).toEqual(expected);
    } finally {
      await check.stop();
    }
  }, (SOAK_SECONDS + 900) * 1000);
});
