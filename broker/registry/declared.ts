// Registry resources declared in the configuration file (config as code), applied at every
// start-up. Idempotent: applying the same file twice changes nothing (no version bump).
//   thingTypes  create when missing; an existing type must have the same properties (types are
//               immutable in AWS: change one through the API — deprecate, delete, create).
//   thingGroups create when missing; an existing group gets the declared properties (version+1
//               only when they differ); its parent cannot change.
//   things      create when missing; an existing thing gets the declared type and attributes
//               (version+1 only when they differ); `thingGroupNames` are added, memberships made
//               through the API are kept.
import { BrokerError, isCodedError } from '../errors.js';
import type { ThingTypeProperties } from './state.js';
import type { AttributePayload, CreateThingGroupRequest, RegistryStore } from './store.js';

export interface DeclaredThingType { thingTypeName: string; thingTypeProperties?: ThingTypeProperties }
export interface DeclaredThingGroup extends CreateThingGroupRequest { thingGroupName: string }
export interface DeclaredThing { thingName: string; thingTypeName?: string; attributePayload?: AttributePayload; thingGroupNames?: string[] }
export interface DeclaredRegistry { thingTypes?: DeclaredThingType[]; thingGroups?: DeclaredThingGroup[]; things?: DeclaredThing[] }

export function applyDeclaredRegistry(store: RegistryStore, declared: DeclaredRegistry, source: string): void {
  const step = <T>(key: string, items: readonly T[] | undefined, apply: (item: T) => void) => {
    for (const [i, item] of (items ?? []).entries()) {
      try {
        apply(item);
      } catch (err) {
        const reason = isCodedError(err) ? `${err.code}: ${err.message}` : String(err);
        throw new BrokerError('ConfigInvalid', `config ${source}: ${key}[${i}]: ${reason}`);
      }
    }
  };
  step('thingTypes', declared.thingTypes, (t) => {
    store.createThingType(t.thingTypeName, t.thingTypeProperties === undefined ? {} : { thingTypeProperties: t.thingTypeProperties });
  });
  step('thingGroups', declared.thingGroups, (g) => {
    const { thingGroupName, ...request } = g;
    const existing = tryDescribe(() => store.describeThingGroup(thingGroupName));
    if (!existing) {
      store.createThingGroup(thingGroupName, request);
      return;
    }
    if (existing.thingGroupMetadata.parentGroupName !== request.parentGroupName) {
      throw new BrokerError('InvalidRequestException', `thing group ${thingGroupName} exists with parent ${existing.thingGroupMetadata.parentGroupName ?? '(none)'}; a parent cannot change`);
    }
    const wanted = { thingGroupProperties: request.thingGroupProperties ?? {} };
    try {
      store.createThingGroup(thingGroupName, request); // identical: nothing to do
    } catch {
      store.updateThingGroup(thingGroupName, wanted);
    }
  });
  step('things', declared.things, (t) => {
    const request = { ...(t.thingTypeName === undefined ? {} : { thingTypeName: t.thingTypeName }), attributePayload: { attributes: t.attributePayload?.attributes ?? {} } };
    const existing = store.findThing(t.thingName);
    if (!existing) store.createThing(t.thingName, request);
    else if (existing.thingTypeName !== t.thingTypeName || !sameAttributes(existing.attributes, request.attributePayload.attributes)) {
      store.updateThing(t.thingName, t.thingTypeName === undefined ? { removeThingType: existing.thingTypeName !== undefined, attributePayload: request.attributePayload } : request);
    }
    for (const g of t.thingGroupNames ?? []) store.addThingToThingGroup({ thingGroupName: g, thingName: t.thingName });
  });
}

function tryDescribe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
