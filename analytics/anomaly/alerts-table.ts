// Where alerts live in DuckDB: `iotcore_alerts.alerts`, one row per alert (outside the datastores'
// `main` schema, so it is never listed as a datastore; dataset SQL can read it). Changes are
// written in small batches, coalesced by alert id (the latest state wins), through the engine's
// keyed table: appender into a staging table, then one merge by id per batch. No insert per raise.
import type { Column } from '../datastore/schema.js';
import type { KeyedTable } from '../datastore/index.js';
import type { Database } from '../datastore/index.js';
import type { Alert, AlertSeverity, AlertState } from './alert.js';

export const ALERTS_SCHEMA = 'iotcore_alerts';
export const ALERTS_TABLE = `${ALERTS_SCHEMA}.alerts`;

const COLUMNS: readonly Column[] = [
  { name: 'id', type: 'VARCHAR' },
  { name: 'source', type: 'VARCHAR' },
  { name: 'device_id', type: 'VARCHAR' },
  { name: 'metric', type: 'VARCHAR' },
  { name: 'type', type: 'VARCHAR' },
  { name: 'severity', type: 'VARCHAR' },
  { name: 'state', type: 'VARCHAR' },
  { name: 'message', type: 'VARCHAR' },
  { name: 'value', type: 'DOUBLE' },
  { name: 'score', type: 'DOUBLE' },
  { name: 'point_at', type: 'TIMESTAMP' },
  { name: 'created_at', type: 'TIMESTAMP' },
  { name: 'updated_at', type: 'TIMESTAMP' },
  { name: 'acknowledged_at', type: 'TIMESTAMP' },
  { name: 'cleared_at', type: 'TIMESTAMP' },
  { name: 'occurrences', type: 'BIGINT' },
  { name: 'note', type: 'VARCHAR' },
];

/** SELECT list giving the columns back in COLUMNS order, times as epoch ms. */
const SELECT_LIST = COLUMNS.map((c) => (c.type === 'TIMESTAMP' ? `epoch_ms(${c.name})` : c.name)).join(', ');

function toRow(a: Alert): unknown[] {
  return [
    a.id, a.source, a.deviceId, a.metric, a.type, a.severity, a.state, a.message,
    a.value ?? null, a.score ?? null, a.at, a.createdAt, a.updatedAt, a.acknowledgedAt ?? null, a.clearedAt ?? null,
    BigInt(a.occurrences), a.note ?? null,
  ];
}

function fromRow(r: readonly unknown[]): Alert {
  const [id, source, deviceId, metric, type, severity, state, message, value, score, at, createdAt, updatedAt, acknowledgedAt, clearedAt, occurrences, note] = r;
  const a: Alert = {
    id: String(id), source: String(source), deviceId: String(deviceId), metric: String(metric), type: String(type),
    severity: severity as AlertSeverity, state: state as AlertState, message: String(message ?? ''),
    at: Number(at), createdAt: Number(createdAt), updatedAt: Number(updatedAt), occurrences: Number(occurrences),
  };
  if (typeof value === 'number') a.value = value;
  if (typeof score === 'number') a.score = score;
  if (acknowledgedAt !== null) a.acknowledgedAt = Number(acknowledgedAt);
  if (clearedAt !== null) a.clearedAt = Number(clearedAt);
  if (note !== null) a.note = String(note);
  return a;
}

export interface AlertFilter {
  state?: AlertState;
  severity?: AlertSeverity;
  deviceId?: string;
  source?: string;
  /** createdAt in [since, until), epoch ms */
  since?: number;
  until?: number;
}

/** Newest first: createdAt descending, then id ascending; `after` continues after that alert. */
export interface ListCursor {
  createdAt: number;
  id: string;
}

export class AlertsTable {
  private constructor(private readonly table: KeyedTable) {}

  static async open(db: Database): Promise<AlertsTable> {
    return new AlertsTable(await db.openKeyedTable({ schema: ALERTS_SCHEMA, table: 'alerts', columns: COLUMNS, key: 'id' }));
  }

  /** Insert or replace these alerts (ids unique within the call). */
  write(alerts: readonly Alert[]): Promise<void> {
    return this.table.upsert(alerts.map(toRow));
  }

  /** Open alerts, most recently updated first, at most `limit`. */
  async openAlerts(limit: number): Promise<Alert[]> {
    const r = await this.table.select(`SELECT ${SELECT_LIST} FROM ${ALERTS_TABLE} WHERE state <> 'CLEARED' ORDER BY updated_at DESC LIMIT ${Math.floor(limit)}`, [], limit);
    return r.rows.map(fromRow);
  }

  async get(id: string): Promise<Alert | undefined> {
    const r = await this.table.select(`SELECT ${SELECT_LIST} FROM ${ALERTS_TABLE} WHERE id = $1`, [id], 1);
    return r.rows.length > 0 ? fromRow(r.rows[0]) : undefined;
  }

  /** Up to `limit` alerts matching the filter, newest first, after the cursor. */
  async list(filter: AlertFilter, after: ListCursor | undefined, limit: number): Promise<Alert[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    const p = (v: string | number): string => {
      params.push(v);
      return `$${params.length}`;
    };
    if (filter.state !== undefined) where.push(`state = ${p(filter.state)}`);
    if (filter.severity !== undefined) where.push(`severity = ${p(filter.severity)}`);
    if (filter.deviceId !== undefined) where.push(`device_id = ${p(filter.deviceId)}`);
    if (filter.source !== undefined) where.push(`source = ${p(filter.source)}`);
    if (filter.since !== undefined) where.push(`created_at >= make_timestamp(${p(Math.floor(filter.since))}::BIGINT * 1000)`);
    if (filter.until !== undefined) where.push(`created_at < make_timestamp(${p(Math.floor(filter.until))}::BIGINT * 1000)`);
    if (after) {
      const c = p(after.createdAt);
      where.push(`(created_at < make_timestamp(${c}::BIGINT * 1000) OR (created_at = make_timestamp(${c}::BIGINT * 1000) AND id > ${p(after.id)}))`);
    }
    const sql = `SELECT ${SELECT_LIST} FROM ${ALERTS_TABLE}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id ASC LIMIT ${Math.floor(limit)}`;
    return (await this.table.select(sql, params, limit)).rows.map(fromRow);
  }

  /**
   * Deletes up to `limit` CLEARED alerts cleared before the cutoff (epoch ms); returns how many.
   * A fixed, parameterised DELETE ... RETURNING through the keyed table's statement path;
   * `limit` bounds the ids read back.
   */
  async deleteClearedBefore(cutoffMs: number, limit: number): Promise<number> {
    const n = Math.floor(limit);
    const sql = `DELETE FROM ${ALERTS_TABLE} WHERE id IN (SELECT id FROM ${ALERTS_TABLE} WHERE state = 'CLEARED' AND cleared_at < make_timestamp($1::BIGINT * 1000) LIMIT ${n}) RETURNING id`;
    return (await this.table.select(sql, [Math.floor(cutoffMs)], n)).rows.length;
  }

  close(): void {
    this.table.close();
  }
}
