// The device registry (things, thing types, static thing groups), persisted in the data
// directory. What the rest of the broker may use of it.
import { join } from 'node:path';
import type { RegistryApi } from '../../rules/index.js';
import { openJournal, readJournal, REGISTRY_FILE, writeCompacted } from './journal.js';
import { RegistryState } from './state.js';
import { createRegistryStore, type RegistryOptions, type RegistryStore } from './store.js';

export { createRegistryStore, THING_TYPE_DELETE_DELAY_MS } from './store.js';
export type {
  RegistryStore, RegistryOptions, CreateThingRequest, UpdateThingRequest, ListThingsRequest, CreateThingGroupRequest,
  ListThingGroupsRequest, MembershipRequest, PageRequest, DescribeThingResponse, GroupNameAndArn, AttributePayload,
} from './store.js';
export type { ThingTypeProperties } from './state.js';
export { applyDeclaredRegistry, type DeclaredRegistry, type DeclaredThing, type DeclaredThingType, type DeclaredThingGroup } from './declared.js';
export { REGISTRY_FILE } from './journal.js';
export { LIMITS as REGISTRY_LIMITS } from './validation.js';

export interface Registry extends RegistryStore {
  /** The rules engine's synchronous lookup for get_registry_data(): undefined for an unknown thing. */
  registryData(thingName: string, api: RegistryApi): unknown | undefined;
  /** journal facts for tests and metrics */
  journal(): { path: string; lines: number; compactions: number; droppedTornTail: boolean };
  close(): void;
}

/** Replays `<dataDir>/registry.jsonl`, compacts it, and returns the registry that appends to it. */
export function openRegistry(dataDir: string, options: RegistryOptions & { fsync?: boolean }): Registry {
  const path = join(dataDir, REGISTRY_FILE);
  const read = readJournal(path);
  const state = new RegistryState();
  for (const change of read.changes) for (const c of change) state.apply(c);
  const records = state.snapshot();
  writeCompacted(path, records);
  const journal = openJournal(path, { fsync: options.fsync === true, lines: records.length, liveRecords: () => state.recordCount, snapshot: () => state.snapshot() });
  const store = createRegistryStore(options, (changes) => journal.append(changes), state);
  return {
    ...store,
    registryData(thingName, api) {
      if (api === 'DescribeThing') return store.findThing(thingName);
      if (!state.things.has(thingName)) return undefined;
      // every group, across pages: a rule wants the whole list
      return { thingGroups: store.listThingGroupsForThing(thingName, {}).thingGroups };
    },
    journal: () => ({ path, lines: journal.lines, compactions: journal.compactions, droppedTornTail: read.droppedTornTail }),
    close: () => journal.close(),
  };
}
