// The registry journal: restore after restart, torn tails, damage, compaction, and the
// configuration file's declared things applied idempotently.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyDeclaredRegistry, openRegistry, REGISTRY_FILE, type Registry } from '../../../../broker/registry/index.js';
import { COMPACT_MIN_LINES } from '../../../../broker/registry/journal.js';

let dir: string;
let clock: number;
const open = (): Registry => openRegistry(dir, { region: 'us-east-1', accountId: '123456789012', now: () => clock });
const journalLines = () => readFileSync(join(dir, REGISTRY_FILE), 'utf8').split('\n').filter((l) => l !== '');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iotcore-registry-'));
  clock = 1_700_000_000_000;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function populate(r: Registry): void {
  r.createThingType('lamp', { thingTypeProperties: { thingTypeDescription: 'lamps' } });
  r.createThingGroup('site');
  r.createThingGroup('floor', { parentGroupName: 'site' });
  r.createThing('t1', { thingTypeName: 'lamp', attributePayload: { attributes: { room: 'a' } } });
  r.createThing('t2');
  r.updateThing('t1', { attributePayload: { attributes: { room: 'b' }, merge: true } });
  r.addThingToThingGroup({ thingGroupName: 'floor', thingName: 't1' });
  r.deprecateThingType('lamp');
  r.deleteThing('t2');
}

describe('the registry journal', () => {
  it('restores things, types, groups, versions and memberships after a restart', () => {
    const first = open();
    populate(first);
    const before = { thing: first.describeThing('t1'), type: first.describeThingType('lamp'), group: first.describeThingGroup('floor'), list: first.listThings() };
    first.close();
    const second = open();
    expect(second.describeThing('t1')).toEqual(before.thing);
    expect(second.describeThing('t1').version).toBe(2);
    expect(second.describeThingType('lamp')).toEqual(before.type);
    expect(second.describeThingGroup('floor')).toEqual(before.group);
    expect(second.listThings()).toEqual(before.list);
    expect(second.listThingsInThingGroup('floor').things).toEqual(['t1']);
    second.close();
  });

  it('appends one line per change and compacts to one line per record at start-up', () => {
    const r = open();
    populate(r);
    r.close();
    expect(journalLines()).toHaveLength(9); // nine changes
    open().close();
    expect(journalLines()).toHaveLength(4); // lamp, site, floor, t1
  });

  it('keeps the deprecation date across a restart, so the five-minute wait is not restarted', () => {
    const r = open();
    r.createThingType('lamp');
    r.deprecateThingType('lamp');
    r.close();
    clock += 5 * 60_000;
    const again = open();
    again.deleteThingType('lamp');
    again.close();
    expect(() => open().describeThingType('lamp')).toThrow('does not exist');
  });

  it('drops a torn last line (a crash during an append) and keeps everything before it', () => {
    const r = open();
    r.createThing('kept');
    r.close();
    appendFileSync(join(dir, REGISTRY_FILE), '[{"thing":{"thingName":"torn"');
    const again = open();
    expect(again.journal().droppedTornTail).toBe(true);
    expect(again.listThings().things.map((t) => t.thingName)).toEqual(['kept']);
    again.close();
  });

  it('refuses to start on a damaged line before the last one, naming the file and line', () => {
    writeFileSync(join(dir, REGISTRY_FILE), 'not json\n[{"deleteThing":"x"}]\n');
    expect(() => open()).toThrow(expect.objectContaining({ code: 'RegistryFileInvalid', message: expect.stringContaining('line 1') }));
  });

  it('does not change memory when the journal cannot be written', () => {
    const r = open();
    r.createThing('t');
    r.close();
    expect(() => r.updateThing('t', { attributePayload: { attributes: { a: '1' } } })).toThrow(expect.objectContaining({ code: 'ServiceUnavailableException' }));
    expect(r.describeThing('t')).toMatchObject({ attributes: {}, version: 1 });
  });

  it('compacts while running once the journal holds far more lines than records', () => {
    const r = open();
    r.createThing('busy');
    for (let i = 0; i < COMPACT_MIN_LINES + 5; i++) r.updateThing('busy', { attributePayload: { attributes: { n: String(i) } } });
    expect(r.journal().compactions).toBe(1);
    expect(journalLines().length).toBeLessThan(10);
    r.close();
    expect(open().describeThing('busy')).toMatchObject({ attributes: { n: String(COMPACT_MIN_LINES + 4) }, version: COMPACT_MIN_LINES + 6 });
  });
});

describe('declared registry resources', () => {
  const declared = {
    thingTypes: [{ thingTypeName: 'lamp', thingTypeProperties: { thingTypeDescription: 'lamps' } }],
    thingGroups: [{ thingGroupName: 'site' }, { thingGroupName: 'floor', parentGroupName: 'site', thingGroupProperties: { thingGroupDescription: 'f' } }],
    things: [{ thingName: 'lamp-1', thingTypeName: 'lamp', attributePayload: { attributes: { room: 'a' } }, thingGroupNames: ['floor'] }],
  };

  it('creates them once and changes nothing when applied again', () => {
    const r = open();
    applyDeclaredRegistry(r, declared, 'test.json');
    const lines = journalLines().length;
    applyDeclaredRegistry(r, declared, 'test.json');
    expect(journalLines()).toHaveLength(lines);
    expect(r.describeThing('lamp-1')).toMatchObject({ thingTypeName: 'lamp', attributes: { room: 'a' }, version: 1 });
    expect(r.listThingGroupsForThing('lamp-1').thingGroups.map((g) => g.groupName)).toEqual(['floor']);
    r.close();
  });

  it('brings an existing thing and group to the declared state and names the entry of a bad one', () => {
    const r = open();
    applyDeclaredRegistry(r, declared, 'test.json');
    const changed = { ...declared, thingGroups: [declared.thingGroups[0]!, { ...declared.thingGroups[1]!, thingGroupProperties: { thingGroupDescription: 'g' } }], things: [{ thingName: 'lamp-1', attributePayload: { attributes: { room: 'b' } } }] };
    applyDeclaredRegistry(r, changed, 'test.json');
    expect(r.describeThing('lamp-1')).toMatchObject({ attributes: { room: 'b' }, version: 2 });
    expect(r.describeThing('lamp-1').thingTypeName).toBeUndefined();
    expect(r.describeThingGroup('floor')).toMatchObject({ version: 2, thingGroupProperties: { thingGroupDescription: 'g' } });
    expect(() => applyDeclaredRegistry(r, { things: [{ thingName: 'x', thingTypeName: 'missing' }] }, 'test.json'))
      .toThrow(expect.objectContaining({ code: 'ConfigInvalid', message: expect.stringContaining('things[0]') }));
    r.close();
  });
});

describe('the rules engine lookup', () => {
  it('answers DescribeThing and ListThingGroupsForThing, and undefined for an unknown thing', () => {
    const r = open();
    populate(r);
    expect(r.registryData('t1', 'DescribeThing')).toMatchObject({ thingName: 't1', attributes: { room: 'b' }, thingTypeName: 'lamp' });
    expect(r.registryData('t1', 'ListThingGroupsForThing')).toEqual({ thingGroups: [{ groupName: 'floor', groupArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/floor' }] });
    expect(r.registryData('nobody', 'DescribeThing')).toBeUndefined();
    expect(r.registryData('bad name/#', 'ListThingGroupsForThing')).toBeUndefined();
    r.close();
  });
});
