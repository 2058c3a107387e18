// The retained message journal: restore after restart with times, deletes, torn tails, damage,
// compaction, expiry after 3 years, and the limits (payload size, count quota, reserved topics).
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRetainedStore, RETAINED_FILE, RETAINED_LIFETIME_MS, type RetainedStore } from '../../../broker/mqtt/retained-store.js';
import { COMPACT_MIN_LINES } from '../../../broker/mqtt/json-lines.js';

let dir: string;
let clock: number;
const open = (extra: { maxMessages?: number; maxPayloadBytes?: number } = {}): RetainedStore =>
  openRetainedStore(dir, { fsync: false, maxPayloadBytes: 1024, now: () => clock, ...extra });
const file = () => join(dir, RETAINED_FILE);
const journalLines = () => readFileSync(file(), 'utf8').split('\n').filter((l) => l !== '');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iotcore-retained-'));
  clock = 1_700_000_000_000;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the retained message journal', () => {
  it('restores payloads, QoS and modification times after a restart and forgets deleted topics', () => {
    const first = open();
    first.put('b', Buffer.from('xyz'), 1);
    clock += 1000;
    first.put('a', Buffer.from([0, 255, 10]), 0);
    first.put('gone', Buffer.from('soon'), 1);
    first.put('gone', Buffer.alloc(0), 1);
    first.close();

    const second = open();
    expect(second.get('a')).toEqual({ topic: 'a', payload: Buffer.from([0, 255, 10]), qos: 0, lastModifiedTime: 1_700_000_001_000 });
    expect(second.get('b')).toEqual({ topic: 'b', payload: Buffer.from('xyz'), qos: 1, lastModifiedTime: 1_700_000_000_000 });
    expect(second.get('gone')).toBeUndefined();
    expect(second.list(undefined, 10)).toEqual({
      retainedTopics: [
        { topic: 'a', payloadSize: 3, qos: 0, lastModifiedTime: 1_700_000_001_000 },
        { topic: 'b', payloadSize: 3, qos: 1, lastModifiedTime: 1_700_000_000_000 },
      ],
      more: false,
    });
    second.close();
  });

  it('dates a replaced message by its last publish', () => {
    const s = open();
    s.put('t', Buffer.from('1'), 0);
    clock += 5;
    s.put('t', Buffer.from('2'), 1);
    expect(s.get('t')).toMatchObject({ payload: Buffer.from('2'), qos: 1, lastModifiedTime: 1_700_000_000_005 });
    s.close();
  });

  it('appends one line per retained publish and compacts to one line per topic at start-up', () => {
    const s = open();
    s.put('a', Buffer.from('1'), 0);
    s.put('a', Buffer.from('2'), 0);
    s.put('b', Buffer.from('3'), 0);
    s.put('b', Buffer.alloc(0), 0);
    s.put('never-retained', Buffer.alloc(0), 0); // nothing to delete: nothing written
    s.close();
    expect(journalLines()).toHaveLength(4);
    open().close();
    expect(journalLines().map((l) => JSON.parse(l))).toEqual([{ topic: 'a', payload: Buffer.from('2').toString('base64'), qos: 0, lastModifiedTime: clock }]);
  });

  it('compacts while running once the journal holds twice as many lines as topics', () => {
    const s = open();
    for (let i = 0; i <= COMPACT_MIN_LINES; i++) s.put('hot', Buffer.from(String(i)), 0);
    expect(s.counters.compactions).toBe(1);
    s.close();
    expect(journalLines().length).toBeLessThan(COMPACT_MIN_LINES);
    const again = open();
    expect(again.get('hot')?.payload.toString()).toBe(String(COMPACT_MIN_LINES));
    again.close();
  });

  it('drops a torn last line, which was never acknowledged, and keeps the lines before it', () => {
    const s = open();
    s.put('kept', Buffer.from('k'), 0);
    s.close();
    appendFileSync(file(), '{"topic":"torn","payl');
    const again = open();
    expect(again.droppedTornTail).toBe(true);
    expect(again.get('kept')?.payload.toString()).toBe('k');
    expect(again.get('torn')).toBeUndefined();
    again.put('after', Buffer.from('a'), 0); // the next append starts on a line of its own
    again.close();
    const third = open();
    expect(third.droppedTornTail).toBe(false);
    expect(third.list(undefined, 10).retainedTopics.map((m) => m.topic)).toEqual(['after', 'kept']);
    third.close();
  });

  it('refuses to start on an unreadable line before the last one, naming the file and the line', () => {
    writeFileSync(file(), '{"topic":"a","payload":"YQ==","qos":0,"lastModifiedTime":1}\nnot json\n{"topic":"b","payload":"Yg==","qos":0,"lastModifiedTime":1}\n');
    expect(() => open()).toThrow(expect.objectContaining({ code: 'RetainedFileInvalid', message: expect.stringContaining(`${file()}: line 2`) }));
    writeFileSync(file(), '{"topic":"a","payload":"YQ==","qos":2,"lastModifiedTime":1}\n');
    expect(() => open()).toThrow(expect.objectContaining({ code: 'RetainedFileInvalid', message: expect.stringContaining('line 1 has a qos other than 0 or 1') }));
  });

  it('deletes at start-up the messages not updated for 3 years', () => {
    const s = open();
    s.put('old', Buffer.from('o'), 0);
    clock += 1000;
    s.put('recent', Buffer.from('r'), 0);
    s.close();
    clock += RETAINED_LIFETIME_MS - 500;
    const again = open();
    expect(again.get('old')).toBeUndefined();
    expect(again.get('recent')).toBeDefined();
    expect(again.counters.expired).toBe(1);
    again.close();
    expect(journalLines()).toHaveLength(1);
  });

  it('creates the journal on first start', () => {
    open().close();
    expect(existsSync(file())).toBe(true);
  });
});

