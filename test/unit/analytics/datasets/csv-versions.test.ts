import { toCsv } from '../../../../analytics/datasets/csv.js';
import { versionsToPrune, type VersionInfo } from '../../../../analytics/datasets/versions.js';

describe('toCsv', () => {
  test('writes RFC 4180: header, CRLF, quotes doubled, NULL empty, nested values as JSON', () => {
    expect(toCsv([{ name: 'a' }, { name: 'b,c' }], [['x "y"', null], [1.5, { k: [1] }], [true, 'line\nbreak']]))
      .toBe('a,"b,c"\r\n"x ""y""",\r\n1.5,"{""k"":[1]}"\r\ntrue,"line\nbreak"\r\n');
  });
  test('an empty result is the header alone', () => {
    expect(toCsv([{ name: 'n' }], [])).toBe('n\r\n');
  });
});

describe('versionsToPrune: the versioning × retention matrix', () => {
  const DAY = 86_400_000;
  const now = 1000 * DAY;
  // newest first: v0 FAILED today, v1 SUCCEEDED 10 days ago, v2 SUCCEEDED 100 days ago, v3 FAILED 400 days ago
  const versions: VersionInfo[] = [
    { versionId: 'v0', state: 'FAILED', creationTime: now },
    { versionId: 'v1', state: 'SUCCEEDED', creationTime: now - 10 * DAY },
    { versionId: 'v2', state: 'SUCCEEDED', creationTime: now - 100 * DAY },
    { versionId: 'v3', state: 'FAILED', creationTime: now - 400 * DAY },
  ];
  const kept = (r: Parameters<typeof versionsToPrune>[1], v: Parameters<typeof versionsToPrune>[2]) => {
    const drop = new Set(versionsToPrune(versions, r, v, now));
    return versions.map((x) => x.versionId).filter((id) => !drop.has(id));
  };

  test.each([
    ['unset', 'unset', undefined, undefined, ['v0', 'v1']],
    ['unset', 'unlimited', undefined, { unlimited: true }, ['v0', 'v1']],
    ['unset', '5 days', undefined, { numberOfDays: 5 }, ['v0']],
    ['unlimited', 'unset', { unlimited: true }, undefined, ['v0', 'v1']],
    ['unlimited', 'unlimited', { unlimited: true }, { unlimited: true }, ['v0', 'v1', 'v2', 'v3']],
    ['unlimited', '200 days', { unlimited: true }, { numberOfDays: 200 }, ['v0', 'v1', 'v2']],
    ['maxVersions 3', 'unset', { maxVersions: 3 }, undefined, ['v0', 'v1']],
    ['maxVersions 3', 'unlimited', { maxVersions: 3 }, { unlimited: true }, ['v0', 'v1', 'v2']],
    ['maxVersions 3', '5 days', { maxVersions: 3 }, { numberOfDays: 5 }, ['v0']],
  ])('versioning %s, retention %s', (_v, _r, versioning, retention, expected) => {
    expect(kept(retention, versioning)).toEqual(expected);
  });

  test('a version still being created is never removed', () => {
    const creating: VersionInfo[] = [{ versionId: 'c', state: 'CREATING', creationTime: 0 }];
    expect(versionsToPrune(creating, { numberOfDays: 1 }, undefined, now)).toEqual([]);
  });
});
