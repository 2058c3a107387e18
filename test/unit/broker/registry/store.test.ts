// The registry's operations in memory: validation, versions, merge, filters, pagination, groups.
import { createRegistryStore, type RegistryStore } from '../../../../broker/registry/index.js';
import type { BrokerError } from '../../../../broker/errors.js';

let clock: number;
let ids: number;
let store: RegistryStore;

beforeEach(() => {
  clock = 1_700_000_000_000;
  ids = 0;
  store = createRegistryStore({ region: 'eu-west-1', accountId: '123456789012', now: () => clock, newId: () => `id-${++ids}` });
});

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return `${(err as BrokerError).code} ${(err as BrokerError).statusCode}`;
  }
  throw new Error('expected an error');
}

describe('things', () => {
  it('creates a thing with an ARN from the region and account and describes it at version 1', () => {
    const created = store.createThing('lamp-1', { attributePayload: { attributes: { room: 'kitchen' } } });
    expect(created).toEqual({ thingName: 'lamp-1', thingArn: 'arn:aws:iot:eu-west-1:123456789012:thing/lamp-1', thingId: 'id-1' });
    expect(store.describeThing('lamp-1')).toEqual({
      defaultClientId: 'lamp-1', thingName: 'lamp-1', thingId: 'id-1', thingArn: created.thingArn, attributes: { room: 'kitchen' }, version: 1,
    });
  });

  it('repeats an identical CreateThing without error and refuses one with a different configuration', () => {
    store.createThing('lamp-1', { attributePayload: { attributes: { room: 'kitchen' } } });
    expect(store.createThing('lamp-1', { attributePayload: { attributes: { room: 'kitchen' } } }).thingId).toBe('id-1');
    expect(codeOf(() => store.createThing('lamp-1', { attributePayload: { attributes: { room: 'hall' } } }))).toBe('ResourceAlreadyExistsException 409');
  });

  it('refuses bad names, bad attribute names and values, and more than 3 attributes without a type', () => {
    expect(codeOf(() => store.createThing('has space'))).toBe('InvalidRequestException 400');
    expect(codeOf(() => store.createThing('x'.repeat(129)))).toBe('InvalidRequestException 400');
    expect(codeOf(() => store.createThing('a', { attributePayload: { attributes: { 'bad name': 'v' } } }))).toBe('InvalidRequestException 400');
    expect(codeOf(() => store.createThing('a', { attributePayload: { attributes: { n: 'bad value!' } } }))).toBe('InvalidRequestException 400');
    expect(codeOf(() => store.createThing('a', { attributePayload: { attributes: { a: '1', b: '2', c: '3', d: '4' } } }))).toBe('InvalidRequestException 400');
    store.createThingType('big');
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    expect(store.createThing('a', { thingTypeName: 'big', attributePayload: { attributes: fifty } }).thingName).toBe('a');
  });

  it('merges attributes with merge:true (an empty value removes one) and replaces them otherwise, counting versions', () => {
    store.createThing('t', { attributePayload: { attributes: { a: '1', b: '2' } } });
    store.updateThing('t', { attributePayload: { attributes: { b: '', c: '3' }, merge: true } });
    expect(store.describeThing('t')).toMatchObject({ attributes: { a: '1', c: '3' }, version: 2 });
    store.updateThing('t', { attributePayload: { attributes: { z: '9' } } });
    expect(store.describeThing('t')).toMatchObject({ attributes: { z: '9' }, version: 3 });
  });

  it('refuses an update or delete whose expectedVersion is not the current version', () => {
    store.createThing('t');
    expect(codeOf(() => store.updateThing('t', { expectedVersion: 2 }))).toBe('VersionConflictException 409');
    store.updateThing('t', { expectedVersion: 1 });
    expect(codeOf(() => store.deleteThing('t', 1))).toBe('VersionConflictException 409');
    store.deleteThing('t', 2);
    expect(codeOf(() => store.describeThing('t'))).toBe('ResourceNotFoundException 404');
  });

  it('deletes a thing that does not exist without error, as AWS documents', () => {
    expect(store.deleteThing('ghost')).toEqual({});
  });

  it('sets, keeps and removes a thing type, and refuses removeThingType together with a type', () => {
    store.createThingType('lamp');
    store.createThing('t', { thingTypeName: 'lamp' });
    store.updateThing('t', { attributePayload: { attributes: { a: '1' }, merge: true } });
    expect(store.describeThing('t').thingTypeName).toBe('lamp');
    expect(codeOf(() => store.updateThing('t', { removeThingType: true, thingTypeName: 'lamp' }))).toBe('InvalidRequestException 400');
    store.updateThing('t', { removeThingType: true });
    expect(store.describeThing('t').thingTypeName).toBeUndefined();
    expect(codeOf(() => store.createThing('u', { thingTypeName: 'nope' }))).toBe('ResourceNotFoundException 404');
  });

  it('lists things in name order, page by page, with type and attribute filters combined', () => {
    store.createThingType('lamp');
    for (const n of ['d', 'a', 'c', 'b', 'e']) store.createThing(n, { attributePayload: { attributes: { floor: n < 'c' ? '1' : '2', tag: `x-${n}` } }, ...(n !== 'e' ? { thingTypeName: 'lamp' } : {}) });
    const first = store.listThings({ maxResults: 2 });
    expect(first.things.map((t) => t.thingName)).toEqual(['a', 'b']);
    const second = store.listThings({ maxResults: 2, nextToken: first.nextToken! });
    expect(second.things.map((t) => t.thingName)).toEqual(['c', 'd']);
    const third = store.listThings({ maxResults: 2, nextToken: second.nextToken! });
    expect(third.things.map((t) => t.thingName)).toEqual(['e']);
    expect(third.nextToken).toBeUndefined();
    expect(store.listThings({ attributeName: 'floor', attributeValue: '2', thingTypeName: 'lamp' }).things.map((t) => t.thingName)).toEqual(['c', 'd']);
    expect(store.listThings({ attributeName: 'tag', attributeValue: 'x-', usePrefixAttributeValue: true }).things).toHaveLength(5);
    expect(store.listThings({ attributeName: 'tag', attributeValue: 'x-' }).things).toHaveLength(0);
    expect(codeOf(() => store.listThings({ maxResults: 251 }))).toBe('InvalidRequestException 400');
    expect(codeOf(() => store.listThings({ nextToken: 'garbage' }))).toBe('InvalidRequestException 400');
  });
});

