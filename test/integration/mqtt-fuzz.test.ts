// A seeded mutational fuzzer against the broker's TCP port, for a bounded time. Valid packet
// sequences (CONNECT, SUBSCRIBE, PUBLISH QoS 0/1, PINGREQ, DISCONNECT; mqtt-packet) are mutated
// (bit flips, inserted, deleted and duplicated bytes, truncation, corrupted length fields) and
// sent over many short connections, while a sentinel device does a publish/subscribe round trip
// every second. It fails if the server dies, the sentinel misses a round trip or is dropped, a
// sentinel message the broker acknowledged is not stored, or memory grows past a generous bound.
//
//   FUZZ_MS=120000 FUZZ_SEED=1234 node --experimental-vm-modules node_modules/jest/bin/jest.js test/integration/mqtt-fuzz.test.ts
//
// The bytes each worker sends follow from the seed; how workers interleave does not, so a replay
// reproduces the inputs, not necessarily their timing.
import mqtt from 'mqtt';
import type { RunningServer } from '../../broker/index.js';
import { startTestServer, tempDataDir } from '../helpers/server.js';
import { DISCONNECT, PINGREQ, encode, rawConnect, xorshift, type Packet, type Random } from '../helpers/mqtt-raw.js';

const FUZZ_MS = Number(process.env.FUZZ_MS ?? 15_000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 0xffffffff)) >>> 0;
const WORKERS = 4;
/** growth of the process's resident memory that fails the run (the server runs in this process) */
const RSS_GROWTH_LIMIT_MB = Number(process.env.FUZZ_RSS_MB ?? 512);
const ROUND_TRIP_TIMEOUT_MS = 5000;

// fuzzed JSON reaches a rule, a channel, a pipeline and a datastore; the sentinel's rows are counted
const CONFIG = {
  rules: [
    { ruleName: 'fuzz_rows', topicRulePayload: { sql: "SELECT * FROM 'fuzz/#'", awsIotSqlVersion: '2016-03-23', actions: [{ iotAnalytics: { channelName: 'fuzz' } }] } },
    { ruleName: 'sentinel_rows', topicRulePayload: { sql: "SELECT * FROM 'sentinel/+'", awsIotSqlVersion: '2016-03-23', actions: [{ iotAnalytics: { channelName: 'fuzz' } }] } },
  ],
  channels: [{ channelName: 'fuzz' }],
  datastores: [{ datastoreName: 'fuzz_store' }],
  pipelines: [{
    pipelineName: 'fuzz_pipe',
    pipelineActivities: [
      { channel: { name: 'in', channelName: 'fuzz', next: 'out' } },
      { datastore: { name: 'out', datastoreName: 'fuzz_store' } },
    ],
  }],
  datasets: [{ datasetName: 'sentinel_rows', actions: [{ actionName: 'q', queryAction: { sqlQuery: `SELECT count(DISTINCT rt) AS n FROM fuzz_store WHERE src = 'sentinel-${SEED}'` } }] }],
};

const TOPICS = ['fuzz/a', 'fuzz/dev/telemetry', 'fuzz/x/y/z', 'sentinel/rt', '$aws/things/t/shadow/update', 'other/topic'];
const FILTERS = ['fuzz/#', 'fuzz/+/telemetry', 'other/+', '$SYS/#', 'sentinel/rt'];

