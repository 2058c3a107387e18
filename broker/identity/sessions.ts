// Operator sessions. A session token is 32 random bytes (base64url) that only the browser holds,
// in its cookie; the server keeps the token's SHA-256 and nothing else, in memory and in
// `<dataDir>/sessions.json` (mode 0600), so a copy of the data directory signs nobody in and
// sessions survive a restart. A plain hash is enough (no salt, no slow hash): the token has 256
// bits of entropy, there is nothing to guess.
//
// A session ends when its operator signs out, after 8 hours without a request (idle timeout,
// restarted by every authenticated request), 7 days after sign-in at the latest (absolute), when
// its operator is removed or changes password, or when it is the oldest of more than 1000.
// onEnd listeners hear every end (open live sockets of the session close). Expiry is noticed when
// the token is next used and by sweep(), which the store runs every minute.
//
// The file is rewritten when a session begins or ends; lastUsedAt, which changes on every
// request, is written by the next sweep only (a crash forgets at most a minute of idle time).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';

export const SESSIONS_FILE = 'sessions.json';
export const SESSION_IDLE_MS = 8 * 3600_000;
export const SESSION_ABSOLUTE_MS = 7 * 24 * 3600_000;
export const MAX_SESSIONS = 1000;
const SWEEP_EVERY_MS = 60_000;
/** 32 bytes in base64url without padding */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

interface StoredSession {
  username: string;
  /** epoch ms */
  createdAt: number;
  lastUsedAt: number;
  /** the absolute end: createdAt + the absolute lifetime at sign-in */
  expiresAt: number;
}

interface FileShape { version: 1; sessions: Record<string, StoredSession> }

export interface Session {
  /** the SHA-256 of the token (hex): names the session inside the server, never a credential */
  id: string;
  username: string;
  createdAt: number;
  lastUsedAt: number;
  /** when the session ends unless used before: the idle deadline, or the absolute end if sooner */
  expiresAt: number;
}

export type SessionEndReason = 'signed-out' | 'expired' | 'evicted' | 'operator-removed' | 'password-changed';

export interface SessionStoreOptions {
  dataDir: string;
  /** whether the operator still exists (sessions of removed operators loaded from disk are dropped) */
  isOperator(username: string): boolean;
  idleMs?: number;
  absoluteMs?: number;
  maxSessions?: number;
  fsync?: boolean;
  now?(): number;
  /** how often expired sessions are looked for; 0: only when sweep() is called (tests) */
  sweepEveryMs?: number;
  /** a sessions file that cannot be read is discarded (everyone signs in again); this hears why */
  onDiscardedFile?(reason: string): void;
}

export type SessionStore = ReturnType<typeof openSessionStore>;

