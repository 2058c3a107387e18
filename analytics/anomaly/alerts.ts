// The alert store: the AlertSink raisers call, the lifecycle the API drives, and the events the
// broker fans out (MQTT topic, live feed).
//
// Lifecycle (IoT Events alarms / ThingsBoard): a raise for a key with no open alert opens one
// (ACTIVE); further raises while it is open update it (occurrences, value, score, updatedAt; the
// severity only ever escalates; an ACKNOWLEDGED alert stays acknowledged). An operator acknowledges
// (ACTIVE → ACKNOWLEDGED) or clears it; the raiser resolves it when the condition is over. A
// CLEARED alert is history: the next raise of its key opens a new alert.
//
// Memory and disk: open alerts are held in memory (at most `maxOpen`; a raise that would open one
// more is refused and counted as dropped) and loaded back at open, so a restart neither forgets
// nor duplicates them. Every change marks the alert dirty; dirty alerts are written in batches
// (coalesced by id, flushed by count or delay) through alerts-table.ts, never one INSERT per
// raise. Cleared alerts leave memory once their last state is written to DuckDB and are read
// from there (list, get), until the analytics retention sweep deletes those cleared more than
// `retentionDays` ago (applyRetention); open alerts are never deleted.
import { randomUUID } from 'node:crypto';
import { AnalyticsError, invalidRequest, notFound } from '../errors.js';
import type { Database } from '../datastore/index.js';
import type { Page } from '../types.js';
import type { PageRequest } from '../paging.js';
import { DEFAULT_PAGE_SIZE, pageAfter, paginate } from '../paging.js';
import type { Alert, AlertKey, AlertRaise, AlertSeverity, AlertSink, AlertState } from './alert.js';
import type { AlertFilter, ListCursor } from './alerts-table.js';
import { AlertsTable } from './alerts-table.js';

export type { AlertFilter } from './alerts-table.js';
export { ALERTS_TABLE } from './alerts-table.js';

export const ALERT_STATES: readonly AlertState[] = ['ACTIVE', 'ACKNOWLEDGED', 'CLEARED'];
/** Lowest to highest: a raise escalates an open alert to a higher severity, never lowers it. */
export const ALERT_SEVERITIES: readonly AlertSeverity[] = ['INDETERMINATE', 'WARNING', 'MINOR', 'MAJOR', 'CRITICAL'];
const RANK = new Map(ALERT_SEVERITIES.map((s, i) => [s, i]));

/** Longest message kept (longer ones are cut) and longest note accepted. */
export const MAX_ALERT_MESSAGE = 1024;
export const MAX_ALERT_NOTE = 1024;

/** What is worth telling subscribers: not every occurrence, only changes of state or severity. */
export type AlertEventKind = 'opened' | 'escalated' | 'acknowledged' | 'cleared';

export interface AlertEvent {
  event: AlertEventKind;
  alert: Alert;
}

export interface AlertStoreOptions {
  /** open alerts held at once; a raise opening one more is dropped (counted). Default 10,000. */
  maxOpen?: number;
  /** changed alerts written together; reaching it starts a write. Default 256. */
  flushCount?: number;
  /** longest a change waits before it is written (ms). Default 200. */
  flushDelayMs?: number;
  /** changed alerts waiting to be written (e.g. while DuckDB fails); beyond it a change of another
   * alert is not written (counted as writesDropped; its next change writes it). Default 20,000. */
  maxPendingWrites?: number;
  /** cleared alerts are deleted by the retention sweep once cleared this many days ago (open ones
   * never are); Infinity keeps them. Default 90. */
  retentionDays?: number;
  now?: () => number;
}

export interface AlertCounters {
  /** alerts opened */
  raised: number;
  /** raises absorbed by an open alert */
  updated: number;
  /** of those, raises that raised the severity */
  escalated: number;
  acknowledged: number;
  /** by the API or resolved by the raiser */
  cleared: number;
  /** raises refused because `maxOpen` alerts were open */
  dropped: number;
  /** open alerts now */
  open: number;
  /** alert rows written to DuckDB, failed batches, changes not written (pending cap) */
  persisted: number;
  writeErrors: number;
  writesDropped: number;
  /** cleared alerts deleted by the retention sweep (older than retentionDays) */
  retentionDeleted: number;
}

