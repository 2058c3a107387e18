import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openShadowService, type ShadowService } from '../../../../broker/shadows/index.js';

interface Sent { topic: string; doc: Record<string, any> }

const START_MS = 1_591_141_596_000;

function harness(dataDir: string, clock = { ms: START_MS }) {
  const sent: Sent[] = [];
  const service = openShadowService({
    dataDir,
    now: () => clock.ms,
    publish: async (topic, payload) => void sent.push({ topic, doc: JSON.parse(payload.toString()) }),
  });
  return { service, sent, clock };
}

async function offered(h: { service: ShadowService; sent: Sent[] }, topic: string, payload: unknown = ''): Promise<Sent[]> {
  await h.service.idle(); // earlier answers are not this request's
  const from = h.sent.length;
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  expect(h.service.offer(topic, Buffer.from(body))).toBe('handled');
  await h.service.idle();
  return h.sent.slice(from);
}

const meta = { timestamp: expect.any(Number) };

describe('the shadow service', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'shadows-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the documented worked sequence for the named shadow simShadow1 verbatim', async () => {
    const h = harness(dir);
    const P = '$aws/things/mySimulatedThing/shadow/name/simShadow1';

    // 1. get before creation
    expect(await offered(h, `${P}/get`)).toEqual([
      { topic: `${P}/get/rejected`, doc: { code: 404, message: "No shadow exists with name: 'simShadow1'", timestamp: 1591141596 } },
    ]);

    // 2. the device reports
    const step2 = await offered(h, `${P}/update`, '{"state":{"reported":{"ID":"SmartLamp21","ColorRGB":[128,128,128]}},"clientToken":"426bfd96-..."}');
    expect(step2.map((m) => m.topic)).toEqual([`${P}/update/accepted`, `${P}/update/documents`]);
    expect(step2[0]!.doc).toEqual({
      state: { reported: { ID: 'SmartLamp21', ColorRGB: [128, 128, 128] } },
      metadata: { reported: { ID: meta, ColorRGB: [meta, meta, meta] } },
      version: expect.any(Number),
      timestamp: 1591141596,
      clientToken: '426bfd96-...',
    });
    const v2 = step2[0]!.doc.version as number;

    // 3. the app sets desired (UpdateThingShadow)
    h.clock.ms += 5_000;
    const from = h.sent.length;
    const accepted = h.service.update('mySimulatedThing', 'simShadow1', Buffer.from('{"state":{"desired":{"ColorRGB":[255,255,0]}},"clientToken":"21b21b21-..."}'));
    await h.service.idle();
    expect(accepted).toEqual({
      state: { desired: { ColorRGB: [255, 255, 0] } },
      metadata: { desired: { ColorRGB: [{ timestamp: 1591141601 }, { timestamp: 1591141601 }, { timestamp: 1591141601 }] } },
      version: v2 + 1,
      timestamp: 1591141601,
      clientToken: '21b21b21-...',
    });
    const delta = h.sent.slice(from).find((m) => m.topic === `${P}/update/delta`);
    expect(delta?.doc).toEqual({
      version: v2 + 1,
      timestamp: 1591141601,
      state: { ColorRGB: [255, 255, 0] },
      metadata: { ColorRGB: [{ timestamp: 1591141601 }, { timestamp: 1591141601 }, { timestamp: 1591141601 }] },
      clientToken: '21b21b21-...',
    });

    // 4. the device reports the new colour
    const step4 = await offered(h, `${P}/update`, { state: { reported: { ColorRGB: [255, 255, 0] } } });
    expect(step4.map((m) => m.topic)).toEqual([`${P}/update/accepted`, `${P}/update/documents`]);
    expect(step4[0]!.doc.version).toBe(v2 + 2);
    expect(step4[1]!.doc).toMatchObject({
      previous: { state: { desired: { ColorRGB: [255, 255, 0] }, reported: { ID: 'SmartLamp21', ColorRGB: [128, 128, 128] } }, version: v2 + 1 },
      current: { state: { desired: { ColorRGB: [255, 255, 0] }, reported: { ID: 'SmartLamp21', ColorRGB: [255, 255, 0] } }, version: v2 + 2 },
    });

    // 5. optimistic locking: a stale version is refused, the current one accepted
    const current = v2 + 2;
    const stale = await offered(h, `${P}/update`, { state: { reported: { ID: 'x' } }, version: current - 1, clientToken: 'lock-1' });
    expect(stale).toEqual([{ topic: `${P}/update/rejected`, doc: { code: 409, message: 'Version conflict', timestamp: expect.any(Number), clientToken: 'lock-1' } }]);
    const ok = await offered(h, `${P}/update`, { state: { reported: { ID: 'x' } }, version: current });
    expect(ok[0]).toMatchObject({ topic: `${P}/update/accepted`, doc: { version: current + 1 } });
  });

  it('answers get with the full document and echoes the clientToken of the get payload', async () => {
    const h = harness(dir);
    h.service.update('lamp', undefined, { state: { desired: { on: true } } });
    const got = await offered(h, '$aws/things/lamp/shadow/get', { clientToken: 'g1' });
    expect(got).toEqual([{
      topic: '$aws/things/lamp/shadow/get/accepted',
      doc: { state: { desired: { on: true }, delta: { on: true } }, metadata: { desired: { on: meta } }, version: 1, timestamp: 1591141596, clientToken: 'g1' },
    }]);
  });

  it('deletes a shadow, answers get with 404 afterwards, and continues its version when recreated', async () => {
    const h = harness(dir);
    h.service.update('lamp', undefined, { state: { reported: { on: true } } });
    h.service.update('lamp', undefined, { state: { reported: { on: false } } });
    const deleted = await offered(h, '$aws/things/lamp/shadow/delete');
    expect(deleted).toEqual([{ topic: '$aws/things/lamp/shadow/delete/accepted', doc: { version: 2, timestamp: 1591141596 } }]);
    expect(() => h.service.get('lamp')).toThrow(expect.objectContaining({ code: 'ResourceNotFoundException', message: "No shadow exists with name: 'lamp'" }));
    expect((await offered(h, '$aws/things/lamp/shadow/delete'))[0]!.doc).toMatchObject({ code: 404 });
    expect(h.service.update('lamp', undefined, { state: { reported: { on: true } } }).version).toBe(3);
  });

  it('starts a recreated shadow from version 1 when it was deleted more than 48 hours earlier', () => {
    const h = harness(dir);
    h.service.update('lamp', undefined, { state: { reported: { on: true } } });
    h.service.update('lamp', undefined, { state: { reported: { on: true } } });
    h.service.delete('lamp');
    h.clock.ms += 48 * 3600 * 1000 + 1000;
    expect(h.service.update('lamp', undefined, { state: { reported: { on: true } } }).version).toBe(1);
  });

  it('keeps classic and named shadows apart and lists only the named ones, page by page', () => {
    const h = harness(dir);
    h.service.update('t1', undefined, { state: { reported: { a: 0 } } });
    for (const name of ['c', 'a', 'b']) h.service.update('t1', name, { state: { reported: { a: name } } });
    expect(h.service.get('t1', 'b').state).toEqual({ reported: { a: 'b' } });
    expect(h.service.get('t1').state).toEqual({ reported: { a: 0 } });
    const page1 = h.service.listNamedShadows('t1', { pageSize: 2 });
    expect(page1).toMatchObject({ results: ['a', 'b'], nextToken: expect.any(String) });
    expect(h.service.listNamedShadows('t1', { pageSize: 2, nextToken: page1.nextToken! })).toEqual({ results: ['c'], timestamp: 1591141596 });
    expect(h.service.listNamedShadows('unknown-thing').results).toEqual([]);
  });

  it('refuses device publishes on the topics it answers on and ignores topics that are not shadow requests', () => {
    const h = harness(dir);
    for (const suffix of ['update/accepted', 'update/rejected', 'update/delta', 'update/documents', 'get/accepted', 'delete/rejected']) {
      expect(h.service.offer(`$aws/things/t/shadow/${suffix}`, Buffer.alloc(0))).toBe('refused');
      expect(h.service.offer(`$aws/things/t/shadow/name/s/${suffix}`, Buffer.alloc(0))).toBe('refused');
    }
    expect(h.service.offer('$aws/things/t/jobs/get', Buffer.alloc(0))).toBeUndefined();
    expect(h.service.offer('$aws/things/t/shadow/other', Buffer.alloc(0))).toBeUndefined();
    expect(h.sent).toEqual([]);
  });

  it('rejects an invalid update on /update/rejected with the error document and changes nothing', async () => {
    const h = harness(dir);
    expect(await offered(h, '$aws/things/t/shadow/update', '{not json')).toEqual([
      { topic: '$aws/things/t/shadow/update/rejected', doc: { code: 400, message: 'Invalid JSON', timestamp: 1591141596 } },
    ]);
    expect((await offered(h, '$aws/things/t/shadow/update', { state: { reported: { a: 'x'.repeat(9000) } }, clientToken: 'big' }))[0]!.doc)
      .toEqual({ code: 413, message: 'The payload exceeds the maximum size allowed', timestamp: 1591141596, clientToken: 'big' });
    expect(h.service.thingShadow('t')).toBeUndefined();
    expect(h.service.counters).toMatchObject({ accepted: 0, rejected: 2 });
  });

  it('rejects thing and shadow names AWS does not allow', () => {
    const h = harness(dir);
    expect(() => h.service.update('bad.name', undefined, { state: {} })).toThrow(expect.objectContaining({ code: 'InvalidRequestException' }));
    expect(() => h.service.get('t', 'x'.repeat(65))).toThrow(expect.objectContaining({ code: 'InvalidRequestException' }));
  });

  it('keeps shadows, deletions and versions across a restart, in one file per thing', () => {
    const first = harness(dir);
    first.service.update('t1', undefined, { state: { desired: { a: 1 } } });
    first.service.update('t1', 'named', { state: { reported: { b: 2 } } });
    first.service.update('t2', undefined, { state: { reported: { c: 3 } } });
    first.service.delete('t2');
    expect(existsSync(join(dir, 'shadows', 't1.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'shadows', 't1.json'), 'utf8'))).toMatchObject({ thingName: 't1', shadows: { '': { version: 1 }, named: { version: 1 } } });

    const second = harness(dir);
    expect(second.service.get('t1')).toMatchObject({ state: { desired: { a: 1 }, delta: { a: 1 } }, version: 1 });
    expect(second.service.get('t1', 'named')).toMatchObject({ state: { reported: { b: 2 } } });
    expect(second.service.thingShadow('t2')).toBeUndefined();
    expect(second.service.update('t2', undefined, { state: { reported: { c: 4 } } }).version).toBe(2);
  });

  it('gives the rules engine the document get would return, or undefined', () => {
    const h = harness(dir);
    h.service.update('t1', 's', { state: { reported: { a: 1 } } });
    expect(h.service.thingShadow('t1', 's')).toEqual(h.service.get('t1', 's'));
    expect(h.service.thingShadow('t1')).toBeUndefined();
  });
});