export function openSessionStore(options: SessionStoreOptions) {
  const path = join(options.dataDir, SESSIONS_FILE);
  const now = options.now ?? Date.now;
  const idleMs = options.idleMs ?? SESSION_IDLE_MS;
  const absoluteMs = options.absoluteMs ?? SESSION_ABSOLUTE_MS;
  const maxSessions = options.maxSessions ?? MAX_SESSIONS;
  const listeners: ((session: Session, reason: SessionEndReason) => void)[] = [];
  const counts = { created: 0, ended: 0, expired: 0, evicted: 0 };
  let lastUsedDirty = false;

  const deadline = (s: StoredSession) => Math.min(s.lastUsedAt + idleMs, s.expiresAt);
  const view = (id: string, s: StoredSession): Session => ({ id, username: s.username, createdAt: s.createdAt, lastUsedAt: s.lastUsedAt, expiresAt: deadline(s) });

  // Map order is creation order (the file is loaded oldest first), so the first entry is the one to evict.
  const sessions = new Map<string, StoredSession>();
  const loaded = readStore(path, options.onDiscardedFile);
  const t0 = now();
  let dropped = false;
  for (const [id, s] of Object.entries(loaded).sort(([, a], [, b]) => a.createdAt - b.createdAt)) {
    if (deadline(s) > t0 && options.isOperator(s.username)) sessions.set(id, s);
    else dropped = true;
  }
  if (dropped) persist();

  function persist(): void {
    const file: FileShape = { version: 1, sessions: Object.fromEntries(sessions) };
    writeFileAtomic(path, JSON.stringify(file) + '\n', { fsync: options.fsync === true, mode: 0o600 });
    lastUsedDirty = false;
  }
  function end(id: string, reason: SessionEndReason): void {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    counts.ended++;
    if (reason === 'expired') counts.expired++;
    if (reason === 'evicted') counts.evicted++;
    for (const listener of listeners) listener(view(id, s), reason);
  }
  /** ends every session `pick` selects, with one file write */
  function endWhere(pick: (s: StoredSession) => SessionEndReason | undefined): number {
    const ending: [string, SessionEndReason][] = [];
    for (const [id, s] of sessions) {
      const reason = pick(s);
      if (reason) ending.push([id, reason]);
    }
    if (ending.length === 0) return 0;
    for (const [id, reason] of ending) end(id, reason);
    persist();
    return ending.length;
  }

  const timer = (options.sweepEveryMs ?? SWEEP_EVERY_MS) > 0 ? setInterval(() => sweep(), options.sweepEveryMs ?? SWEEP_EVERY_MS) : undefined;
  timer?.unref();

  function sweep(): number {
    const t = now();
    const ended = endWhere((s) => (deadline(s) <= t ? 'expired' : undefined));
    if (ended === 0 && lastUsedDirty) persist();
    return ended;
  }

  return {
    path,
    idleMs,
    absoluteMs,

    /** Signs `username` in: the token goes to the client once and is never stored. */
    create(username: string): { token: string; session: Session } {
      const token = randomBytes(32).toString('base64url');
      const id = hashToken(token);
      const t = now();
      const stored: StoredSession = { username, createdAt: t, lastUsedAt: t, expiresAt: t + absoluteMs };
      sessions.set(id, stored);
      counts.created++;
      while (sessions.size > maxSessions) end(sessions.keys().next().value!, 'evicted');
      persist();
      return { token, session: view(id, stored) };
    },

    /** The live session a token names, its idle timer restarted; undefined for anything else. */
    authenticate(token: string): Session | undefined {
      if (!TOKEN.test(token)) return undefined;
      const id = hashToken(token);
      const s = sessions.get(id);
      if (!s) return undefined;
      const t = now();
      if (deadline(s) <= t) {
        end(id, 'expired');
        persist();
        return undefined;
      }
      s.lastUsedAt = t;
      lastUsedDirty = true;
      return view(id, s);
    },

    /** Signs a token's session out; false when there was none. */
    signOut(token: string): boolean {
      if (!TOKEN.test(token)) return false;
      const id = hashToken(token);
      if (!sessions.has(id)) return false;
      end(id, 'signed-out');
      persist();
      return true;
    },

    /** Ends every session of an operator (removed, or its password changed). */
    endForOperator(username: string, reason: 'operator-removed' | 'password-changed'): number {
      return endWhere((s) => (s.username === username ? reason : undefined));
    },

    sweep,

    onEnd(listener: (session: Session, reason: SessionEndReason) => void): void {
      listeners.push(listener);
    },

    counters: () => ({ active: sessions.size, ...counts }),

    /** Stops the sweep and writes the latest lastUsedAt. */
    close(): void {
      if (timer) clearInterval(timer);
      if (lastUsedDirty) persist();
    },
  };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function readStore(path: string, onDiscarded: ((reason: string) => void) | undefined): Record<string, StoredSession> {
  if (!existsSync(path)) return {};
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as FileShape;
    if (parsed?.version !== 1 || typeof parsed.sessions !== 'object' || parsed.sessions === null) throw new Error('not a sessions file of version 1');
    const valid: Record<string, StoredSession> = {};
    for (const [id, s] of Object.entries(parsed.sessions)) {
      if (/^[0-9a-f]{64}$/.test(id) && typeof s?.username === 'string' && [s.createdAt, s.lastUsedAt, s.expiresAt].every(Number.isFinite)) valid[id] = s;
    }
    return valid;
  } catch (err) {
    // Sessions are worth less than starting: losing them only means signing in again.
    onDiscarded?.(`${path}: ${(err as Error).message}`);
    return {};
  }
}
