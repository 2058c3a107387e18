// kill -9 at full speed: many devices publish QoS 1 as fast as their PUBACKs come back, the server
// process is killed twice in mid-stream and restarted on the same data directory, and in the end
// the datastore holds every message exactly once — none lost, none doubled, none invented.
//
// crash-exactly-once.test.ts covers the same promise with 4 devices and batches; this one puts a
// thousand publishes in flight at each kill, so the archive is being written, the redelivery window
// filled and the pipeline committing when the process dies. As there, the devices resend what was
// not acknowledged the way MQTT asks [MQTT-4.4.0-1] — same packet identifier, DUP=1 — themselves,
// because mqtt.js resends with DUP=0 (MQTT.js issue #692).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, tempDataDir } from '../helpers/server.js';
import { connectToCurrent, Incarnation, killChildServers, startChildServer } from '../helpers/child-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEVICES = 60;
const PER_DEVICE = 400; // 24,000 messages; packet identifiers n+1 stay below 65,536
const WINDOW = 20; // publishes in flight per device: 1,200 in all
const TOTAL = DEVICES * PER_DEVICE;
const KILL_AT = [Math.floor(TOTAL / 3), Math.floor((2 * TOTAL) / 3)]; // acknowledged messages at each kill

const CONFIG = {
  rules: [{ ruleName: 'rate_to_channel', topicRulePayload: { sql: "SELECT * FROM 'rate/+/data'", awsIotSqlVersion: '2016-03-23', actions: [{ iotAnalytics: { channelName: 'rate' } }] } }],
  channels: [{ channelName: 'rate' }],
  datastores: [{ datastoreName: 'rate_store' }],
  pipelines: [{ pipelineName: 'rate_pipeline', pipelineActivities: [{ channel: { name: 'in', channelName: 'rate', next: 'out' } }, { datastore: { name: 'out', datastoreName: 'rate_store' } }] }],
};

afterAll(killChildServers);

/** What the devices know, per device and message number. */
class Ledger {
  readonly acked = Array.from({ length: DEVICES }, () => new Uint8Array(PER_DEVICE));
  readonly sent = Array.from({ length: DEVICES }, () => new Uint8Array(PER_DEVICE));
  ackCount = 0;
  resent = 0;
  /** per server run (Incarnation.generation): its PUBACKs, and when the first and last came. A
   * PUBACK the killed server sent before it died counts for that server, not for its successor,
   * whose rate would otherwise include the restart. */
  readonly runs = new Map<number, { acked: number; first: number; last: number }>();
  private killIndex = 0;
  constructor(private readonly onKillPoint: () => void) {}
  ack(device: number, n: number, generation: number): void {
    if (this.acked[device]![n]) return;
    this.acked[device]![n] = 1;
    this.ackCount++;
    const now = performance.now();
    const run = this.runs.get(generation) ?? { acked: 0, first: now, last: now };
    run.acked++;
    run.last = now;
    this.runs.set(generation, run);
    if (this.killIndex < KILL_AT.length && this.ackCount >= KILL_AT[this.killIndex]!) {
      this.killIndex++;
      this.onKillPoint();
    }
  }
}

/** One device (clean=false): publishes 0..PER_DEVICE-1 with WINDOW in flight; after a lost
 * connection it resends every unacknowledged message, same packet identifier, DUP=1. */
