// The analytics resource definitions (channels, datastores, pipelines, datasets) persisted in
// the data directory, so a restart comes back with the same resources. Written atomically
// (temp file + rename) after each change; small, so rewriting it whole is fine.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  let text: string;
  try {
    text = await readFile(join(dataDir, FILE), 'utf8');
  } catch {
    return emptyDefinitions();
  }
  const v = JSON.parse(text) as Partial<StoredDefinitions>;
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
      await writeFile(tmp, text);
      await rename(tmp, join(this.dataDir, FILE));
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}
