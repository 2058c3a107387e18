// Operator sessions: tokens never stored (SHA-256 only, 0600 file), sliding idle and absolute
// expiry on an injected clock, a bounded number with the oldest evicted, survival across reopening.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashToken, openSessionStore, SESSIONS_FILE, type SessionEndReason, type SessionStoreOptions } from '../../../../broker/identity/sessions.js';
import { tempDataDir } from '../../../helpers/server.js';

const HOUR = 3600_000;
let data: ReturnType<typeof tempDataDir>;
let clock: number;
let operators: Set<string>;
beforeEach(() => {
  data = tempDataDir('iotcore-sessions-');
  clock = 1_700_000_000_000;
  operators = new Set(['alice', 'bob']);
});
afterEach(() => data.remove());

const open = (extra: Partial<SessionStoreOptions> = {}) =>
  openSessionStore({ dataDir: data.dir, isOperator: (u) => operators.has(u), now: () => clock, sweepEveryMs: 0, ...extra });

describe('operator sessions', () => {
  it('give out a 32-byte base64url token and keep only its SHA-256, in a file only the owner can read', () => {
    const store = open();
    const { token, session } = store.create('alice');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(session).toEqual({ id: hashToken(token), username: 'alice', createdAt: clock, lastUsedAt: clock, expiresAt: clock + 8 * HOUR });
    const path = join(data.dir, SESSIONS_FILE);
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain(token);
    expect(Object.keys(JSON.parse(text).sessions)).toEqual([hashToken(token)]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('authenticate their own token only', () => {
    const store = open();
    const { token } = store.create('alice');
    expect(store.authenticate(token)?.username).toBe('alice');
    expect(store.authenticate(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
    expect(store.authenticate('not a token')).toBeUndefined();
    expect(store.authenticate('')).toBeUndefined();
  });

  it('end after 8 idle hours, each use restarting the idle timer, and after 7 days whatever the use', () => {
    const store = open();
    const ended: SessionEndReason[] = [];
    store.onEnd((_s, reason) => ended.push(reason));
    const { token } = store.create('alice');
    for (let use = 0; use < 30; use++) {
      clock += 7 * HOUR; // within the idle timeout every time
      const s = store.authenticate(token);
      if (clock - 1_700_000_000_000 >= 7 * 24 * HOUR) {
        expect(s).toBeUndefined();
        break;
      }
      expect(s?.expiresAt).toBe(Math.min(clock + 8 * HOUR, 1_700_000_000_000 + 7 * 24 * HOUR));
    }
    expect(ended).toEqual(['expired']);

    const idle = store.create('bob');
    clock += 8 * HOUR;
    expect(store.authenticate(idle.token)).toBeUndefined();
    expect(store.counters()).toMatchObject({ active: 0, created: 2, ended: 2, expired: 2 });
  });

  it('are ended by a sweep once expired, telling the listeners', () => {
    const store = open();
    const ended: string[] = [];
    store.onEnd((s, reason) => ended.push(`${s.username}:${reason}`));
    store.create('alice');
    clock += 4 * HOUR;
    store.create('bob');
    clock += 4 * HOUR;
    expect(store.sweep()).toBe(1);
    expect(ended).toEqual(['alice:expired']);
    expect(Object.values(JSON.parse(readFileSync(join(data.dir, SESSIONS_FILE), 'utf8')).sessions)).toEqual([expect.objectContaining({ username: 'bob' })]);
  });

  it('keep at most maxSessions, evicting the oldest and counting it', () => {
    const store = open({ maxSessions: 3 });
    const ended: string[] = [];
    store.onEnd((s, reason) => ended.push(`${s.id}:${reason}`));
    const tokens = Array.from({ length: 5 }, () => {
      clock += 1;
      return store.create('alice').token;
    });
    expect(tokens.map((t) => store.authenticate(t) !== undefined)).toEqual([false, false, true, true, true]);
    expect(ended).toEqual([`${hashToken(tokens[0]!)}:evicted`, `${hashToken(tokens[1]!)}:evicted`]);
    expect(store.counters()).toMatchObject({ active: 3, evicted: 2 });
  });

  it('end on sign-out and with their operator, and not otherwise', () => {
    const store = open();
    const ended: string[] = [];
    store.onEnd((s, reason) => ended.push(`${s.username}:${reason}`));
    const a1 = store.create('alice');
    const a2 = store.create('alice');
    const b = store.create('bob');
    expect(store.signOut(a1.token)).toBe(true);
    expect(store.signOut(a1.token)).toBe(false);
    expect(store.endForOperator('alice', 'password-changed')).toBe(1);
    expect(store.authenticate(a2.token)).toBeUndefined();
    expect(store.authenticate(b.token)?.username).toBe('bob');
    expect(ended).toEqual(['alice:signed-out', 'alice:password-changed']);
  });

  it('survive reopening with their last use, dropping expired ones and those of removed operators', () => {
    const first = open();
    const alice = first.create('alice');
    const bob = first.create('bob');
    const old = first.create('alice');
    clock += 7 * HOUR;
    first.authenticate(alice.token);
    first.authenticate(bob.token);
    first.close(); // writes the last uses
    clock += 2 * HOUR; // `old` is now 9 hours idle
    operators.delete('bob');
    const second = open();
    expect(second.authenticate(alice.token)?.username).toBe('alice');
    expect(second.authenticate(bob.token)).toBeUndefined();
    expect(second.authenticate(old.token)).toBeUndefined();
    expect(Object.keys(JSON.parse(readFileSync(join(data.dir, SESSIONS_FILE), 'utf8')).sessions)).toEqual([alice.session.id]);
  });

  it('start empty from a damaged file, saying why', () => {
    writeFileSync(join(data.dir, SESSIONS_FILE), '{not json');
    const reasons: string[] = [];
    const store = open({ onDiscardedFile: (r) => reasons.push(r) });
    expect(store.counters().active).toBe(0);
    expect(reasons).toEqual([expect.stringContaining(SESSIONS_FILE)]);
  });
});
