// The MQTT session journal: replay of subscriptions and queued messages after a restart, a torn
// last line, a damaged file, the per-client queue cap, and nothing written for clean=true clients.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { openSessionStore, SESSIONS_FILE, type QueuedPacket, type SessionPersistence, type SessionStore } from '../../../broker/mqtt/session-store.js';

let dir: string;
const file = () => join(dir, SESSIONS_FILE);

/** Stands in for aedes' in-memory persistence: remembers the subscriptions it is given. */
function fakePersistence(): SessionPersistence & { subs: Map<string, { topic: string; qos: number }[]> } {
  const subs = new Map<string, { topic: string; qos: number }[]>();
  const unused = async () => { throw new Error('replaced by the session store'); };
  return {
    subs,
    async addSubscriptions(client, s) { subs.set(client.id, [...(subs.get(client.id) ?? []), ...s]); },
    async removeSubscriptions() {},
    async cleanSubscriptions(client) { subs.delete(client.id); },
    outgoingEnqueue: unused, outgoingEnqueueCombi: unused, outgoingUpdate: unused,
    outgoingClearMessageId: unused as never, outgoingStream: () => { throw new Error('replaced'); },
  };
}

async function attached(store: SessionStore) {
  const p = fakePersistence();
  await store.attach(p);
  return p;
}

const packet = (n: number): QueuedPacket => ({
  cmd: 'publish', topic: 'cmd/a', payload: Buffer.from(JSON.stringify({ n })), qos: 1, retain: false, dup: false, brokerId: 'b1', brokerCounter: n + 1,
});

async function streamed(s: Readable): Promise<number[]> {
  const out: number[] = [];
  for await (const p of s) out.push(JSON.parse((p as QueuedPacket).payload.toString()).n);
  return out;
}

beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'sessions-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the MQTT session store', () => {
  it('replays subscriptions and the messages still unacknowledged, in order, after a restart', async () => {
    let store = openSessionStore(dir, { fsync: false });
    const p = await attached(store);
    await p.addSubscriptions({ id: 'dev' }, [{ topic: 'cmd/#', qos: 1 }]);
    for (let n = 0; n < 3; n++) await p.outgoingEnqueueCombi([{ clientId: 'dev' }], packet(n));
    await p.outgoingUpdate({ id: 'dev' }, { ...packet(0), messageId: 7 });
    expect(await p.outgoingClearMessageId({ id: 'dev' }, { messageId: 7 })).toMatchObject({ brokerCounter: 1 });
    store.close();

    store = openSessionStore(dir, { fsync: false });
    const again = await attached(store);
    expect(again.subs.get('dev')).toEqual([{ topic: 'cmd/#', qos: 1 }]);
    expect(store.queued('dev')).toBe(2);
    expect(await streamed(again.outgoingStream({ id: 'dev' }))).toEqual([1, 2]);
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    store.close();
  });

  it('drops a torn last line and keeps everything before it', async () => {
    let store = openSessionStore(dir, { fsync: false });
    const p = await attached(store);
    await p.addSubscriptions({ id: 'dev' }, [{ topic: 'cmd/a', qos: 1 }]);
    await p.outgoingEnqueue({ clientId: 'dev' }, packet(0));
    store.close();
    appendFileSync(file(), '{"op":"queue","clientId":"dev","bro');

    store = openSessionStore(dir, { fsync: false });
    expect(store.droppedTornTail).toBe(true);
    expect(store.queued('dev')).toBe(1);
    expect(readFileSync(file(), 'utf8')).not.toContain('"bro\n');
    store.close();
  });

  it('refuses a journal with an unreadable line before the last one', () => {
    writeFileSync(file(), '{"op":"clean","clientId":"a"}\nnot json\n{"op":"clean","clientId":"b"}\n');
    expect(() => openSessionStore(dir, { fsync: false })).toThrow(expect.objectContaining({ code: 'SessionFileInvalid' }));
  });

  it('keeps at most the cap of queued messages per client, dropping and counting the oldest, across a restart too', async () => {
    const told: string[] = [];
    let store = openSessionStore(dir, { fsync: false, maxQueuedPerClient: 3, onDrop: (clientId) => told.push(clientId) });
    const p = await attached(store);
    for (let n = 0; n < 5; n++) await p.outgoingEnqueue({ clientId: 'dev' }, packet(n));
    expect(store.counters.dropped).toBe(2);
    expect(told).toEqual(['dev', 'dev']);
    expect(await streamed(p.outgoingStream({ id: 'dev' }))).toEqual([2, 3, 4]);
    store.close();

    // the replay repeats the two drops in memory: they were told of before the restart
    store = openSessionStore(dir, { fsync: false, maxQueuedPerClient: 3, onDrop: (clientId) => told.push(clientId) });
    expect(await streamed((await attached(store)).outgoingStream({ id: 'dev' }))).toEqual([2, 3, 4]);
    expect(told).toEqual(['dev', 'dev']);
    store.close();
  });

  it('writes nothing for a clean=true connect of a client id without a stored session', async () => {
    const store = openSessionStore(dir, { fsync: false });
    const p = await attached(store);
    const before = readFileSync(file(), 'utf8');
    await p.cleanSubscriptions({ id: 'clean-client' });
    expect(readFileSync(file(), 'utf8')).toBe(before);
    expect(store.sessions).toBe(0);
    store.close();
  });
});
