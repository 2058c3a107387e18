// Shadows in memory, persisted one file per thing: `<dataDir>/shadows/<thing>.json` holds the
// thing's classic shadow (key "") and its named shadows, live or recently deleted. Every change
// rewrites that one small file atomically (temporary file beside it, then rename) before the
// change is answered, so a crash leaves the old or the new file, never half of one, and an
// accepted update survives a restart. A thing's file is removed when nothing is left in it.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerError } from '../errors.js';
import type { ShadowState } from './document.js';
import { writeFileAtomic } from '../atomic-file.js';

export const SHADOWS_DIR = 'shadows';
const FILE_VERSION = 1;

/** A deleted shadow keeps its version for a while: recreating it continues the count (AWS: 48 h). */
export interface Tombstone {
  deletedVersion: number;
  /** epoch seconds */
  deletedAt: number;
}

export type ShadowEntry = ShadowState | Tombstone;

export function isLive(entry: ShadowEntry | undefined): entry is ShadowState {
  return entry !== undefined && 'state' in entry;
}

export interface ShadowStore {
  get(thingName: string, shadowName: string): ShadowEntry | undefined;
  /** Replaces (or, with undefined, forgets) one shadow and persists the thing's file. */
  set(thingName: string, shadowName: string, entry: ShadowEntry | undefined): void;
  /** names of the live named shadows of a thing, in code-unit order */
  namedShadows(thingName: string): string[];
  readonly dir: string;
}

interface ThingFile {
  version: number;
  thingName: string;
  /** "" = the classic shadow */
  shadows: Record<string, ShadowEntry>;
}

export function openShadowStore(dataDir: string): ShadowStore {
  const dir = join(dataDir, SHADOWS_DIR);
  mkdirSync(dir, { recursive: true });
  const things = new Map<string, Map<string, ShadowEntry>>();
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.json')) continue; // leftovers of an interrupted write (*.tmp) are ignored
    const doc = readThingFile(join(dir, file));
    things.set(doc.thingName, new Map(Object.entries(doc.shadows)));
  }

  const fileOf = (thingName: string) => join(dir, `${encodeURIComponent(thingName)}.json`);

  function persist(thingName: string, shadows: Map<string, ShadowEntry>): void {
    const path = fileOf(thingName);
    if (shadows.size === 0) {
      rmSync(path, { force: true });
      return;
    }
    const doc: ThingFile = { version: FILE_VERSION, thingName, shadows: Object.fromEntries(shadows) };
    writeFileAtomic(path, JSON.stringify(doc) + '\n');
  }

  return {
    dir,
    get: (thingName, shadowName) => things.get(thingName)?.get(shadowName),
    set(thingName, shadowName, entry) {
      const shadows = things.get(thingName) ?? new Map<string, ShadowEntry>();
      const before = shadows.get(shadowName);
      if (entry === undefined) shadows.delete(shadowName);
      else shadows.set(shadowName, entry);
      try {
        persist(thingName, shadows);
      } catch (err) {
        // memory never disagrees with disk: put the previous entry back
        if (before === undefined) shadows.delete(shadowName);
        else shadows.set(shadowName, before);
        throw err;
      }
      if (shadows.size === 0) things.delete(thingName);
      else things.set(thingName, shadows);
    },
    namedShadows(thingName) {
      const shadows = things.get(thingName);
      if (!shadows) return [];
      return [...shadows].filter(([name, entry]) => name !== '' && isLive(entry)).map(([name]) => name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    },
  };
}

function readThingFile(path: string): ThingFile {
  let doc: Partial<ThingFile> | null;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as Partial<ThingFile> | null;
  } catch (err) {
    throw new BrokerError('InternalFailureException', `${path}: not readable JSON (${(err as Error).message})`);
  }
  if (typeof doc?.thingName !== 'string' || typeof doc.shadows !== 'object' || doc.shadows === null) {
    throw new BrokerError('InternalFailureException', `${path}: expected {"version": ${FILE_VERSION}, "thingName", "shadows": {...}}`);
  }
  return doc as ThingFile;
}