/** A valid packet sequence: CONNECT first, then a few of the others. */
function validSequence(rnd: Random, clientId: string): Buffer[] {
  const packets: Packet[] = [{ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean: true, keepalive: rnd.below(3) === 0 ? 0 : 1 + rnd.below(60) }];
  let messageId = 1;
  for (let n = 1 + rnd.below(6); n > 0; n--) {
    switch (rnd.below(5)) {
      case 0:
        packets.push({ cmd: 'subscribe', messageId: messageId++, subscriptions: [{ topic: rnd.pick(FILTERS), qos: rnd.below(2) as 0 | 1 }] });
        break;
      case 1:
      case 2: {
        const qos = rnd.below(2) as 0 | 1;
        const payload = rnd.below(2) === 0 ? JSON.stringify({ deviceId: clientId, v: rnd.below(1000), ok: true, s: 'x'.repeat(rnd.below(50)) }) : rnd.bytes(rnd.below(300));
        packets.push({ cmd: 'publish', topic: rnd.pick(TOPICS), payload, qos, retain: false, dup: false, ...(qos ? { messageId: messageId++ } : {}) });
        break;
      }
      case 3:
        packets.push(PINGREQ);
        break;
      default:
        packets.push({ cmd: 'unsubscribe', messageId: messageId++, unsubscriptions: [rnd.pick(FILTERS)] });
    }
  }
  if (rnd.below(3) === 0) packets.push(DISCONNECT);
  return packets.map(encode);
}

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x23, 0x2b, 0xc0, 0xfe];

/** One mutation of `bytes`; `from` keeps the bytes before it intact (a valid CONNECT, say). */
function mutate(rnd: Random, bytes: Buffer, from: number, packetStarts: number[]): Buffer {
  const span = bytes.length - from;
  if (span <= 0) return Buffer.concat([bytes, rnd.bytes(1 + rnd.below(16))]);
  const at = from + rnd.below(span);
  switch (rnd.below(8)) {
    case 0: { // flip one bit
      const out = Buffer.from(bytes);
      out[at] ^= 1 << rnd.below(8);
      return out;
    }
    case 1: { // overwrite a byte with a boundary value
      const out = Buffer.from(bytes);
      out[at] = rnd.pick(INTERESTING);
      return out;
    }
    case 2: // insert random bytes
      return Buffer.concat([bytes.subarray(0, at), rnd.bytes(1 + rnd.below(32)), bytes.subarray(at)]);
    case 3: // delete a range
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + rnd.below(16)))]);
    case 4: // truncate
      return bytes.subarray(0, at);
    case 5: { // duplicate a range
      const end = Math.min(bytes.length, at + 1 + rnd.below(64));
      return Buffer.concat([bytes.subarray(0, end), bytes.subarray(at, end), bytes.subarray(end)]);
    }
    default: { // corrupt a packet's remaining length (the byte after its first byte)
      const starts = packetStarts.filter((s) => s + 1 >= from && s + 1 < bytes.length);
      if (starts.length === 0) return bytes;
      const out = Buffer.from(bytes);
      const lengthAt = rnd.pick(starts) + 1;
      out[lengthAt] = rnd.below(2) === 0 ? rnd.pick(INTERESTING) : rnd.next() & 0xff;
      return out;
    }
  }
}

/** Many short connections of mutated sequences until `deadline`; returns how many were made. */
async function fuzzWorker(port: number, worker: number, deadline: number): Promise<number> {
  const rnd = xorshift((SEED ^ Math.imul(worker + 1, 0x9e3779b1)) >>> 0);
  let connections = 0;
  while (Date.now() < deadline) {
    const packets = validSequence(rnd, `fuzz-${worker}-${connections}`);
    const starts: number[] = [];
    let offset = 0;
    for (const p of packets) {
      starts.push(offset);
      offset += p.length;
    }
    let bytes: Buffer = Buffer.concat(packets);
    // most runs keep the CONNECT intact, so the mutations reach a connected session's handlers
    const from = rnd.below(10) < 6 ? packets[0]!.length : 0;
    const mutations = rnd.below(10) === 0 ? 0 : 1 + rnd.below(4);
    for (let m = 0; m < mutations; m++) bytes = mutate(rnd, bytes, from, starts);
    const conn = await rawConnect(port);
    // in one to three writes, so packets also arrive split across reads
    for (let chunks = 1 + rnd.below(3), rest = bytes; rest.length > 0; chunks--) {
      const cut = chunks <= 1 ? rest.length : 1 + rnd.below(rest.length);
      conn.send(rest.subarray(0, cut));
      rest = rest.subarray(cut);
      if (rest.length > 0) await new Promise((r) => setImmediate(r));
    }
    await conn.closedWithin(rnd.below(4) === 0 ? 100 : 10);
    conn.destroy();
    connections++;
  }
  return connections;
}