export interface AlertStore extends AlertSink {
  /** The alerts matching `filter`, newest first (createdAt), paged like the List operations. */
  list(filter?: AlertFilter, page?: PageRequest): Promise<Page<Alert>>;
  /** ResourceNotFoundException for an unknown id. */
  get(id: string): Promise<Alert>;
  /** ACTIVE → ACKNOWLEDGED (acknowledging an acknowledged alert changes nothing); a CLEARED one → InvalidStateTransitionException. */
  acknowledge(id: string, note?: string): Promise<Alert>;
  /** ACTIVE or ACKNOWLEDGED → CLEARED; a CLEARED one → InvalidStateTransitionException. */
  clear(id: string, note?: string): Promise<Alert>;
  /** Every event, synchronously, in order; returns the unsubscribe function. */
  subscribe(listener: (e: AlertEvent) => void): () => void;
  /** Open (ACTIVE or ACKNOWLEDGED) alerts per deviceId, from memory: no query. */
  openCountsByDevice(): Map<string, number>;
  counters(): AlertCounters;
  /** Deletes the alerts cleared more than `retentionDays` ago (the analytics retention sweep
   * calls it); returns how many. Open alerts are never deleted. */
  applyRetention(): Promise<number>;
  /** Writes every pending change. */
  flush(): Promise<void>;
  /** Writes what is pending and stops; later raises are ignored. */
  close(): Promise<void>;
}

export async function openAlertStore(db: Database, opts: AlertStoreOptions = {}): Promise<AlertStore> {
  if (opts.retentionDays !== undefined && !(opts.retentionDays > 0)) throw invalidRequest(`alert retentionDays must be a positive number of days, got ${String(opts.retentionDays)}`);
  const table = await AlertsTable.open(db);
  const store = new Store(table, opts);
  try {
    await store.load();
  } catch (e) {
    table.close();
    throw e;
  }
  return store;
}

const keyOf = (k: AlertKey): string => `${k.source}\u0000${k.deviceId}\u0000${k.metric}`;

/** The paging key: ascending key order is createdAt descending, then id ascending. */
const pageKey = (a: Alert): string => `${String(Number.MAX_SAFE_INTEGER - a.createdAt).padStart(16, '0')}:${a.id}`;

function cursorOf(key: string | undefined): ListCursor | undefined {
  if (key === undefined) return undefined;
  const m = /^(\d{16}):(.+)$/.exec(key);
  if (!m) throw invalidRequest('nextToken is not a token this server returned');
  return { createdAt: Number.MAX_SAFE_INTEGER - Number(m[1]), id: m[2] };
}

const copy = (a: Alert): Alert => ({ ...a });

const DAY_MS = 86_400_000;
/** cleared alerts deleted per statement, so the ids read back stay bounded */
const RETENTION_BATCH = 10_000;

