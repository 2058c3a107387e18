// The data directory's disk fills up while the real server runs (a small tmpfs, filled with a
// filler file): ingest is refused with a clear error instead of crashing or tearing a file, and
// it resumes by itself once the filler is gone. At the end every message that was ever
// acknowledged is in the datastore exactly once, and the server starts again on the same files.
//
// Needs root (mount -t tmpfs). Without it the test is skipped with a message, except on CI
// (process.env.CI set), where it fails.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { BatchPutMessageCommand, CreateChannelCommand, IoTAnalyticsClient } from '@aws-sdk/client-iotanalytics';
import type { RunningServer, StartOptions } from '../../broker/index.js';
import { eventually, startTestServer } from '../helpers/server.js';
import { caught } from '../helpers/aws.js';
import { metricValue } from '../helpers/metrics.js';
import { readArchiveFiles } from '../helpers/archive.js';

const TMPFS_SIZE = '64m';

const CONFIG = {
  rules: [{ ruleName: 'df_rule', topicRulePayload: { sql: "SELECT * FROM 'df/+/data'", awsIotSqlVersion: '2016-03-23', actions: [{ iotAnalytics: { channelName: 'df' } }] } }],
  channels: [{ channelName: 'df' }],
  datastores: [{ datastoreName: 'df_store' }],
  pipelines: [{ pipelineName: 'df_pipe', pipelineActivities: [{ channel: { name: 'in', channelName: 'df', next: 'out' } }, { datastore: { name: 'out', datastoreName: 'df_store' } }] }],
  datasets: [{ datasetName: 'df_rows', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT src, n FROM df_store' } }] }],
};

/** Mounts the tmpfs now, so the test can be skipped (or, on CI, fail) with the reason. */
function mountTmpfs(): { dir: string } | { error: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'iotcore-diskfull-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (err) {
    return { dir, error: `mount -t tmpfs -o size=${TMPFS_SIZE} tmpfs ${dir} failed (this test needs root): ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}` };
  }
}

const mount = mountTmpfs();
if ('error' in mount && !process.env.CI) console.warn(`disk-full.test.ts skipped: ${mount.error}`);
const itMounted = 'error' in mount && !process.env.CI ? it.skip : it;

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Appends to `file` until at most `leave` bytes are free on its file system (ENOSPC ends it). */
function fill(file: string, leave: number): void {
  const fd = openSync(file, 'a');
  const chunk = Buffer.alloc(1 << 20, 7);
  try {
    for (let free = freeBytes(file); free > leave; free = freeBytes(file)) {
      writeSync(fd, chunk, 0, Math.min(chunk.length, Math.max(4096, free - leave)));
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

type Logger = NonNullable<StartOptions['logger']>;

interface LogEntry {
  level: string;
  obj: Record<string, unknown>;
  msg?: string;
}

function capturingLogger(entries: LogEntry[]): Logger {
  const at = (level: string) => (obj: object, msg?: string) => void entries.push({ level, obj: obj as Record<string, unknown>, msg });
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: () => undefined };
}

/** Publishes QoS 1 and resolves on the PUBACK, however many connections that takes. */
function publish(client: MqttClient, topic: string, body: object, acked: Set<string>, key: string, retain = false): Promise<void> {
  return new Promise((resolve) => {
    client.publish(topic, JSON.stringify(body), { qos: 1, retain }, (err) => {
      if (!err) {
        acked.add(key);
        resolve();
      }
    });
  });
}

const compressible = (n: number) => 'x'.repeat(n);
const incompressible = (n: number) => randomBytes(n).toString('base64');

describe('a full disk under the data directory', () => {
  const dataDir = join(mount.dir, 'data');
  const logs: LogEntry[] = [];
  const acked = new Set<string>(); // "src#n" of every message the server acknowledged
  let server: RunningServer | undefined;
  const clients: MqttClient[] = [];

  afterAll(async () => {
    for (const c of clients) c.end(true);
    // room first: a stop on a full disk waits for the rows the datastore writer holds
    rmSync(join(mount.dir, 'filler-1'), { force: true });
    rmSync(join(mount.dir, 'filler-2'), { force: true });
    await server?.stop().catch(() => undefined);
    if ('error' in mount) return rmdirSync(mount.dir);
    try {
      execFileSync('umount', [mount.dir], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', mount.dir], { stdio: 'pipe' }); // something still holds a file: detach now, free later
    }
    rmdirSync(mount.dir);
  }, 60_000);

  itMounted('refuses ingest with DiskFull while the disk is full, corrupts nothing and resumes without a restart, storing every acknowledged message exactly once', async () => {
    if ('error' in mount) throw new Error(`CI must be able to run this test: ${mount.error}`);
    server = await startTestServer(dataDir, { config: CONFIG, logger: capturingLogger(logs) });
    const s = server;
    const metric = (name: string, labels: Record<string, string>) => metricValue(s.httpPort, name, labels);
    const analytics = new IoTAnalyticsClient({ endpoint: `http://127.0.0.1:${s.httpPort}`, region: 'us-east-1', credentials: s.adminCredentials, maxAttempts: 1 });
    const batch = (ns: number[], pad: (n: number) => string) =>
      analytics.send(new BatchPutMessageCommand({ channelName: 'df', messages: ns.map((n) => ({ messageId: `b${n}`, payload: Buffer.from(JSON.stringify({ src: 'batch', n, pad: pad(n) })) })) }));
    const rowsWritten = async () => (await metric('iotcore_analytics', { path: 'datastores/df_store', counter: 'rowsWritten' })) ?? 0;

    // A device that reconnects by itself and resends what was not acknowledged (mqtt.js keeps it).
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.mqttPort}`, { clientId: 'df-device', protocolVersion: 4, reconnectPeriod: 100, connectTimeout: 2000 });
    clients.push(device);
    let closes = 0;
    device.on('close', () => closes++);
    device.on('error', () => undefined);
    const send = (n: number, pad: string) => publish(device, 'df/df-device/data', { src: 'df-device', n, pad }, acked, `df-device#${n}`);

    // 1. Room enough: everything is taken.
    await Promise.all([0, 1, 2, 3, 4].map((n) => send(n, 'p')));
    await batch([0, 1, 2, 3, 4], () => 'p');
    for (let n = 0; n < 5; n++) acked.add(`batch#${n}`);
    await eventually(async () => ((await rowsWritten()) === 10 ? true : undefined), 10_000, '10 rows in the datastore');

    // 2. Nearly full: the archive still takes small compressed members, but DuckDB's WAL (rows
    // uncompressed) does not fit. The rows are acknowledged (archived) and the writer holds them.
    fill(join(mount.dir, 'filler-1'), 64 * 1024);
    await Promise.all([5, 6, 7, 8, 9].map((n) => send(n, compressible(60_000))));
    await eventually(async () => ((await metric('iotcore_analytics', { path: 'datastores/df_store', counter: 'diskFullRetries' })) ?? 0) > 0 || undefined, 10_000, 'the datastore writer to retry on a full disk');
    expect(await metric('iotcore_analytics', { path: 'datastores/df_store', counter: 'rowsFailed' })).toBe(0);

    // 3. Full: every write path refuses, with the DiskFull code, and the server stays up.
    fill(join(mount.dir, 'filler-2'), 0);
    expect(freeBytes(mount.dir)).toBe(0);
    const closesBefore = closes;
    const refusedSends = [10, 11, 12, 13, 14].map((n) => send(n, incompressible(6000)));
    await eventually(async () => (closes > closesBefore && ((await metric('iotcore_ingest_total', { counter: 'diskFull' })) ?? 0) >= 5 ? true : undefined), 10_000, 'the device to be refused and disconnected');
    for (let n = 10; n < 15; n++) expect(acked.has(`df-device#${n}`)).toBe(false);
    const logged = logs.find((l) => l.obj.code === 'DiskFull' && l.obj.clientId === 'df-device');
    expect(String(logged?.obj.err)).toMatch(new RegExp(`DiskFull: no space left on the disk holding ${join(dataDir, 'channels', 'df')} \\(\\d+ bytes free\\)`));
    expect(await metric('iotcore_analytics', { path: 'channels/df', counter: 'diskFull' })).toBe(1);
    expect(await metric('iotcore_analytics', { path: 'channels/df', counter: 'diskFullRefusals' })).toBeGreaterThanOrEqual(5);
    // the member that did not fit was cut off again (the segment's last page took part of it)
    expect(await metric('iotcore_analytics', { path: 'channels/df', counter: 'writesRolledBack' })).toBeGreaterThanOrEqual(1);

    const batchErr = (await caught(batch([5, 6, 7, 8, 9], () => incompressible(6000)))) as Awaited<ReturnType<typeof caught>> & { reason?: string };
    expect({ name: batchErr.name, status: batchErr.$metadata?.httpStatusCode, reason: batchErr.reason }).toEqual({ name: 'ServiceUnavailableException', status: 503, reason: 'DiskFull' });
    expect(batchErr.message).toMatch(/^DiskFull: no space left on the disk holding .* \(\d+ bytes free\)/);

    // a retained publish (a topic no rule reads): its journal line does not fit
    const retainer = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.mqttPort}`, { clientId: 'df-retainer', protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(retainer);
    const retainerClosed = new Promise<void>((r) => retainer.once('close', () => r()));
    retainer.on('error', () => undefined);
    let retainedAcked = false;
    retainer.publish('df/retained', incompressible(8000), { qos: 1, retain: true }, (err) => (retainedAcked = !err));
    await retainerClosed;
    expect(retainedAcked).toBe(false);
    expect(await metric('iotcore_mqtt_retained_total', { counter: 'diskFull' })).toBe(1);
    expect(String(logs.find((l) => l.obj.code === 'DiskFull' && l.obj.clientId === 'df-retainer')?.obj.err)).toMatch(new RegExp(`cannot append to ${join(dataDir, 'retained.jsonl')}: the disk is full \\(\\d+ bytes free`));

    // a clean=false session's subscriptions: the session journal line does not fit
    const filters = Array.from({ length: 30 }, (_, i) => `df/session/${i}/${'f'.repeat(150)}`);
    const sessionClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.mqttPort}`, { clientId: 'df-session', protocolVersion: 4, clean: false, reconnectPeriod: 0 });
    clients.push(sessionClient);
    sessionClient.on('error', () => undefined);
    const sessionClosed = new Promise<void>((r) => sessionClient.once('close', () => r()));
    let subacked = false;
    sessionClient.subscribe(filters, { qos: 1 }, (err) => (subacked = !err));
    await sessionClosed;
    expect(subacked).toBe(false);
    expect(await metric('iotcore_mqtt_sessions_total', { counter: 'diskFull' })).toBeGreaterThanOrEqual(1); // one per filter aedes stores

    // a definitions save: refused with a server error, nothing half-written
    const createErr = await caught(analytics.send(new CreateChannelCommand({ channelName: 'df_extra' })));
    expect(createErr.$metadata?.httpStatusCode).toBeGreaterThanOrEqual(500);

    expect((await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).status).toBe(200); // still serving

    // 4. Room again: no restart, the device's resends are taken, the held rows commit.
    rmSync(join(mount.dir, 'filler-1'));
    rmSync(join(mount.dir, 'filler-2'));
    await Promise.all(refusedSends); // the same client, reconnected, redelivered and got its PUBACKs
    await batch([5, 6, 7, 8, 9], () => incompressible(6000));
    for (let n = 5; n < 10; n++) acked.add(`batch#${n}`);
    retainer.end(true);
    const again = await mqtt.connectAsync(`mqtt://127.0.0.1:${s.mqttPort}`, { clientId: 'df-retainer-2', protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(again);
    await again.publishAsync('df/retained', 'kept', { qos: 1, retain: true });
    await again.subscribeAsync(filters.slice(0, 2), { qos: 1 });
    expect(acked.size).toBe(25);
    await eventually(async () => ((await rowsWritten()) >= 25 ? true : undefined), 15_000, 'every acknowledged row in the datastore');
    expect(await metric('iotcore_analytics', { path: 'channels/df', counter: 'diskFull' })).toBe(0);
    expect(await metric('iotcore_analytics', { path: 'datastores/df_store', counter: 'rowsFailed' })).toBe(0);
    await expectExactlyOnce(s);

    // 5. Nothing corrupted: the archive's members all decompress, and the server starts again on
    // the same files (archive, DuckDB file, journals, definitions) with the same rows.
    for (const c of clients.splice(0)) c.end(true);
    await s.stop();
    server = undefined;
    const archived = readArchiveFiles(dataDir, 'df').map((r) => JSON.parse(Buffer.from(r.payload, 'base64').toString()) as { src: string; n: number });
    expect(archived.map((m) => `${m.src}#${m.n}`).sort()).toEqual([...acked].sort());
    server = await startTestServer(dataDir, { config: CONFIG });
    await expectExactlyOnce(server);
    const retained = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'df-check', protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(retained);
    const got = new Promise<string>((r) => retained.on('message', (_t, p) => r(p.toString())));
    await retained.subscribeAsync('df/retained', { qos: 1 });
    expect(await got).toBe('kept');
  }, 120_000);

  async function expectExactlyOnce(s: RunningServer): Promise<void> {
    const result = await eventually(async () => {
      const r = await s.analytics.runDataset('df_rows');
      return r.rows.length >= acked.size ? r : undefined;
    }, 15_000, `${acked.size} rows`);
    const keys = result.rows.map(([src, n]) => `${String(src)}#${Number(n)}`).sort();
    expect(keys).toEqual([...acked].sort());
  }
});