describe(`the broker under a mutational MQTT fuzzer (FUZZ_SEED=${SEED}, FUZZ_MS=${FUZZ_MS})`, () => {
  const data = tempDataDir('iotcore-fuzz-');
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: CONFIG, env: { IOT_ALLOW_ANONYMOUS: 'true' } });
  });

  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('keeps serving a device doing a round trip every second, stores what it acknowledged and keeps memory bounded', async () => {
    const problems: string[] = [];
    const sentinel = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: `sentinel-${SEED}`, protocolVersion: 4, reconnectPeriod: 0, keepalive: 30 });
    sentinel.on('close', () => problems.push('the sentinel connection was closed'));
    const seen = new Set<number>();
    const waiters = new Map<number, () => void>();
    sentinel.on('message', (_topic, payload) => {
      try {
        const body = JSON.parse(payload.toString()) as { rt?: unknown; src?: unknown };
        if (body.src !== `sentinel-${SEED}` || typeof body.rt !== 'number') return;
        const rt = body.rt;
        seen.add(rt);
        waiters.get(rt)?.();
      } catch {
        // a fuzz connection may publish anything on sentinel/rt
      }
    });
    await sentinel.subscribeAsync('sentinel/rt', { qos: 1 });

    const rssBefore = process.memoryUsage().rss;
    const deadline = Date.now() + FUZZ_MS;
    const workers = Promise.all(Array.from({ length: WORKERS }, (_, w) => fuzzWorker(server.mqttPort, w, deadline)));
    let roundTrips = 0;
    let acked = 0;
    for (let rt = 1; Date.now() < deadline && problems.length === 0; rt++) {
      const started = Date.now();
      const arrived = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), ROUND_TRIP_TIMEOUT_MS);
        waiters.set(rt, () => {
          clearTimeout(timer);
          resolve(true);
        });
        if (seen.has(rt)) waiters.get(rt)!();
      });
      try {
        await sentinel.publishAsync('sentinel/rt', JSON.stringify({ src: `sentinel-${SEED}`, rt }), { qos: 1 });
        acked++;
      } catch (err) {
        problems.push(`round trip ${rt}: publish failed: ${String(err)}`);
        break;
      }
      if (!(await arrived)) problems.push(`round trip ${rt}: no message back within ${ROUND_TRIP_TIMEOUT_MS} ms`);
      else roundTrips++;
      waiters.delete(rt);
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
    }
    const connections = (await workers).reduce((a, b) => a + b, 0);
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    if (rssGrowthMb > RSS_GROWTH_LIMIT_MB) problems.push(`resident memory grew by ${rssGrowthMb.toFixed(0)} MB (limit ${RSS_GROWTH_LIMIT_MB} MB)`);

    await server.analytics.flush();
    const stored = Number((await server.analytics.runDataset('sentinel_rows')).rows[0]![0]);
    if (stored !== acked) problems.push(`${acked} sentinel messages acknowledged, ${stored} stored`);
    const health = await fetch(`http://127.0.0.1:${server.httpPort}/health`).then((r) => r.status, (err: unknown) => String(err));
    if (health !== 200) problems.push(`/health answered ${health}`);
    sentinel.end(true);

    console.log(`mqtt fuzz: seed ${SEED}, ${FUZZ_MS} ms, ${connections} fuzz connections, ${roundTrips} sentinel round trips, rss +${rssGrowthMb.toFixed(0)} MB`);
    if (problems.length > 0) throw new Error(`fuzzing failed; replay with FUZZ_SEED=${SEED} FUZZ_MS=${FUZZ_MS}:\n${problems.join('\n')}`);
    expect(roundTrips).toBeGreaterThan(0);
    expect(connections).toBeGreaterThan(0);
  }, FUZZ_MS + 60_000);
});
