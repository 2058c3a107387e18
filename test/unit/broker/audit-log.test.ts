// The audit log on disk: one JSON line per entry, mode 0600, rotated past its size bound into one
// older file (so at most two exist), and the latest entries served newest first, also after a reopen.
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_FILE, AUDIT_OLD_FILE, openAuditLog } from '../../../broker/audit-log.js';
import { tempDataDir } from '../../helpers/server.js';

const change = (n: number) => ({
  who: { kind: 'operator' as const, name: 'alice' }, sourceIp: '10.0.0.1', method: 'PUT', route: '/things/:thingName', target: { thingName: `t${n}` }, status: 200,
});

describe('the audit log', () => {
  const data = tempDataDir('iotcore-audit-');
  afterAll(() => data.remove());

  it('writes one JSON line per entry, stamped with an ISO time, to a 0600 file', () => {
    const dir = join(data.dir, 'shape');
    mkdirSync(dir, { recursive: true });
    let clock = Date.UTC(2024, 0, 2, 3, 4, 5);
    const audit = openAuditLog({ dataDir: dir, now: () => clock });
    audit.record(change(1));
    clock += 1000;
    audit.record({ who: { kind: 'anonymous' }, action: 'signIn', outcome: 'failed', sourceIp: '10.0.0.9', method: 'POST', route: '/api/session', status: 401 });
    audit.close();
    const path = join(dir, AUDIT_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { at: '2024-01-02T03:04:05.000Z', ...change(1) },
      { at: '2024-01-02T03:04:06.000Z', who: { kind: 'anonymous' }, action: 'signIn', outcome: 'failed', sourceIp: '10.0.0.9', method: 'POST', route: '/api/session', status: 401 },
    ]);
  });

  it('rotates past its size bound into one older file, so the files stay bounded', () => {
    const dir = join(data.dir, 'rotation');
    mkdirSync(dir, { recursive: true });
    const lineBytes = Buffer.byteLength(JSON.stringify({ at: new Date(0).toISOString(), ...change(100) }) + '\n');
    const audit = openAuditLog({ dataDir: dir, maxBytes: lineBytes * 10, now: () => 0 });
    for (let i = 100; i < 135; i++) audit.record(change(i));
    audit.close();
    expect(readdirSync(dir).sort()).toEqual([AUDIT_OLD_FILE, AUDIT_FILE].sort());
    for (const f of [AUDIT_FILE, AUDIT_OLD_FILE]) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(lineBytes * 10);
    const names = (f: string) => readFileSync(join(dir, f), 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as { target: { thingName: string } }).target.thingName);
    expect(names(AUDIT_FILE)).toEqual(['t130', 't131', 't132', 't133', 't134']);
    expect(names(AUDIT_OLD_FILE)).toEqual(['t120', 't121', 't122', 't123', 't124', 't125', 't126', 't127', 't128', 't129']);
    expect(audit.counters()).toEqual({ entries: 35, rotations: 3, writeErrors: 0 });
  });

  it('answers the latest entries newest first, bounded by since and limit, also after a reopen', () => {
    const dir = join(data.dir, 'latest');
    mkdirSync(dir, { recursive: true });
    let clock = Date.UTC(2024, 0, 1);
    const first = openAuditLog({ dataDir: dir, now: () => clock });
    for (let i = 0; i < 5; i++, clock += 60_000) first.record(change(i));
    first.close();
    const audit = openAuditLog({ dataDir: dir, keep: 4, now: () => clock });
    audit.record(change(5));
    const names = (entries: { target?: Record<string, string> }[]) => entries.map((e) => e.target?.thingName);
    expect(names(audit.latest({ limit: 10 }))).toEqual(['t5', 't4', 't3', 't2']);
    expect(names(audit.latest({ limit: 2 }))).toEqual(['t5', 't4']);
    expect(names(audit.latest({ limit: 10, since: new Date(Date.UTC(2024, 0, 1, 0, 3)).toISOString() }))).toEqual(['t5', 't4', 't3']);
    audit.close();
  });

  it('narrows a pre-existing file to 0600 and skips a line cut by a crash', () => {
    const dir = join(data.dir, 'existing');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, AUDIT_FILE);
    writeFileSync(path, JSON.stringify({ at: '2024-01-01T00:00:00.000Z', ...change(1) }) + '\n{"at":"2024-01-01T00:0');
    chmodSync(path, 0o644);
    const audit = openAuditLog({ dataDir: dir });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(audit.latest({ limit: 10 }).map((e) => e.target?.thingName)).toEqual(['t1']);
    audit.record(change(2));
    audit.close();
    // the next entry starts on a line of its own, not glued to the cut one
    expect(readFileSync(path, 'utf8').split('\n').filter((l) => l.includes('"t2"')).map((l) => (JSON.parse(l) as { target: unknown }).target)).toEqual([{ thingName: 't2' }]);
  });
});
