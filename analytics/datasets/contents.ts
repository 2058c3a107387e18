// Dataset contents on disk: `<dataDir>/datasets/<name>/<versionId>.csv`, one file per version,
// plus `index.json` listing the versions (state, times, delta window). Every write is a temp file
// plus rename, so a crash leaves either the old or the new file, never half of one; index writes
// of one dataset are serialised.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeltaWindow } from './delta.js';

export type ContentState = 'CREATING' | 'SUCCEEDED' | 'FAILED';

export interface ContentVersion {
  versionId: string;
  state: ContentState;
  reason?: string;
  /** epoch ms: when the run was asked for */
  creationTime: number;
  /** epoch ms: the schedule's fire time (= creationTime for manual and chained runs) */
  scheduleTime: number;
  completionTime?: number;
  /** the deltaTime window the content covers */
  window?: DeltaWindow;
  rows?: number;
  /** the result's columns and their DuckDB types (the CSV keeps only the names) */
  columns?: { name: string; type: string }[];
}

export class ContentFiles {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(readonly root: string) {}

  dir(dataset: string): string {
    return join(this.root, dataset);
  }

  csvPath(dataset: string, versionId: string): string {
    return join(this.root, dataset, `${versionId}.csv`);
  }

  async loadIndex(dataset: string): Promise<ContentVersion[]> {
    try {
      const v = JSON.parse(await readFile(join(this.root, dataset, 'index.json'), 'utf8')) as { versions?: ContentVersion[] };
      return Array.isArray(v.versions) ? v.versions : [];
    } catch {
      return [];
    }
  }

  saveIndex(dataset: string, versions: readonly ContentVersion[]): Promise<void> {
    const text = JSON.stringify({ versions }, null, 1);
    return this.serial(dataset, async () => {
      await mkdir(this.dir(dataset), { recursive: true });
      await atomicWrite(join(this.dir(dataset), 'index.json'), text);
    });
  }

  async writeCsv(dataset: string, versionId: string, text: string): Promise<void> {
    await mkdir(this.dir(dataset), { recursive: true });
    await atomicWrite(this.csvPath(dataset, versionId), text);
  }

  async removeVersions(dataset: string, versionIds: readonly string[]): Promise<void> {
    await Promise.all(versionIds.map((id) => rm(this.csvPath(dataset, id), { force: true })));
  }

  removeDataset(dataset: string): Promise<void> {
    return this.serial(dataset, () => rm(this.dir(dataset), { recursive: true, force: true }));
  }

  /** Waits for every pending index write. */
  async idle(): Promise<void> {
    await Promise.all(this.chains.values());
  }

  private serial(dataset: string, work: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(dataset) ?? Promise.resolve()).then(work);
    const settled = next.catch(() => undefined);
    this.chains.set(dataset, settled);
    void settled.then(() => {
      if (this.chains.get(dataset) === settled) this.chains.delete(dataset);
    });
    return next;
  }
}

async function atomicWrite(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}
