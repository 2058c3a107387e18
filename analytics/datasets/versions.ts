// Which content versions a dataset keeps (spec §5.1, the versioning × retention matrix):
//   age:    retentionPeriod unset → 90 days, unlimited → forever, numberOfDays X → X days
//   count:  versioningConfiguration unset → the latest version plus the latest SUCCEEDED one,
//           unlimited → all, maxVersions Y → the newest Y
// Both apply together. A version still being created is never removed.
import type { RetentionPeriod } from '../types.js';

export interface VersionInfo {
  versionId: string;
  state: 'CREATING' | 'SUCCEEDED' | 'FAILED';
  /** epoch ms */
  creationTime: number;
}

export interface VersioningConfiguration {
  unlimited?: boolean;
  maxVersions?: number;
}

const DAY = 24 * 3600 * 1000;
export const DEFAULT_RETENTION_DAYS = 90;

/** The version ids to delete now. `versions` in any order. */
export function versionsToPrune(
  versions: readonly VersionInfo[],
  retention: RetentionPeriod | undefined,
  versioning: VersioningConfiguration | undefined,
  now: number,
): string[] {
  const newestFirst = [...versions].sort((a, b) => b.creationTime - a.creationTime);
  const maxAge = retention?.unlimited ? Infinity : (retention?.numberOfDays ?? DEFAULT_RETENTION_DAYS) * DAY;
  const keep = new Set<string>();
  if (versioning?.unlimited) {
    for (const v of newestFirst) keep.add(v.versionId);
  } else if (versioning?.maxVersions !== undefined) {
    for (const v of newestFirst.slice(0, versioning.maxVersions)) keep.add(v.versionId);
  } else {
    if (newestFirst[0]) keep.add(newestFirst[0].versionId);
    const succeeded = newestFirst.find((v) => v.state === 'SUCCEEDED');
    if (succeeded) keep.add(succeeded.versionId);
  }
  return newestFirst
    .filter((v) => v.state !== 'CREATING')
    .filter((v) => !keep.has(v.versionId) || now - v.creationTime > maxAge)
    .map((v) => v.versionId);
}
