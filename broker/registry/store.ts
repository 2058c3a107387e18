// The device registry (spec §3.1–3.3): things, thing types and static thing groups, with the
// request and response shapes of @aws-sdk/client-iot. Synchronous and in memory; every change is
// handed to `persist` (the journal) before it is applied, so a change that cannot be written is
// refused and memory never gets ahead of disk.
import { randomUUID } from 'node:crypto';
import { BrokerError } from '../errors.js';
import { decodeToken, paginate, sortedAfter, type Page } from './paging.js';
import { RegistryState, type Change, type ThingGroupProperties, type ThingGroupRecord, type ThingRecord, type ThingTypeProperties, type ThingTypeRecord } from './state.js';
import {
  checkAttributeCount, checkAttributes, checkBoolean, checkDescription, checkMaxResults, checkName, checkObject, checkVersion, invalid, LIMITS,
} from './validation.js';

/** AWS asks to wait five minutes between DeprecateThingType and DeleteThingType. */
export const THING_TYPE_DELETE_DELAY_MS = 5 * 60_000;

export interface RegistryOptions {
  region: string;
  accountId: string;
  /** epoch ms (tests move it) */
  now?(): number;
  newId?(): string;
  /** wait between deprecating and deleting a thing type (default 5 minutes, as AWS) */
  thingTypeDeleteDelayMs?: number;
}

export interface AttributePayload { attributes?: Record<string, string>; merge?: boolean }
export interface CreateThingRequest { thingTypeName?: string; attributePayload?: AttributePayload; billingGroupName?: string }
export interface UpdateThingRequest { thingTypeName?: string; attributePayload?: AttributePayload; expectedVersion?: number; removeThingType?: boolean }
export interface ListThingsRequest { maxResults?: number; nextToken?: string; attributeName?: string; attributeValue?: string; thingTypeName?: string; usePrefixAttributeValue?: boolean }
export interface CreateThingGroupRequest { parentGroupName?: string; thingGroupProperties?: { thingGroupDescription?: string; attributePayload?: AttributePayload } }
export interface ListThingGroupsRequest { maxResults?: number; nextToken?: string; parentGroup?: string; namePrefixFilter?: string; recursive?: boolean }
export interface MembershipRequest { thingGroupName?: string; thingGroupArn?: string; thingName?: string; thingArn?: string }
export interface PageRequest { maxResults?: number; nextToken?: string }

export interface DescribeThingResponse {
  defaultClientId: string;
  thingName: string;
  thingId: string;
  thingArn: string;
  thingTypeName?: string;
  attributes: Record<string, string>;
  version: number;
}
export interface GroupNameAndArn { groupName: string; groupArn: string }

export type RegistryStore = ReturnType<typeof createRegistryStore>;