describe('thing types', () => {
  it('describes a type with its creation date in epoch seconds and its deprecation', () => {
    store.createThingType('lamp', { thingTypeProperties: { thingTypeDescription: 'a lamp', searchableAttributes: ['room'] } });
    clock += 1000;
    store.deprecateThingType('lamp');
    expect(store.describeThingType('lamp')).toEqual({
      thingTypeName: 'lamp', thingTypeId: 'id-1', thingTypeArn: 'arn:aws:iot:eu-west-1:123456789012:thingtype/lamp',
      thingTypeProperties: { thingTypeDescription: 'a lamp', searchableAttributes: ['room'] },
      thingTypeMetadata: { deprecated: true, deprecationDate: 1_700_000_001, creationDate: 1_700_000_000 },
    });
    store.deprecateThingType('lamp', true);
    expect(store.describeThingType('lamp').thingTypeMetadata).toEqual({ deprecated: false, creationDate: 1_700_000_000 });
  });

  it('refuses a deprecated type for new things and updates but keeps it on things that have it', () => {
    store.createThingType('old');
    store.createThing('keeper', { thingTypeName: 'old' });
    store.deprecateThingType('old');
    expect(codeOf(() => store.createThing('new', { thingTypeName: 'old' }))).toBe('InvalidRequestException 400');
    store.createThing('other');
    expect(codeOf(() => store.updateThing('other', { thingTypeName: 'old' }))).toBe('InvalidRequestException 400');
    store.updateThing('keeper', { attributePayload: { attributes: { a: '1' } } });
    expect(store.describeThing('keeper').thingTypeName).toBe('old');
  });

  it('deletes a type only once deprecated for five minutes and unused', () => {
    store.createThingType('lamp');
    store.createThing('t', { thingTypeName: 'lamp' });
    expect(codeOf(() => store.deleteThingType('lamp'))).toBe('InvalidRequestException 400');
    store.deprecateThingType('lamp');
    clock += 5 * 60_000 - 1;
    expect(codeOf(() => store.deleteThingType('lamp'))).toBe('InvalidRequestException 400');
    clock += 1;
    expect(codeOf(() => store.deleteThingType('lamp'))).toBe('InvalidRequestException 400'); // still used by t
    store.deleteThing('t');
    store.deleteThingType('lamp');
    expect(codeOf(() => store.describeThingType('lamp'))).toBe('ResourceNotFoundException 404');
  });

  it('lists types by name prefix with pagination', () => {
    for (const n of ['lamp-a', 'lamp-b', 'plug']) store.createThingType(n);
    const page = store.listThingTypes({ thingTypeName: 'lamp', maxResults: 1 });
    expect(page.thingTypes.map((t) => t.thingTypeName)).toEqual(['lamp-a']);
    expect(store.listThingTypes({ thingTypeName: 'lamp', nextToken: page.nextToken! }).thingTypes.map((t) => t.thingTypeName)).toEqual(['lamp-b']);
  });
});