describe('the retained message limits', () => {
  it('refuses a new topic when the quota is full but still takes updates and deletions', () => {
    const s = open({ maxMessages: 2 });
    s.put('a', Buffer.from('1'), 0);
    s.put('b', Buffer.from('1'), 0);
    expect(() => s.put('c', Buffer.from('1'), 0)).toThrow(expect.objectContaining({ code: 'ThrottlingException', statusCode: 429 }));
    expect(s.get('c')).toBeUndefined();
    s.put('a', Buffer.from('2'), 0);
    s.put('b', Buffer.alloc(0), 0);
    s.put('c', Buffer.from('1'), 0);
    expect(s.list(undefined, 10).retainedTopics.map((m) => m.topic)).toEqual(['a', 'c']);
    expect(s.counters).toMatchObject({ stored: 4, deleted: 1, refused: 1 });
    s.close();
  });

  it('refuses a payload over the size limit and a retained message on a reserved topic', () => {
    const s = open({ maxPayloadBytes: 4 });
    expect(() => s.admit('t', Buffer.from('12345'))).toThrow(expect.objectContaining({ code: 'PayloadTooLarge' }));
    expect(() => s.put('$aws/things/x/shadow/update', Buffer.from('{}'), 0)).toThrow(expect.objectContaining({ code: 'ReservedTopic' }));
    s.put('t', Buffer.from('1234'), 0);
    s.close();
    expect(journalLines()).toHaveLength(1);
  });

  it('pages through topics in code-unit order after the last topic sent', () => {
    const s = open();
    for (const t of ['b', 'a/2', 'a/10', 'Z', 'c']) s.put(t, Buffer.from('x'), 0);
    const first = s.list(undefined, 2);
    expect(first).toMatchObject({ more: true });
    expect(first.retainedTopics.map((m) => m.topic)).toEqual(['Z', 'a/10']);
    s.put('a/11', Buffer.from('new'), 0); // a topic added between pages is not skipped
    const second = s.list('a/10', 2);
    expect(second.retainedTopics.map((m) => m.topic)).toEqual(['a/11', 'a/2']);
    expect(s.list('a/2', 10)).toMatchObject({ more: false });
    expect(s.list('a/2', 10).retainedTopics.map((m) => m.topic)).toEqual(['b', 'c']);
    s.close();
  });
});
