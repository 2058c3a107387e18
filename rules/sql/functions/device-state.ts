// Functions that read device state (spec §1.8): get_thing_shadow and get_registry_data. They go
// through the lookups injected into the engine (synchronous reads of the broker's registry and
// shadows); the role ARN argument is accepted for compatibility and ignored (no IAM here).
import type { RegistryApi } from '../../types.js';
import type { FunctionTable } from './registry.js';
import type { Value } from '../values.js';

const REGISTRY_APIS: ReadonlySet<string> = new Set<RegistryApi>(['DescribeThing', 'ListThingGroupsForThing']);

/** A private JSON copy: SQL sees plain values, and nothing it does can reach the registry's objects. */
function asValue(x: unknown): Value {
  if (x === undefined) return undefined;
  const text = JSON.stringify(x);
  return text === undefined ? undefined : (JSON.parse(text) as Value);
}

export const deviceStateFunctions: FunctionTable = {
  // get_thing_shadow(thingName, roleArn) or get_thing_shadow(thingName, shadowName, roleArn)
  get_thing_shadow: {
    min: 2, max: 3, v2: true, impure: true, needsLookups: true,
    call(args, s) {
      const [thing, shadow] = args;
      if (typeof thing !== 'string' || thing.length === 0) return undefined;
      if (args.length === 3 && (typeof shadow !== 'string' || shadow.length === 0)) return undefined;
      const lookups = s.m.env.lookups;
      if (!lookups) return undefined;
      return asValue(args.length === 3 ? lookups.thingShadow(thing, shadow as string) : lookups.thingShadow(thing));
    },
  },
  // get_registry_data(registryApi, thingName, roleArn), registryApi DescribeThing or ListThingGroupsForThing
  get_registry_data: {
    min: 3, max: 3, impure: true, needsLookups: true,
    call([api, thing], s) {
      if (typeof api !== 'string' || !REGISTRY_APIS.has(api)) return undefined;
      if (typeof thing !== 'string' || thing.length === 0) return undefined;
      const lookups = s.m.env.lookups;
      if (!lookups) return undefined;
      return asValue(lookups.registryData(thing, api as RegistryApi));
    },
  },
};