export function createRegistryStore(options: RegistryOptions, persist: (changes: Change[]) => void = () => {}, state = new RegistryState()) {
  const now = options.now ?? Date.now;
  const newId = options.newId ?? randomUUID;
  const deleteDelayMs = options.thingTypeDeleteDelayMs ?? THING_TYPE_DELETE_DELAY_MS;
  const arnPrefix = `arn:aws:iot:${options.region}:${options.accountId}:`;
  const thingArn = (name: string) => `${arnPrefix}thing/${name}`;
  const thingTypeArn = (name: string) => `${arnPrefix}thingtype/${name}`;
  const thingGroupArn = (name: string) => `${arnPrefix}thinggroup/${name}`;

  function commit(...changes: Change[]): void {
    persist(changes);
    for (const c of changes) state.apply(c);
  }

  function thingOf(name: string): ThingRecord {
    const t = state.things.get(name);
    if (!t) throw new BrokerError('ResourceNotFoundException', `Thing ${name} does not exist`);
    return t;
  }
  function groupOf(name: string): ThingGroupRecord {
    const g = state.groups.get(name);
    if (!g) throw new BrokerError('ResourceNotFoundException', `Thing group ${name} does not exist`);
    return g;
  }
  function typeOf(name: string): ThingTypeRecord {
    const t = state.types.get(name);
    if (!t) throw new BrokerError('ResourceNotFoundException', `Thing type ${name} does not exist`);
    return t;
  }
  /** A type a thing may newly be given: it exists and is not deprecated. */
  function assignableType(name: string, current?: string): string {
    const t = typeOf(checkName(name, 'thingTypeName'));
    if (t.deprecated && name !== current) throw invalid(`Thing type ${name} is deprecated: no thing can newly be given it`);
    return name;
  }
  function checkExpected(actual: number, expected: number | undefined, what: string): void {
    if (expected !== undefined && expected !== actual) {
      throw new BrokerError('VersionConflictException', `${what}: expectedVersion ${expected} does not match the current version ${actual}`);
    }
  }
  function describeThingRecord(t: ThingRecord): DescribeThingResponse {
    const out: DescribeThingResponse = { defaultClientId: t.thingName, thingName: t.thingName, thingId: t.thingId, thingArn: thingArn(t.thingName), attributes: { ...t.attributes }, version: t.version };
    if (t.thingTypeName !== undefined) out.thingTypeName = t.thingTypeName;
    return out;
  }
  const groupRef = (name: string): GroupNameAndArn => ({ groupName: name, groupArn: thingGroupArn(name) });

  /** Resolves a name-or-ARN pair of a membership request (the name wins when both are given). */
  function resolve(name: string | undefined, arn: string | undefined, kind: 'thing' | 'thinggroup', what: string): string {
    if (name !== undefined) return checkName(name, what);
    if (typeof arn !== 'string') throw invalid(`${what} or its ARN is required`);
    const prefix = `${arnPrefix}${kind}/`;
    if (!arn.startsWith(prefix)) throw new BrokerError('ResourceNotFoundException', `${arn} is not a ${kind === 'thing' ? 'thing' : 'thing group'} ARN of this account and region`);
    return checkName(arn.slice(prefix.length), what);
  }

  function groupProperties(raw: unknown, where: string): ThingGroupProperties {
    const p = checkObject(raw, where);
    const out: ThingGroupProperties = {};
    const description = checkDescription(p.thingGroupDescription, `${where}.thingGroupDescription`);
    if (description !== undefined) out.thingGroupDescription = description;
    if (p.attributePayload !== undefined) {
      const attributes = withoutEmpty(checkAttributes(checkObject(p.attributePayload, `${where}.attributePayload`).attributes, `${where}.attributePayload.attributes`));
      if (Object.keys(attributes).length > LIMITS.groupAttributes) throw invalid(`${where}: a thing group has at most ${LIMITS.groupAttributes} attributes`);
      out.attributePayload = { attributes };
    }
    return out;
  }

  return {
    thingArn,
    thingTypeArn,
    thingGroupArn,

    // ---- things (§3.1)

    createThing(name: string, req: CreateThingRequest = {}) {
      checkName(name, 'thingName');
      const body = checkObject(req, 'the request body');
      const payload = checkObject(body.attributePayload, 'attributePayload');
      const attributes = checkAttributes(payload.attributes, 'attributePayload.attributes');
      const typeName = body.thingTypeName === undefined ? undefined : checkName(body.thingTypeName, 'thingTypeName');
      if (body.billingGroupName !== undefined) throw new BrokerError('ResourceNotFoundException', `Billing group ${String(body.billingGroupName)} does not exist (billing groups are not supported)`);
      const existing = state.things.get(name);
      if (existing) {
        // AWS: repeating a CreateThing with the same configuration succeeds and changes nothing.
        if (existing.thingTypeName === typeName && sameMap(existing.attributes, attributes)) return { thingName: name, thingArn: thingArn(name), thingId: existing.thingId };
        throw new BrokerError('ResourceAlreadyExistsException', `Thing ${name} already exists with a different configuration`, { resourceId: existing.thingId, resourceArn: thingArn(name) });
      }
      if (typeName !== undefined) assignableType(typeName);
      checkAttributeCount(attributes, typeName !== undefined, name);
      const thing: ThingRecord = { thingName: name, thingId: newId(), attributes, version: 1, groups: [] };
      if (typeName !== undefined) thing.thingTypeName = typeName;
      commit({ thing });
      return { thingName: name, thingArn: thingArn(name), thingId: thing.thingId };
    },

    describeThing(name: string): DescribeThingResponse {
      return describeThingRecord(thingOf(name));
    },

    /** undefined when there is no such thing (for the rules engine's lookups) */
    findThing(name: string): DescribeThingResponse | undefined {
      const t = state.things.get(name);
      return t && describeThingRecord(t);
    },

    updateThing(name: string, req: UpdateThingRequest = {}) {
      const body = checkObject(req, 'the request body');
      const old = thingOf(checkName(name, 'thingName'));
      checkExpected(old.version, checkVersion(body.expectedVersion, 'expectedVersion'), `Thing ${name}`);
      const remove = checkBoolean(body.removeThingType, 'removeThingType') === true;
      if (remove && body.thingTypeName !== undefined) throw invalid('removeThingType cannot be true together with a thingTypeName');
      let typeName = old.thingTypeName;
      if (remove) typeName = undefined;
      else if (body.thingTypeName !== undefined) typeName = assignableType(body.thingTypeName as string, old.thingTypeName);
      let attributes = old.attributes;
      if (body.attributePayload !== undefined) {
        const payload = checkObject(body.attributePayload, 'attributePayload');
        const given = checkAttributes(payload.attributes, 'attributePayload.attributes');
        // merge: an empty value removes that attribute; otherwise the map replaces them all
        attributes = checkBoolean(payload.merge, 'attributePayload.merge') === true ? withoutEmpty({ ...old.attributes, ...given }) : given;
      }
      checkAttributeCount(attributes, typeName !== undefined, name);
      const thing: ThingRecord = { ...old, attributes, version: old.version + 1 };
      if (typeName === undefined) delete thing.thingTypeName;
      else thing.thingTypeName = typeName;
      commit({ thing });
      return {};
    },

    /** AWS: deleting a thing that does not exist succeeds. Memberships go with the thing. */
    deleteThing(name: string, expectedVersion?: number) {
      checkName(name, 'thingName');
      const old = state.things.get(name);
      if (!old) return {};
      checkExpected(old.version, checkVersion(expectedVersion, 'expectedVersion'), `Thing ${name}`);
      commit({ deleteThing: name });
      return {};
    },

    listThings(req: ListThingsRequest = {}) {
      const max = checkMaxResults(req.maxResults);
      const after = decodeToken(req.nextToken);
      const { attributeName, attributeValue, thingTypeName } = req;
      if ((attributeName === undefined) !== (attributeValue === undefined)) throw invalid('attributeName and attributeValue must be given together');
      const prefix = req.usePrefixAttributeValue === true;
      const page = paginate(state.thingNames.from(after), max, (n) => {
        const t = state.things.get(n)!;
        if (thingTypeName !== undefined && t.thingTypeName !== thingTypeName) return undefined;
        if (attributeName !== undefined) {
          const v = t.attributes[attributeName];
          if (v === undefined || (prefix ? !v.startsWith(attributeValue!) : v !== attributeValue)) return undefined;
        }
        const item: { thingName: string; thingTypeName?: string; thingArn: string; attributes: Record<string, string>; version: number } = {
          thingName: n, thingArn: thingArn(n), attributes: { ...t.attributes }, version: t.version,
        };
        if (t.thingTypeName !== undefined) item.thingTypeName = t.thingTypeName;
        return item;
      });
      return withToken({ things: page.items }, page);
    },

    // ---- thing types (§3.2)

    createThingType(name: string, req: { thingTypeProperties?: ThingTypeProperties } = {}) {
      checkName(name, 'thingTypeName');
      const raw = checkObject(checkObject(req, 'the request body').thingTypeProperties, 'thingTypeProperties');
      const properties: ThingTypeProperties = {};
      const description = checkDescription(raw.thingTypeDescription, 'thingTypeProperties.thingTypeDescription');
      if (description !== undefined) properties.thingTypeDescription = description;
      if (raw.searchableAttributes !== undefined) {
        const list = raw.searchableAttributes;
        if (!Array.isArray(list) || list.length > LIMITS.searchableAttributes) throw invalid(`thingTypeProperties.searchableAttributes must be a list of at most ${LIMITS.searchableAttributes} attribute names`);
        properties.searchableAttributes = Object.keys(checkAttributes(Object.fromEntries(list.map((a) => [a, ''])), 'thingTypeProperties.searchableAttributes'));
      }
      if (raw.mqtt5Configuration !== undefined) properties.mqtt5Configuration = raw.mqtt5Configuration;
      const existing = state.types.get(name);
      if (existing) {
        if (JSON.stringify(existing.properties) === JSON.stringify(properties)) return { thingTypeName: name, thingTypeArn: thingTypeArn(name), thingTypeId: existing.thingTypeId };
        throw new BrokerError('ResourceAlreadyExistsException', `Thing type ${name} already exists with other properties (thing types are immutable)`, { resourceId: existing.thingTypeId, resourceArn: thingTypeArn(name) });
      }
      const thingType: ThingTypeRecord = { thingTypeName: name, thingTypeId: newId(), properties, deprecated: false, creationDate: now() };
      commit({ thingType });
      return { thingTypeName: name, thingTypeArn: thingTypeArn(name), thingTypeId: thingType.thingTypeId };
    },

    describeThingType(name: string) {
      const t = typeOf(checkName(name, 'thingTypeName'));
      return { thingTypeName: name, thingTypeId: t.thingTypeId, thingTypeArn: thingTypeArn(name), thingTypeProperties: typeProperties(t), thingTypeMetadata: typeMetadata(t) };
    },

    /** thingTypeName filters by prefix (as moto; AWS's documentation does not say). */
    listThingTypes(req: PageRequest & { thingTypeName?: string } = {}) {
      const max = checkMaxResults(req.maxResults);
      const prefix = req.thingTypeName;
      const page = paginate(state.typeNames.from(decodeToken(req.nextToken)), max, (n) => {
        if (prefix !== undefined && !n.startsWith(prefix)) return undefined;
        const t = state.types.get(n)!;
        return { thingTypeName: n, thingTypeArn: thingTypeArn(n), thingTypeProperties: typeProperties(t), thingTypeMetadata: typeMetadata(t) };
      });
      return withToken({ thingTypes: page.items }, page);
    },

    deprecateThingType(name: string, undoDeprecate = false) {
      const old = typeOf(checkName(name, 'thingTypeName'));
      const thingType: ThingTypeRecord = { ...old, deprecated: !undoDeprecate };
      if (undoDeprecate) delete thingType.deprecationDate;
      else thingType.deprecationDate = now();
      commit({ thingType });
      return {};
    },

    /** Only a deprecated type, deprecated for at least the delay (AWS: five minutes), that no
     * thing uses. */
    deleteThingType(name: string) {
      const t = typeOf(checkName(name, 'thingTypeName'));
      if (!t.deprecated) throw invalid(`Thing type ${name} must be deprecated before it can be deleted`);
      const waitMs = t.deprecationDate! + deleteDelayMs - now();
      if (waitMs > 0) throw invalid(`Thing type ${name} was deprecated less than ${deleteDelayMs / 1000} s ago; it can be deleted in ${Math.ceil(waitMs / 1000)} s`);
      const users = state.typeUsage.get(name) ?? 0;
      if (users > 0) throw invalid(`Thing type ${name} is still used by ${users} thing(s)`);
      commit({ deleteThingType: name });
      return {};
    },

    // ---- static thing groups (§3.3)

    createThingGroup(name: string, req: CreateThingGroupRequest = {}) {
      checkName(name, 'thingGroupName');
      const body = checkObject(req, 'the request body');
      const parent = body.parentGroupName === undefined ? undefined : checkName(body.parentGroupName, 'parentGroupName');
      const properties = groupProperties(body.thingGroupProperties, 'thingGroupProperties');
      const existing = state.groups.get(name);
      if (existing) {
        if (existing.parentGroupName === parent && JSON.stringify(existing.properties) === JSON.stringify(properties)) {
          return { thingGroupName: name, thingGroupArn: thingGroupArn(name), thingGroupId: existing.thingGroupId };
        }
        throw new BrokerError('ResourceAlreadyExistsException', `Thing group ${name} already exists with a different configuration`, { resourceId: existing.thingGroupId, resourceArn: thingGroupArn(name) });
      }
      if (parent !== undefined) {
        groupOf(parent);
        if (state.depth(parent) + 1 > LIMITS.hierarchyDepth) throw new BrokerError('LimitExceededException', `a thing group hierarchy is at most ${LIMITS.hierarchyDepth} levels deep`);
        if ((state.children.get(parent)?.size ?? 0) >= LIMITS.directChildren) throw new BrokerError('LimitExceededException', `Thing group ${parent} already has ${LIMITS.directChildren} child groups`);
      }
      const thingGroup: ThingGroupRecord = { thingGroupName: name, thingGroupId: newId(), properties, version: 1, creationDate: now() };
      if (parent !== undefined) thingGroup.parentGroupName = parent;
      commit({ thingGroup });
      return { thingGroupName: name, thingGroupArn: thingGroupArn(name), thingGroupId: thingGroup.thingGroupId };
    },

    /** UpdateThingGroup: replaces the properties (attributes merged when merge is true). */
    updateThingGroup(name: string, req: { thingGroupProperties?: unknown; expectedVersion?: number } = {}) {
      const old = groupOf(checkName(name, 'thingGroupName'));
      const body = checkObject(req, 'the request body');
      checkExpected(old.version, checkVersion(body.expectedVersion, 'expectedVersion'), `Thing group ${name}`);
      const raw = checkObject(body.thingGroupProperties, 'thingGroupProperties');
      const properties = groupProperties(raw, 'thingGroupProperties');
      const payload = checkObject(raw.attributePayload, 'thingGroupProperties.attributePayload');
      if (checkBoolean(payload.merge, 'thingGroupProperties.attributePayload.merge') === true) {
        // merge: an empty value removes that attribute, as for things
        const given = checkAttributes(payload.attributes, 'thingGroupProperties.attributePayload.attributes');
        const attributes = withoutEmpty({ ...old.properties.attributePayload?.attributes, ...given });
        if (Object.keys(attributes).length > LIMITS.groupAttributes) throw invalid(`a thing group has at most ${LIMITS.groupAttributes} attributes`);
        properties.attributePayload = { attributes };
      }
      const thingGroup: ThingGroupRecord = { ...old, properties, version: old.version + 1 };
      commit({ thingGroup });
      return { version: thingGroup.version };
    },

    describeThingGroup(name: string) {
      const g = groupOf(checkName(name, 'thingGroupName'));
      const metadata: { parentGroupName?: string; rootToParentThingGroups: GroupNameAndArn[]; creationDate: number } = {
        rootToParentThingGroups: state.ancestors(name).map((a) => groupRef(a.thingGroupName)),
        creationDate: g.creationDate / 1000,
      };
      if (g.parentGroupName !== undefined) metadata.parentGroupName = g.parentGroupName;
      return {
        thingGroupName: name, thingGroupId: g.thingGroupId, thingGroupArn: thingGroupArn(name), version: g.version,
        thingGroupProperties: structuredClone(g.properties), thingGroupMetadata: metadata,
      };
    },

    listThingGroups(req: ListThingGroupsRequest = {}) {
      const max = checkMaxResults(req.maxResults);
      const after = decodeToken(req.nextToken);
      let names: Iterable<string> = state.groupNames.from(after);
      if (req.parentGroup !== undefined) {
        groupOf(req.parentGroup);
        const below = req.recursive === true ? state.descendants(req.parentGroup).slice(1) : [...(state.children.get(req.parentGroup) ?? [])];
        names = sortedAfter(below, after);
      }
      const prefix = req.namePrefixFilter;
      const page = paginate(names, max, (n) => (prefix === undefined || n.startsWith(prefix) ? groupRef(n) : undefined));
      return withToken({ thingGroups: page.items }, page);
    },

    /** AWS: deleting a group that does not exist succeeds. A group with child groups is refused;
     * its things stay (they only leave the group). */
    deleteThingGroup(name: string, expectedVersion?: number) {
      checkName(name, 'thingGroupName');
      const g = state.groups.get(name);
      if (!g) return {};
      checkExpected(g.version, checkVersion(expectedVersion, 'expectedVersion'), `Thing group ${name}`);
      if ((state.children.get(name)?.size ?? 0) > 0) throw invalid(`Thing group ${name} has child groups; delete them first`);
      const leaving: Change[] = [...(state.members.get(name) ?? [])].map((t) => {
        const thing = state.things.get(t)!;
        return { thing: { ...thing, groups: thing.groups.filter((x) => x !== name) } };
      });
      commit(...leaving, { deleteThingGroup: name });
      return {};
    },

    addThingToThingGroup(req: MembershipRequest) {
      const body = checkObject(req, 'the request body') as MembershipRequest;
      const groupName = resolve(body.thingGroupName, body.thingGroupArn, 'thinggroup', 'thingGroupName');
      const name = resolve(body.thingName, body.thingArn, 'thing', 'thingName');
      groupOf(groupName);
      const thing = thingOf(name);
      if (thing.groups.includes(groupName)) return {};
      if (thing.groups.length >= LIMITS.groupsPerThing) throw new BrokerError('LimitExceededException', `Thing ${name} is already in ${LIMITS.groupsPerThing} thing groups`);
      const root = state.root(groupName);
      const clash = thing.groups.find((g) => state.root(g) === root);
      if (clash !== undefined) throw invalid(`Thing ${name} is already in thing group ${clash} of the same hierarchy as ${groupName}`);
      commit({ thing: { ...thing, groups: [...thing.groups, groupName] } });
      return {};
    },

    removeThingFromThingGroup(req: MembershipRequest) {
      const body = checkObject(req, 'the request body') as MembershipRequest;
      const groupName = resolve(body.thingGroupName, body.thingGroupArn, 'thinggroup', 'thingGroupName');
      const name = resolve(body.thingName, body.thingArn, 'thing', 'thingName');
      groupOf(groupName);
      const thing = thingOf(name);
      if (!thing.groups.includes(groupName)) return {};
      commit({ thing: { ...thing, groups: thing.groups.filter((g) => g !== groupName) } });
      return {};
    },

    listThingsInThingGroup(groupName: string, req: PageRequest & { recursive?: boolean } = {}) {
      groupOf(checkName(groupName, 'thingGroupName'));
      const max = checkMaxResults(req.maxResults);
      const groups = req.recursive === true ? state.descendants(groupName) : [groupName];
      const names = new Set<string>();
      for (const g of groups) for (const t of state.members.get(g) ?? []) names.add(t);
      const page = paginate(sortedAfter(names, decodeToken(req.nextToken)), max, (n) => n);
      return withToken({ things: page.items }, page);
    },

    listThingGroupsForThing(name: string, req: PageRequest = {}) {
      const thing = thingOf(checkName(name, 'thingName'));
      const max = checkMaxResults(req.maxResults);
      const page = paginate(sortedAfter(thing.groups, decodeToken(req.nextToken)), max, groupRef);
      return withToken({ thingGroups: page.items }, page);
    },

    /** Counts for metrics and tests. */
    sizes() {
      return { things: state.things.size, thingTypes: state.types.size, thingGroups: state.groups.size };
    },
  };
}

function typeProperties(t: ThingTypeRecord): ThingTypeProperties {
  return structuredClone(t.properties);
}

function typeMetadata(t: ThingTypeRecord) {
  const m: { deprecated: boolean; deprecationDate?: number; creationDate: number } = { deprecated: t.deprecated, creationDate: t.creationDate / 1000 };
  if (t.deprecationDate !== undefined) m.deprecationDate = t.deprecationDate / 1000;
  return m;
}

function withToken<T extends object>(body: T, page: Page<unknown>): T & { nextToken?: string } {
  return page.nextToken === undefined ? body : { ...body, nextToken: page.nextToken };
}

function withoutEmpty(attributes: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== ''));
}

function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}