describe('static thing groups', () => {
  beforeEach(() => {
    store.createThingGroup('site');
    store.createThingGroup('floor1', { parentGroupName: 'site', thingGroupProperties: { thingGroupDescription: 'first', attributePayload: { attributes: { level: '1' } } } });
    store.createThingGroup('room1', { parentGroupName: 'floor1' });
    store.createThingGroup('other');
    store.createThing('t1');
    store.createThing('t2');
  });

  it('describes a group with its path from the root', () => {
    expect(store.describeThingGroup('room1')).toEqual({
      thingGroupName: 'room1', thingGroupId: 'id-3', thingGroupArn: 'arn:aws:iot:eu-west-1:123456789012:thinggroup/room1', version: 1,
      thingGroupProperties: {},
      thingGroupMetadata: {
        parentGroupName: 'floor1', creationDate: 1_700_000_000,
        rootToParentThingGroups: [
          { groupName: 'site', groupArn: 'arn:aws:iot:eu-west-1:123456789012:thinggroup/site' },
          { groupName: 'floor1', groupArn: 'arn:aws:iot:eu-west-1:123456789012:thinggroup/floor1' },
        ],
      },
    });
    expect(store.describeThingGroup('floor1').thingGroupProperties).toEqual({ thingGroupDescription: 'first', attributePayload: { attributes: { level: '1' } } });
  });

  it('adds things by name or ARN, lists members directly or recursively, and the groups of a thing', () => {
    store.addThingToThingGroup({ thingGroupName: 'room1', thingName: 't1' });
    store.addThingToThingGroup({ thingGroupArn: store.thingGroupArn('floor1'), thingArn: store.thingArn('t2') });
    store.addThingToThingGroup({ thingGroupName: 'other', thingName: 't1' });
    expect(store.listThingsInThingGroup('floor1').things).toEqual(['t2']);
    expect(store.listThingsInThingGroup('site', { recursive: true }).things).toEqual(['t1', 't2']);
    expect(store.listThingGroupsForThing('t1').thingGroups.map((g) => g.groupName)).toEqual(['other', 'room1']);
    store.removeThingFromThingGroup({ thingGroupName: 'room1', thingName: 't1' });
    expect(store.listThingGroupsForThing('t1').thingGroups.map((g) => g.groupName)).toEqual(['other']);
  });

  it('refuses a second group of the same hierarchy and more than 10 groups per thing', () => {
    store.addThingToThingGroup({ thingGroupName: 'room1', thingName: 't1' });
    expect(codeOf(() => store.addThingToThingGroup({ thingGroupName: 'site', thingName: 't1' }))).toBe('InvalidRequestException 400');
    for (let i = 0; i < 9; i++) {
      store.createThingGroup(`g${i}`);
      store.addThingToThingGroup({ thingGroupName: `g${i}`, thingName: 't1' });
    }
    store.createThingGroup('g9');
    expect(codeOf(() => store.addThingToThingGroup({ thingGroupName: 'g9', thingName: 't1' }))).toBe('LimitExceededException 410');
  });

  it('refuses a hierarchy deeper than 7 levels and an unknown parent', () => {
    let parent = 'room1'; // depth 3
    for (let d = 4; d <= 7; d++) {
      store.createThingGroup(`d${d}`, { parentGroupName: parent });
      parent = `d${d}`;
    }
    expect(codeOf(() => store.createThingGroup('d8', { parentGroupName: parent }))).toBe('LimitExceededException 410');
    expect(codeOf(() => store.createThingGroup('orphan', { parentGroupName: 'nope' }))).toBe('ResourceNotFoundException 404');
  });

  it('lists groups, children of a parent directly or recursively, and by name prefix', () => {
    expect(store.listThingGroups().thingGroups.map((g) => g.groupName)).toEqual(['floor1', 'other', 'room1', 'site']);
    expect(store.listThingGroups({ parentGroup: 'site' }).thingGroups.map((g) => g.groupName)).toEqual(['floor1']);
    expect(store.listThingGroups({ parentGroup: 'site', recursive: true }).thingGroups.map((g) => g.groupName)).toEqual(['floor1', 'room1']);
    expect(store.listThingGroups({ namePrefixFilter: 'r' }).thingGroups.map((g) => g.groupName)).toEqual(['room1']);
  });

  it('deletes a group without children, taking its things out of it, and refuses one with children', () => {
    store.addThingToThingGroup({ thingGroupName: 'room1', thingName: 't1' });
    expect(codeOf(() => store.deleteThingGroup('floor1'))).toBe('InvalidRequestException 400');
    expect(codeOf(() => store.deleteThingGroup('room1', 5))).toBe('VersionConflictException 409');
    store.deleteThingGroup('room1');
    expect(store.listThingGroupsForThing('t1').thingGroups).toEqual([]);
    expect(store.deleteThingGroup('room1')).toEqual({});
  });

  it('removes a deleted thing from its groups', () => {
    store.addThingToThingGroup({ thingGroupName: 'room1', thingName: 't1' });
    store.deleteThing('t1');
    expect(store.listThingsInThingGroup('room1').things).toEqual([]);
  });
});
