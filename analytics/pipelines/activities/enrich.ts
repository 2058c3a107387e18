// deviceRegistryEnrich and deviceShadowEnrich (spec §3.2): `thingName` is an attribute path in the
// message whose value names the thing; the thing's DescribeThing record (or its classic shadow
// document) is attached under `attribute`. The registry and shadows belong to the broker, so they
// arrive here as injected synchronous lookups (analytics imports nothing else in the repo).
//
// Decisions (the spec leaves them open, §3.2 "Undocumented edge cases"):
// * path missing, its value not a non-empty string, or no such thing / no classic shadow: the
//   message passes on unchanged (no attribute, no null placeholder) and `lookupMisses` counts it.
//   Enrichment adds context; losing the reading itself because a device is not registered (yet)
//   would be worse, and a later filter activity can drop such messages explicitly.
// * `thingName` is always a path (as in the documentation's `device.thingName`), never a literal
//   thing name; a string that is not a valid path is refused when the pipeline is defined.
// * `attribute` is a literal root-level key, overwritten in place when present (as addAttributes).
// * `roleArn` is required and checked for length (20..2048) only: there are no IAM roles here.
import type { ActivityStep, Members } from './common.js';
import { checkMembers, checkString } from './common.js';
import { compileGetter, parsePath } from '../paths.js';
import { invalidRequest } from '../../errors.js';

/** The DescribeThing output the deviceRegistryEnrich activity attaches. */
export interface ThingRecord {
  defaultClientId: string;
  thingName: string;
  thingId: string;
  thingArn: string;
  thingTypeName?: string;
  attributes: Record<string, string>;
  version: number;
}

/** Synchronous lookups into the device registry and the shadow service. Each call returns a fresh
 * object (the message keeps it), or undefined when the thing or its classic shadow does not exist. */
export interface EnrichLookups {
  describeThing(thingName: string): ThingRecord | undefined;
  /** the classic (unnamed) shadow as GetThingShadow returns it */
  getShadow(thingName: string): Record<string, unknown> | undefined;
}

export type EnrichType = 'deviceRegistryEnrich' | 'deviceShadowEnrich';

export function compileEnrichActivity(
  type: EnrichType,
  body: Members,
  lookups: EnrichLookups | undefined,
  onMiss: () => void = () => undefined,
): ActivityStep {
  checkMembers(body, type, ['name', 'attribute', 'thingName', 'roleArn', 'next']);
  const attribute = checkString(body, 'attribute', type, 1, 256);
  const thingPath = checkString(body, 'thingName', type, 1, 256);
  checkString(body, 'roleArn', type, 20, 2048);
  const getName = compileGetter(parsePath(thingPath, `${type} activity "${String(body.name)}": thingName`));
  if (!lookups) {
    throw invalidRequest(`${type} activity "${String(body.name)}": this server has no device registry to read (the broker provides it)`);
  }
  const lookup: (name: string) => unknown =
    type === 'deviceRegistryEnrich' ? (n) => lookups.describeThing(n) : (n) => lookups.getShadow(n);
  return (m) => {
    const name = getName(m);
    const found = typeof name === 'string' && name.length > 0 ? lookup(name) : undefined;
    if (found === undefined) {
      onMiss();
      return m;
    }
    return { ...m, [attribute]: found };
  };
}
