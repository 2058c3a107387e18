// The registry's records and the indexes kept beside them. Records are replaced, never mutated,
// and every change goes through apply(): the same function replays the journal at start-up and
// applies live changes, so memory after a restart is what it was before.
import { SortedNames } from './paging.js';

export interface ThingRecord {
  thingName: string;
  thingId: string;
  thingTypeName?: string;
  attributes: Record<string, string>;
  /** starts at 1, +1 per UpdateThing */
  version: number;
  /** static groups the thing is directly in */
  groups: string[];
}

export interface ThingTypeProperties {
  thingTypeDescription?: string;
  searchableAttributes?: string[];
  /** kept as given and returned as given (MQTT 5 propagating attributes are not applied) */
  mqtt5Configuration?: unknown;
}

export interface ThingTypeRecord {
  thingTypeName: string;
  thingTypeId: string;
  properties: ThingTypeProperties;
  deprecated: boolean;
  /** epoch ms */
  deprecationDate?: number;
  /** epoch ms */
  creationDate: number;
}

export interface ThingGroupProperties {
  thingGroupDescription?: string;
  attributePayload?: { attributes: Record<string, string> };
}

export interface ThingGroupRecord {
  thingGroupName: string;
  thingGroupId: string;
  /** fixed at creation */
  parentGroupName?: string;
  properties: ThingGroupProperties;
  version: number;
  /** epoch ms */
  creationDate: number;
}

/** One record put or deleted; a change set (one API call) is a list of these. */
export type Change =
  | { thing: ThingRecord }
  | { deleteThing: string }
  | { thingType: ThingTypeRecord }
  | { deleteThingType: string }
  | { thingGroup: ThingGroupRecord }
  | { deleteThingGroup: string };

export class RegistryState {
  readonly things = new Map<string, ThingRecord>();
  readonly thingNames = new SortedNames();
  readonly types = new Map<string, ThingTypeRecord>();
  readonly typeNames = new SortedNames();
  readonly groups = new Map<string, ThingGroupRecord>();
  readonly groupNames = new SortedNames();
  /** thing type → number of things using it (DeleteThingType refuses a used type) */
  readonly typeUsage = new Map<string, number>();
  /** group → things directly in it */
  readonly members = new Map<string, Set<string>>();
  /** group → direct child groups */
  readonly children = new Map<string, Set<string>>();

  apply(change: Change): void {
    if ('thing' in change) {
      this.dropThing(change.thing.thingName);
      this.addThing(change.thing);
    } else if ('deleteThing' in change) {
      this.dropThing(change.deleteThing);
    } else if ('thingType' in change) {
      this.types.set(change.thingType.thingTypeName, change.thingType);
      this.typeNames.insert(change.thingType.thingTypeName);
    } else if ('deleteThingType' in change) {
      this.types.delete(change.deleteThingType);
      this.typeNames.remove(change.deleteThingType);
    } else if ('thingGroup' in change) {
      const g = change.thingGroup;
      this.groups.set(g.thingGroupName, g);
      this.groupNames.insert(g.thingGroupName);
      if (g.parentGroupName !== undefined) setOf(this.children, g.parentGroupName).add(g.thingGroupName);
    } else {
      const g = this.groups.get(change.deleteThingGroup);
      if (!g) return;
      this.groups.delete(g.thingGroupName);
      this.groupNames.remove(g.thingGroupName);
      if (g.parentGroupName !== undefined) this.children.get(g.parentGroupName)?.delete(g.thingGroupName);
      this.members.delete(g.thingGroupName);
    }
  }

  /** Every record as a list of changes that rebuilds this state: types, then groups parents
   * first, then things (the journal's compacted form). */
  snapshot(): Change[] {
    const out: Change[] = [];
    for (const t of this.types.values()) out.push({ thingType: t });
    const byDepth = [...this.groups.values()].map((g) => [this.depth(g.thingGroupName), g] as const).sort((a, b) => a[0] - b[0]);
    for (const [, g] of byDepth) out.push({ thingGroup: g });
    for (const t of this.things.values()) out.push({ thing: t });
    return out;
  }

  get recordCount(): number {
    return this.things.size + this.types.size + this.groups.size;
  }

  /** 1 for a root group */
  depth(groupName: string): number {
    let d = 0;
    for (let g = this.groups.get(groupName); g; g = g.parentGroupName === undefined ? undefined : this.groups.get(g.parentGroupName)) d++;
    return d;
  }

  /** the groups from the root down to the group's parent */
  ancestors(groupName: string): ThingGroupRecord[] {
    const out: ThingGroupRecord[] = [];
    let g = this.groups.get(groupName);
    while (g?.parentGroupName !== undefined) {
      g = this.groups.get(g.parentGroupName);
      if (g) out.unshift(g);
    }
    return out;
  }

  root(groupName: string): string {
    return this.ancestors(groupName)[0]?.thingGroupName ?? groupName;
  }

  /** the group and every group below it */
  descendants(groupName: string): string[] {
    const out = [groupName];
    for (let i = 0; i < out.length; i++) for (const c of this.children.get(out[i]!) ?? []) out.push(c);
    return out;
  }

  private addThing(t: ThingRecord): void {
    this.things.set(t.thingName, t);
    this.thingNames.insert(t.thingName);
    if (t.thingTypeName !== undefined) this.typeUsage.set(t.thingTypeName, (this.typeUsage.get(t.thingTypeName) ?? 0) + 1);
    for (const g of t.groups) setOf(this.members, g).add(t.thingName);
  }

  private dropThing(name: string): void {
    const old = this.things.get(name);
    if (!old) return;
    this.things.delete(name);
    this.thingNames.remove(name);
    if (old.thingTypeName !== undefined) {
      const n = (this.typeUsage.get(old.thingTypeName) ?? 1) - 1;
      if (n > 0) this.typeUsage.set(old.thingTypeName, n);
      else this.typeUsage.delete(old.thingTypeName);
    }
    for (const g of old.groups) this.members.get(g)?.delete(name);
  }
}

function setOf(map: Map<string, Set<string>>, key: string): Set<string> {
  let s = map.get(key);
  if (!s) map.set(key, (s = new Set()));
  return s;
}
