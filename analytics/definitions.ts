// The analytics resource definitions (channels, datastores, pipelines, datasets) persisted in
// the data directory, so a restart comes back with the same resources. Written atomically
// (temp file + rename) after each change; small, so rewriting it whole is fine.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AnalyticsError } from './errors.js';
import { diskFullError, freeBytes, isDiskFull } from './disk-full.js';
import type { ChannelDefinition, DatasetDefinition, DatastoreDefinition, LoggingOptions, PipelineDefinition, ResourceMeta } from './types.js';
import type { DetectorResourceDefinition } from './anomaly/resource-definition.js';

export interface StoredDefinitions {
  channels: Record<string, ChannelDefinition>;
  datastores: Record<string, DatastoreDefinition>;
  pipelines: Record<string, PipelineDefinition>;
  datasets: Record<string, DatasetDefinition>;
  /** detector resources and data-quality alarms (our extension; files from before it get none) */
  detectors: Record<string, DetectorResourceDefinition>;
  /** creation/update times, tags, last arrival per resource (files from before it get fresh ones) */
  meta: { channels: Record<string, ResourceMeta>; datastores: Record<string, ResourceMeta>; pipelines: Record<string, ResourceMeta>; datasets: Record<string, ResourceMeta> };
  /** PutLoggingOptions, stored and echoed only */
  loggingOptions?: LoggingOptions;
}

const FILE = 'analytics-definitions.json';

export function emptyDefinitions(): StoredDefinitions {
  return { channels: {}, datastores: {}, pipelines: {}, datasets: {}, detectors: {}, meta: { channels: {}, datastores: {}, pipelines: {}, datasets: {} } };
}

export async function loadDefinitions(dataDir: string): Promise<StoredDefinitions> {
  const path = join(dataDir, FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyDefinitions();
    // starting with no definitions would overwrite the file with none at the next save
    throw new AnalyticsError('DefinitionsFileInvalid', `${path}: cannot be read (${(e as Error).message}); start-up is refused`, { cause: e });
  }
  let v: Partial<StoredDefinitions>;
  try {
    v = JSON.parse(text) as Partial<StoredDefinitions>;
  } catch (e) {
    throw new AnalyticsError('DefinitionsFileInvalid', `${path}: not JSON (${(e as Error).message}); start-up is refused: restore the file from a backup`, { cause: e });
  }
  const empty = emptyDefinitions();
  return { ...empty, ...v, meta: { ...empty.meta, ...v.meta } };
}

/** Saves are serialised so an older snapshot can never overwrite a newer one. */
export class DefinitionsFile {
  private chain: Promise<void> = Promise.resolve();
  constructor(private readonly dataDir: string) {}

  save(defs: StoredDefinitions): Promise<void> {
    const text = JSON.stringify(defs, null, 2);
    const next = this.chain.then(async () => {
      const tmp = join(this.dataDir, `${FILE}.tmp`);
      try {
        await writeFile(tmp, text);
        await rename(tmp, join(this.dataDir, FILE));
      } catch (e) {
        // the old file stays whole; a full disk is said as such (ServiceUnavailableException, DiskFull)
        await rm(tmp, { force: true });
        if (isDiskFull(e)) throw diskFullError(join(this.dataDir, FILE), await freeBytes(this.dataDir), e);
        throw e;
      }
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}
