// The alerts view's logic without the DOM: which alerts a filter shows, the query of one page, a
// pager that merges several server queries (the "open" filter is two states while the API filters
// on one), and the ordered list that pages and live frames are merged into. Pure, unit tested.

import type { Alert, AlertListBody, AlertSeverity, AlertState } from '../../../broker/contract.js';

/** open = ACTIVE + ACKNOWLEDGED (what needs attention), cleared = history. */
export type StateFilter = 'open' | 'all' | 'cleared';

export interface AlertFilterChoice {
  state: StateFilter;
  /** undefined: every severity */
  severity?: AlertSeverity;
  /** undefined: every device */
  deviceId?: string;
}

export const SEVERITIES: readonly AlertSeverity[] = ['CRITICAL', 'MAJOR', 'MINOR', 'WARNING', 'INDETERMINATE'];

/** The server-side state filters a choice needs, one query each (undefined = no state filter). */
export function statesOf(state: StateFilter): (AlertState | undefined)[] {
  switch (state) {
    case 'open':
      return ['ACTIVE', 'ACKNOWLEDGED'];
    case 'cleared':
      return ['CLEARED'];
    case 'all':
      return [undefined];
  }
}

export function matchesFilter(alert: Alert, filter: AlertFilterChoice): boolean {
  if (filter.state === 'open' && alert.state === 'CLEARED') return false;
  if (filter.state === 'cleared' && alert.state !== 'CLEARED') return false;
  if (filter.severity !== undefined && alert.severity !== filter.severity) return false;
  if (filter.deviceId !== undefined && alert.deviceId !== filter.deviceId) return false;
  return true;
}

/** `/api/alerts?...` for one page of one server query. */
export function alertsPath(query: { state?: AlertState; severity?: AlertSeverity; deviceId?: string; maxResults: number; nextToken?: string }): string {
  const params = new URLSearchParams();
  if (query.state !== undefined) params.set('state', query.state);
  if (query.severity !== undefined) params.set('severity', query.severity);
  if (query.deviceId !== undefined) params.set('deviceId', query.deviceId);
  params.set('maxResults', String(query.maxResults));
  if (query.nextToken !== undefined) params.set('nextToken', query.nextToken);
  return `/api/alerts?${params.toString()}`;
}

/** The server's order: newest first (createdAt descending), then id ascending. */
export function compareAlerts(a: Alert, b: Alert): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** What the buttons of a row may do: acknowledge an ACTIVE alert, clear any open one. */
export function actionsFor(state: AlertState): { acknowledge: boolean; clear: boolean } {
  return { acknowledge: state === 'ACTIVE', clear: state !== 'CLEARED' };
}

export type FetchAlertPage = (state: AlertState | undefined, nextToken: string | undefined) => Promise<AlertListBody>;

interface Source {
  state: AlertState | undefined;
  buffer: Alert[];
  nextToken: string | undefined;
  exhausted: boolean;
}

/**
 * Pages through the union of several server queries in the server's order. Each query is read a
 * page at a time; an alert is handed out only when every query that still has pages has a
 * buffered alert to compare it with, so the merged order is exact.
 */
export class AlertPager {
  private readonly sources: Source[];

  constructor(
    states: (AlertState | undefined)[],
    private readonly fetchPage: FetchAlertPage,
  ) {
    this.sources = states.map((state) => ({ state, buffer: [], nextToken: undefined, exhausted: false }));
  }

  /** nothing left to hand out */
  get done(): boolean {
    return this.sources.every((s) => s.exhausted && s.buffer.length === 0);
  }

  /** Up to `count` further alerts, newest first (fewer only when done). */
  async next(count: number): Promise<Alert[]> {
    const out: Alert[] = [];
    while (out.length < count) {
      await Promise.all(this.sources.filter((s) => s.buffer.length === 0 && !s.exhausted).map((s) => this.fill(s)));
      let best: Source | undefined;
      for (const s of this.sources) {
        if (s.buffer.length > 0 && (best === undefined || compareAlerts(s.buffer[0], best.buffer[0]) < 0)) best = s;
      }
      if (best === undefined) break;
      out.push(best.buffer.shift() as Alert);
    }
    return out;
  }

  private async fill(source: Source): Promise<void> {
    const body = await this.fetchPage(source.state, source.nextToken);
    source.buffer.push(...body.alerts);
    source.nextToken = body.nextToken;
    if (body.nextToken === undefined) source.exhausted = true;
  }
}

export type LiveChange = { kind: 'inserted'; index: number } | { kind: 'updated'; index: number } | { kind: 'ignored' };

/**
 * The alerts a view shows, in the server's order, one per id. A newer version of an alert (by
 * updatedAt) replaces the older wherever it comes from: a page, a live frame or an action's answer.
 */
export class AlertList {
  private items: Alert[] = [];

  get alerts(): readonly Alert[] {
    return this.items;
  }

  get(id: string): Alert | undefined {
    return this.items.find((a) => a.id === id);
  }

  reset(): void {
    this.items = [];
  }

  /** Alerts of a page (they match the filter, the server chose them). */
  merge(alerts: readonly Alert[]): void {
    for (const alert of alerts) {
      const i = this.items.findIndex((a) => a.id === alert.id);
      if (i < 0) this.items.push(alert);
      else if (alert.updatedAt >= this.items[i].updatedAt) this.items[i] = alert;
    }
    this.items.sort(compareAlerts);
  }

  /**
   * An alert from the live feed or an action's answer. A shown alert is replaced in place (also when
   * it no longer matches the filter: the operator sees it was cleared). A new one is inserted when
   * it matches the filter and falls within what is loaded (`complete`: every page is loaded);
   * older ones come with "Load more" in their turn.
   */
  apply(alert: Alert, filter: AlertFilterChoice, complete: boolean): LiveChange {
    const i = this.items.findIndex((a) => a.id === alert.id);
    if (i >= 0) {
      if (alert.updatedAt < this.items[i].updatedAt) return { kind: 'ignored' };
      this.items[i] = alert;
      return { kind: 'updated', index: i };
    }
    if (!matchesFilter(alert, filter)) return { kind: 'ignored' };
    const last = this.items[this.items.length - 1];
    if (!complete && last !== undefined && compareAlerts(alert, last) > 0) return { kind: 'ignored' };
    let index = this.items.findIndex((a) => compareAlerts(alert, a) < 0);
    if (index < 0) index = this.items.length;
    this.items.splice(index, 0, alert);
    return { kind: 'inserted', index };
  }
}
