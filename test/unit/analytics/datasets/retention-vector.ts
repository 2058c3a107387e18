// Turns a `datasetVersionRetention` conformance vector (words for the two CreateDataset members,
// and the AWS guide's sentence for what survives) into concrete checks: the vector's settings
// become a real CreateDataset body (normalised as CreateDataset does), the sentence becomes a rule
// computing the surviving versions of a version list, and both are compared with what
// versionsToPrune (the service prunes with it after every content) keeps, over version lists with
// varied ages and states.
import { normaliseDataset } from '../../../../analytics/datasets/dataset.js';
import { versionsToPrune, type VersionInfo } from '../../../../analytics/datasets/versions.js';

export interface RetentionVectorInput {
  versioningConfiguration: string;
  retentionPeriod: string;
}

/** The concrete X and Y the vectors leave open. */
export const X_DAYS = 30;
export const Y_VERSIONS = 3;
const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 1);

type Rule = (newestFirst: readonly VersionInfo[]) => string[];

const ageDays = (v: VersionInfo) => (NOW - v.creationTime) / DAY;
const within = (days: number) => (v: VersionInfo) => ageDays(v) <= days;
const ids = (vs: readonly VersionInfo[]) => vs.map((v) => v.versionId);

/** Each sentence of the guide's matrix (as the vectors quote it) as a rule over a version list. */
const RULES: Readonly<Record<string, Rule>> = {
  'Only the latest version plus the latest succeeded version (if different) are kept, for 90 days': (vs) =>
    ids([vs[0], vs.find((v) => v.state === 'SUCCEEDED')].filter((v): v is VersionInfo => v !== undefined && within(90)(v)).filter((v, i, all) => all.indexOf(v) === i)),
  'Every version from the last 90 days is kept, however many': (vs) => ids(vs.filter(within(90))),
  'No limit on number or age': (vs) => ids(vs),
  'Every version from the last X days is kept, however many': (vs) => ids(vs.filter(within(X_DAYS))),
  'At most Y versions, all from the last 90 days': (vs) => ids(vs.slice(0, Y_VERSIONS).filter(within(90))),
  'Up to Y versions regardless of age': (vs) => ids(vs.slice(0, Y_VERSIONS)),
};

/** The CreateDataset body the vector's words describe ("none" leaves the member out). */
export function createDatasetBody(input: RetentionVectorInput): Record<string, unknown> {
  const body: Record<string, unknown> = {
    datasetName: 'retention_vector',
    actions: [{ actionName: 'query', queryAction: { sqlQuery: 'SELECT * FROM telemetry' } }],
  };
  const versioning = input.versioningConfiguration;
  if (versioning === 'unlimited') body.versioningConfiguration = { unlimited: true };
  else if (versioning === 'maxVersions Y') body.versioningConfiguration = { maxVersions: Y_VERSIONS };
  else if (versioning !== 'none') throw new Error(`unknown versioningConfiguration ${JSON.stringify(versioning)}`);
  const retention = input.retentionPeriod;
  if (retention === 'unlimited') body.retentionPeriod = { unlimited: true };
  else if (retention === 'X days') body.retentionPeriod = { unlimited: false, numberOfDays: X_DAYS };
  else if (retention !== 'none') throw new Error(`unknown retentionPeriod ${JSON.stringify(retention)}`);
  return body;
}

function version(id: string, state: VersionInfo['state'], days: number): VersionInfo {
  return { versionId: id, state, creationTime: NOW - days * DAY };
}

/** Version lists, newest first; ages avoid the exact 30/90-day boundaries. */
export const SCENARIOS: Readonly<Record<string, readonly VersionInfo[]>> = {
  'mixed states and ages, latest FAILED': [
    version('a', 'FAILED', 0.1), version('b', 'SUCCEEDED', 1), version('c', 'FAILED', 2), version('d', 'SUCCEEDED', 5),
    version('e', 'SUCCEEDED', 29), version('f', 'FAILED', 31), version('g', 'SUCCEEDED', 60), version('h', 'SUCCEEDED', 89),
    version('i', 'SUCCEEDED', 91), version('j', 'FAILED', 120), version('k', 'SUCCEEDED', 400),
  ],
  'latest SUCCEEDED': [version('a', 'SUCCEEDED', 0.5), version('b', 'SUCCEEDED', 3), version('c', 'FAILED', 10), version('d', 'SUCCEEDED', 200)],
  'nothing SUCCEEDED': [version('a', 'FAILED', 1), version('b', 'FAILED', 40), version('c', 'FAILED', 100)],
  'only old versions': [version('a', 'FAILED', 95), version('b', 'SUCCEEDED', 100), version('c', 'SUCCEEDED', 500)],
  'latest still CREATING': [version('a', 'CREATING', 0), version('b', 'FAILED', 1), version('c', 'SUCCEEDED', 2), version('d', 'SUCCEEDED', 3), version('e', 'SUCCEEDED', 50)],
  'fewer versions than Y': [version('a', 'SUCCEEDED', 10)],
  'no versions': [],
};

/**
 * Checks the vector against the implementation. Returns the vector's sentence when every scenario
 * keeps exactly what the sentence says, otherwise the sentence followed by the disagreements.
 */
export function checkRetentionVector(input: RetentionVectorInput, sentence: string): string[] {
  const rule = RULES[sentence];
  if (!rule) throw new Error(`no rule for ${JSON.stringify(sentence)}: translate the new sentence into RULES`);
  const def = normaliseDataset(createDatasetBody(input));
  const problems: string[] = [];
  for (const [name, versions] of Object.entries(SCENARIOS)) {
    const dropped = new Set(versionsToPrune(versions, def.retentionPeriod, def.versioningConfiguration, NOW));
    const kept = ids(versions.filter((v) => !dropped.has(v.versionId)));
    const expected = rule(versions);
    if (kept.join() !== expected.join()) problems.push(`${name}: kept [${kept.join()}], the rule keeps [${expected.join()}]`);
  }
  return problems.length === 0 ? [sentence] : [sentence, ...problems];
}