async function runDevice(device: number, ledger: Ledger, inc: Incarnation): Promise<void> {
  const id = `rate${device}`;
  const pending = new Set<number>(Array.from({ length: PER_DEVICE }, (_, n) => n));
  while (pending.size > 0) {
    const connected = await connectToCurrent(inc, { clientId: id, clean: false, connectTimeout: 10_000, keepalive: 0 });
    if (!connected) continue;
    const { client, ids, generation } = connected;
    await new Promise<void>((done) => {
      let inflight = 0;
      let closed = false;
      const queue = [...pending].sort((a, b) => a - b);
      const finish = (): void => {
        if (closed) return;
        closed = true;
        client.end(true);
        done();
      };
      const pump = (): void => {
        while (!closed && inflight < WINDOW && queue.length > 0) {
          const n = queue.shift()!;
          const dup = ledger.sent[device]![n] === 1;
          ledger.sent[device]![n] = 1;
          if (dup) ledger.resent++;
          inflight++;
          ids.next = n + 1;
          client.publish(`rate/${id}/data`, JSON.stringify({ src: id, n }), { qos: 1, dup }, (err) => {
            if (closed) return; // in doubt: resent over the next connection
            inflight--;
            if (err) queue.push(n);
            else {
              pending.delete(n);
              ledger.ack(device, n, generation);
            }
            pump();
          });
        }
        if (!closed && queue.length === 0 && inflight === 0) finish();
      };
      client.on('close', finish);
      client.on('error', () => undefined);
      pump();
    });
  }
}

describe('a server killed with SIGKILL twice while 60 devices publish at full speed', () => {
  it('ends with every acknowledged message in the datastore exactly once and nothing that was never sent', async () => {
    const data = tempDataDir('iotcore-crash-rate-');
    const configFile = join(data.dir, 'rate-config.json');
    writeFileSync(configFile, JSON.stringify(CONFIG));
    const began = performance.now();

    const inc = new Incarnation();
    inc.down();
    inc.up(await startChildServer(data.dir, configFile));
    let kills = 0;
    let restarting: Promise<void> = Promise.resolve();
    const ledger = new Ledger(() => {
      const dying = inc.server;
      inc.down();
      dying.child.kill('SIGKILL'); // ~1,200 publishes are in flight right now
      kills++;
      restarting = (async () => {
        await dying.exited;
        inc.up(await startChildServer(data.dir, configFile));
      })();
    });

    await Promise.all(Array.from({ length: DEVICES }, (_, d) => runDevice(d, ledger, inc)));
    await restarting;
    // and once more after the last PUBACK: rows not yet committed are replayed from the archive
    const last = inc.server;
    last.child.kill('SIGKILL');
    await last.exited;

    const server = await startTestServer(data.dir, { config: configFile });
    try {
      await server.analytics.flush();
      await server.analytics.putDataset({
        datasetName: 'rate_counts',
        actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT src, n, count(*) AS c FROM rate_store GROUP BY src, n' } }],
      });
      const { rows } = await server.analytics.runDataset('rate_counts');
      const stored = new Map(rows.map(([src, n, c]) => [`${String(src)}#${Number(n)}`, Number(c)]));

      expect(kills).toBe(2);
      expect(ledger.ackCount).toBe(TOTAL);
      expect(ledger.resent).toBeGreaterThan(0); // the kills did leave publishes in doubt
      const acked: string[] = [];
      const sent = new Set<string>();
      ledger.acked.forEach((a, d) => a.forEach((x, n) => x && acked.push(`rate${d}#${n}`)));
      ledger.sent.forEach((s, d) => s.forEach((x, n) => x && sent.add(`rate${d}#${n}`)));
      expect(acked.filter((k) => stored.get(k) !== 1)).toEqual([]); // each acknowledged one, once
      expect([...stored].filter(([, c]) => c !== 1)).toEqual([]); // nothing twice
      expect([...stored.keys()].filter((k) => !sent.has(k))).toEqual([]); // nothing invented
      expect(stored.size).toBe(TOTAL);

      // figures for the report, not assertions: acknowledged messages per second of each server
      // run, from its first PUBACK to its last
      const rates = [...ledger.runs.values()].map((r) => Math.round(r.acked / ((r.last - r.first) / 1000)));
      mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
      writeFileSync(join(ROOT, 'test-artifacts', 'crash-high-rate.json'), `${JSON.stringify({ devices: DEVICES, messages: TOTAL, windowPerDevice: WINDOW, kills, resentInDoubt: ledger.resent, ackedPerSecondPerServerRun: rates, seconds: Math.round((performance.now() - began) / 1000) }, null, 2)}\n`);
    } finally {
      await server.stop();
      data.remove();
    }
  }, 180_000);
});