class Store implements AlertStore {
  /** open alerts by key and by id (the same objects) */
  private readonly byKey = new Map<string, Alert>();
  private readonly byId = new Map<string, Alert>();
  /** changed alerts not yet written, by id (latest state wins) */
  private pending = new Map<string, Alert>();
  private readonly listeners = new Set<(e: AlertEvent) => void>();
  private readonly totals = { raised: 0, updated: 0, escalated: 0, acknowledged: 0, cleared: 0, dropped: 0, persisted: 0, writeErrors: 0, writesDropped: 0, retentionDeleted: 0 };
  private readonly maxOpen: number;
  private readonly flushCount: number;
  private readonly flushDelayMs: number;
  private readonly maxPendingWrites: number;
  private readonly retentionDays: number;
  private readonly now: () => number;
  private writing: Promise<void> = Promise.resolve();
  private writeQueued = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly table: AlertsTable, opts: AlertStoreOptions) {
    this.maxOpen = opts.maxOpen ?? 10_000;
    this.flushCount = opts.flushCount ?? 256;
    this.flushDelayMs = opts.flushDelayMs ?? 200;
    this.maxPendingWrites = opts.maxPendingWrites ?? 20_000;
    this.retentionDays = opts.retentionDays ?? 90;
    this.now = opts.now ?? Date.now;
  }

  /** The open alerts written before the last stop (most recently updated first, up to maxOpen). */
  async load(): Promise<void> {
    for (const a of await this.table.openAlerts(this.maxOpen)) {
      const k = keyOf(a);
      if (this.byKey.has(k)) continue; // never two open alerts for one key
      this.byKey.set(k, a);
      this.byId.set(a.id, a);
    }
  }

  raise(r: AlertRaise): void {
    if (this.closed) return;
    if (!RANK.has(r.severity)) throw invalidRequest(`alert severity must be one of ${ALERT_SEVERITIES.join(', ')}, got ${JSON.stringify(r.severity)}`);
    const k = keyOf(r);
    const now = this.now();
    const open = this.byKey.get(k);
    if (open) {
      open.occurrences++;
      open.updatedAt = now;
      open.at = r.at;
      open.type = r.type;
      open.message = clip(r.message);
      setMeasure(open, r);
      this.totals.updated++;
      const escalated = RANK.get(r.severity)! > RANK.get(open.severity)!;
      if (escalated) {
        open.severity = r.severity;
        this.totals.escalated++;
      }
      this.dirty(open);
      if (escalated) this.emit('escalated', open);
      return;
    }
    if (this.byId.size >= this.maxOpen) {
      this.totals.dropped++;
      return;
    }
    const a: Alert = {
      id: randomUUID(), source: r.source, deviceId: r.deviceId, metric: r.metric, type: r.type, severity: r.severity,
      state: 'ACTIVE', message: clip(r.message), at: r.at, createdAt: now, updatedAt: now, occurrences: 1,
    };
    setMeasure(a, r);
    this.byKey.set(k, a);
    this.byId.set(a.id, a);
    this.totals.raised++;
    this.dirty(a);
    this.emit('opened', a);
  }

  resolve(key: AlertKey, _at: number): void {
    if (this.closed) return;
    const open = this.byKey.get(keyOf(key));
    if (open) this.toCleared(open);
  }

  async list(filter: AlertFilter = {}, page: PageRequest = {}): Promise<Page<Alert>> {
    this.assertOpen();
    checkFilter(filter);
    paginate([], pageKey, page); // validates maxResults and the token before any work
    const cursor = cursorOf(pageAfter(page));
    await this.flush();
    const rows = await this.table.list(filter, cursor, (page.maxResults ?? DEFAULT_PAGE_SIZE) + 1);
    // the in-memory state is never older than the table's
    return paginate(rows.map((a) => copy(this.byId.get(a.id) ?? this.pending.get(a.id) ?? a)), pageKey, page);
  }

  async get(id: string): Promise<Alert> {
    this.assertOpen();
    return copy(await this.find(id));
  }

  async acknowledge(id: string, note?: string): Promise<Alert> {
    this.assertOpen();
    checkNote(note);
    const a = await this.find(id);
    if (a.state === 'CLEARED') throw transitionError(a, 'acknowledged');
    if (a.state === 'ACTIVE') {
      const now = this.now();
      a.state = 'ACKNOWLEDGED';
      a.acknowledgedAt = now;
      a.updatedAt = now;
      if (note !== undefined) a.note = note;
      this.totals.acknowledged++;
      this.dirty(a);
      this.emit('acknowledged', a);
    }
    return copy(a);
  }

  async clear(id: string, note?: string): Promise<Alert> {
    this.assertOpen();
    checkNote(note);
    const a = await this.find(id);
    if (a.state === 'CLEARED') throw transitionError(a, 'cleared');
    if (note !== undefined) a.note = note;
    this.toCleared(a);
    return copy(a);
  }

  subscribe(listener: (e: AlertEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  openCountsByDevice(): Map<string, number> {
    const out = new Map<string, number>();
    for (const a of this.byId.values()) out.set(a.deviceId, (out.get(a.deviceId) ?? 0) + 1);
    return out;
  }

  counters(): AlertCounters {
    return { ...this.totals, open: this.byId.size };
  }

  async applyRetention(): Promise<number> {
    if (this.closed || !Number.isFinite(this.retentionDays)) return 0;
    await this.flush(); // a clear still pending would otherwise outlive this sweep
    const cutoff = this.now() - this.retentionDays * DAY_MS;
    let deleted = 0;
    for (;;) {
      const n = await this.table.deleteClearedBefore(cutoff, RETENTION_BATCH);
      deleted += n;
      this.totals.retentionDeleted += n;
      if (n < RETENTION_BATCH || this.closed) return deleted;
    }
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.writeQueued) {
      this.writeQueued = true;
      this.writing = this.writing.then(() => this.writeBatch());
    }
    return this.writing;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
    this.table.close();
  }

  /** The alert with this id: open (memory), written-pending, or from the table. */
  private async find(id: string): Promise<Alert> {
    const known = this.byId.get(id) ?? this.pending.get(id);
    if (known) return known;
    const stored = await this.table.get(String(id));
    // it may have changed while we read
    const a = this.byId.get(id) ?? this.pending.get(id) ?? stored;
    if (!a) throw notFound(`alert ${id} does not exist`);
    return a;
  }

  private toCleared(a: Alert): void {
    const now = this.now();
    a.state = 'CLEARED';
    a.clearedAt = now;
    a.updatedAt = now;
    // an open alert leaves memory; the pending write keeps it readable until it is stored
    if (this.byId.get(a.id) === a) {
      this.byId.delete(a.id);
      this.byKey.delete(keyOf(a));
    }
    this.totals.cleared++;
    this.dirty(a);
    this.emit('cleared', a);
  }

  private emit(event: AlertEventKind, a: Alert): void {
    for (const listener of this.listeners) {
      try {
        listener({ event, alert: copy(a) });
      } catch {
        // a failing subscriber must not break the raiser's path
      }
    }
  }

  private dirty(a: Alert): void {
    if (!this.pending.has(a.id) && this.pending.size >= this.maxPendingWrites) {
      this.totals.writesDropped++;
      return;
    }
    this.pending.set(a.id, a);
    if (this.pending.size >= this.flushCount) void this.flush().catch(() => undefined);
    else this.schedule(this.flushDelayMs);
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.writeQueued) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush().catch(() => undefined);
    }, delayMs);
    this.timer.unref();
  }

  private async writeBatch(): Promise<void> {
    this.writeQueued = false;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.table.write([...batch.values()]);
      this.totals.persisted += batch.size;
    } catch {
      this.totals.writeErrors++;
      // put back what did not change since (a newer state is already pending) and retry later
      for (const [id, a] of batch) if (!this.pending.has(id)) this.pending.set(id, a);
      if (!this.closed) this.schedule(Math.max(1000, this.flushDelayMs));
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new AnalyticsError('ServiceUnavailableException', 'the alert store is closed');
  }
}

function setMeasure(a: Alert, r: AlertRaise): void {
  // JSON has no NaN or Infinity: such a value is left out
  if (typeof r.value === 'number' && Number.isFinite(r.value)) a.value = r.value;
  else delete a.value;
  if (typeof r.score === 'number' && Number.isFinite(r.score)) a.score = r.score;
  else delete a.score;
}

function clip(message: string): string {
  const m = String(message ?? '');
  return m.length > MAX_ALERT_MESSAGE ? m.slice(0, MAX_ALERT_MESSAGE) : m;
}

function checkNote(note: unknown): void {
  if (note === undefined) return;
  if (typeof note !== 'string' || note.length > MAX_ALERT_NOTE) throw invalidRequest(`note must be text of at most ${MAX_ALERT_NOTE} characters`);
}

function checkFilter(f: AlertFilter): void {
  if (f.state !== undefined && !ALERT_STATES.includes(f.state)) throw invalidRequest(`state must be one of ${ALERT_STATES.join(', ')}, got ${JSON.stringify(f.state)}`);
  if (f.severity !== undefined && !RANK.has(f.severity)) throw invalidRequest(`severity must be one of ${ALERT_SEVERITIES.join(', ')}, got ${JSON.stringify(f.severity)}`);
  for (const t of ['since', 'until'] as const) {
    const v = f[t];
    if (v !== undefined && !Number.isFinite(v)) throw invalidRequest(`${t} must be a time`);
  }
}

function transitionError(a: Alert, wanted: 'acknowledged' | 'cleared'): AnalyticsError {
  return new AnalyticsError('InvalidStateTransitionException', `alert ${a.id} is ${a.state} and cannot be ${wanted}; a cleared alert is history (a new raise opens a new alert)`);
}
