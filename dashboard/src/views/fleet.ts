// The fleet view (#/fleet): every thing and client from GET /api/fleet, refreshed every 5 s while
// shown, with last-seen ages and latest values kept current by the live feed. Search and filters
// narrow the table; each row expands to the thing's attributes and groups. Rows are kept by thing
// name and only their cells' text changes, so refreshes cost no layout churn.

import type { FleetBody, FleetDevice } from '../../../broker/contract.js';
import { describeError } from '../api.js';
import { formatAge } from '../format.js';
import { decodeRows } from '../frames.js';
import { LatestByDevice } from '../latest.js';
import { el, setText } from '../shell/dom.js';
import { createRedrawScheduler } from '../shell/redraw.js';
import { routeHash } from '../shell/router.js';
import type { Unsubscribe, View, ViewContext } from '../view.js';
import { whenDatastoresKnown } from './datastores.js';
import { filterFleet, formatLatestValues, lastSeenOf, summarize, type FleetFilter } from './fleet-model.js';

const REFRESH_MS = 5_000;
/** Rows beyond this are counted, not drawn: a table of thousands helps nobody and costs frames. */
const MAX_ROWS = 1_000;
/** The server decimates to about this many rows per frame, keeping each device's newest row. */
const LIVE_ROWS_PER_FRAME = 2_000;
const COLUMNS = 9;

interface RowParts {
  row: HTMLTableRowElement;
  details: HTMLTableRowElement;
  detailsCell: HTMLTableCellElement;
  toggle: HTMLButtonElement;
  cells: Record<'state' | 'lastSeen' | 'rate' | 'alerts' | 'latest' | 'type' | 'groups', HTMLTableCellElement>;
  alertsBadge: HTMLElement;
  stateBadge: HTMLElement;
  /** the snapshot the details were drawn from (redrawn only when it changes) */
  detailsOf: string;
}

export function createFleetView(ctx: ViewContext): View {
  const filter: FleetFilter = { query: '', connectedOnly: false, withAlerts: false };
  const latest = new LatestByDevice();
  const rows = new Map<string, RowParts>();
  const expanded = new Set<string>();
  let devices: FleetDevice[] = [];
  let generatedAt = 0;
  let visible = false;
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  let tickTimer: ReturnType<typeof setInterval> | null = null;
  let stopLive: Unsubscribe[] = [];
  let cancelWait: (() => void) | null = null;
  let loading = false;
  /** bumped by show() and hide(): a refresh that began before is stale and schedules nothing */
  let generation = 0;

  const search = el('input', { attrs: { id: 'fleet-search', type: 'search', placeholder: 'name or attribute', autocomplete: 'off' } });
  const connectedOnly = el('input', { attrs: { id: 'fleet-connected', type: 'checkbox' } });
  const withAlerts = el('input', { attrs: { id: 'fleet-alerts', type: 'checkbox' } });
  const summary = el('p', { attrs: { id: 'fleet-summary', 'aria-live': 'polite' }, className: 'muted' });
  const error = el('p', { attrs: { id: 'fleet-error', role: 'alert' }, className: 'error' });
  error.hidden = true;
  const note = el('p', { attrs: { id: 'fleet-note' }, className: 'note' });
  const tbody = el('tbody', { attrs: { id: 'fleet-body' } });
  const headers = ['', 'Device', 'State', 'Last seen', 'Msgs/min', 'Open alerts', 'Latest values', 'Thing type', 'Groups'];
  const table = el(
    'table',
    { attrs: { 'data-testid': 'fleet-table' }, className: 'fleet-table' },
    el('caption', { className: 'visually-hidden', text: 'Devices of the fleet' }),
    el('thead', {}, el('tr', {}, ...headers.map((h, i) => el('th', { attrs: { scope: 'col' }, text: h, className: i === 0 ? 'toggle-col' : undefined })))),
    tbody,
  );

  const element = el(
    'section',
    { className: 'view fleet-view', attrs: { 'aria-labelledby': 'fleet-title', 'data-testid': 'fleet-view' } },
    el('div', { className: 'view-head' }, el('h2', { attrs: { id: 'fleet-title' }, text: 'Fleet' }), summary),
    el(
      'form',
      { className: 'filters', attrs: { role: 'search', 'aria-label': 'Filter devices' }, on: { submit: (e) => e.preventDefault() } },
      el('label', { attrs: { for: 'fleet-search' }, text: 'Search' }),
      search,
      el('label', { className: 'check' }, connectedOnly, ' Connected only'),
      el('label', { className: 'check' }, withAlerts, ' With open alerts'),
    ),
    error,
    el('div', { className: 'scroll table-wrap' }, table),
    note,
  );

  const redraw = createRedrawScheduler(render);
  search.addEventListener('input', () => {
    filter.query = search.value;
    redraw.request();
  });
  connectedOnly.addEventListener('change', () => {
    filter.connectedOnly = connectedOnly.checked;
    redraw.request();
  });
  withAlerts.addEventListener('change', () => {
    filter.withAlerts = withAlerts.checked;
    redraw.request();
  });

  function partsFor(device: FleetDevice): RowParts {
    const existing = rows.get(device.thingName);
    if (existing) return existing;
    const name = device.thingName;
    const detailsId = `fleet-details-${rows.size}`;
    const toggle = el('button', {
      className: 'toggle',
      attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': detailsId, 'aria-label': `Details of ${name}`, 'data-testid': 'fleet-details-toggle' },
      text: '▸',
    });
    const cell = (field: string) => el('td', { attrs: { 'data-field': field } });
    const cells = {
      state: cell('state'),
      lastSeen: cell('last-seen'),
      rate: cell('rate'),
      alerts: cell('alerts'),
      latest: cell('latest'),
      type: cell('type'),
      groups: cell('groups'),
    };
    const stateBadge = el('span', { className: 'state-badge' });
    cells.state.append(stateBadge);
    const alertsBadge = el('span', { className: 'badge' });
    cells.alerts.append(alertsBadge);
    const row = el(
      'tr',
      { attrs: { 'data-device-id': name } },
      el('td', { className: 'toggle-col' }, toggle),
      el('th', { attrs: { scope: 'row' } }, el('a', { attrs: { href: routeHash('device', name), 'data-testid': 'fleet-device-link' }, text: name })),
      cells.state,
      cells.lastSeen,
      cells.rate,
      cells.alerts,
      cells.latest,
      cells.type,
      cells.groups,
    );
    const detailsCell = el('td', { attrs: { colspan: COLUMNS } });
    const details = el('tr', { className: 'details', attrs: { id: detailsId, 'data-details-for': name } }, detailsCell);
    details.hidden = true;
    toggle.addEventListener('click', () => {
      if (expanded.has(name)) expanded.delete(name);
      else expanded.add(name);
      render();
    });
    const parts: RowParts = { row, details, detailsCell, toggle, cells, alertsBadge, stateBadge, detailsOf: '' };
    rows.set(name, parts);
    return parts;
  }

  function fillDetails(parts: RowParts, device: FleetDevice): void {
    const key = JSON.stringify([device.attributes, device.groups, device.registered, device.connectedSince, device.thingTypeName]);
    if (parts.detailsOf === key) return;
    parts.detailsOf = key;
    const attributes = Object.entries(device.attributes ?? {});
    const attributeList =
      attributes.length === 0
        ? el('p', { className: 'muted', text: 'No attributes.' })
        : el('dl', { className: 'attributes' }, ...attributes.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
    const groups =
      device.groups.length === 0
        ? el('p', { className: 'muted', text: 'In no thing group.' })
        : el('ul', { className: 'groups' }, ...device.groups.map((g) => el('li', { text: g })));
    const facts = [
      device.registered ? `Registered thing${device.thingTypeName ? ` of type ${device.thingTypeName}` : ''}.` : 'Not in the registry (a client without a thing).',
      device.connected && device.connectedSince ? `Connected since ${new Date(device.connectedSince).toLocaleString()}.` : '',
      `${device.messages} message${device.messages === 1 ? '' : 's'} since the broker started.`,
    ].filter(Boolean);
    parts.detailsCell.replaceChildren(
      el(
        'div',
        { className: 'details-grid' },
        el('div', {}, el('h3', { text: 'Attributes' }), attributeList),
        el('div', {}, el('h3', { text: 'Groups' }), groups),
        el('div', {}, el('h3', { text: 'Thing' }), ...facts.map((f) => el('p', { text: f })),
          el('p', {}, el('a', { attrs: { href: routeHash('device', device.thingName) }, text: `Open ${device.thingName}` }))),
      ),
    );
  }

  function render(): void {
    const now = Date.now();
    const shown = filterFleet(devices, filter);
    const drawn = shown.slice(0, MAX_ROWS);
    const keep = new Set(drawn.map((d) => d.thingName));
    // Detach rows filtered out, then put the drawn ones in order (moving only what moved).
    for (const [name, parts] of rows) {
      if (!keep.has(name) && parts.row.parentNode) {
        parts.row.remove();
        parts.details.remove();
      }
    }
    let cursor: ChildNode | null = tbody.firstChild;
    for (const device of drawn) {
      const parts = partsFor(device);
      const live = latest.get(device.thingName);
      const seen = lastSeenOf(device, live);
      setText(parts.stateBadge, device.connected ? 'connected' : 'disconnected');
      parts.stateBadge.dataset.connected = String(device.connected);
      setText(parts.cells.lastSeen, seen === undefined ? '—' : formatAge(seen, now));
      parts.cells.lastSeen.title = seen === undefined ? '' : new Date(seen).toLocaleString();
      setText(parts.cells.rate, String(Math.round(device.messagesPerMinute * 10) / 10));
      setText(parts.alertsBadge, String(device.openAlerts));
      parts.alertsBadge.dataset.count = String(device.openAlerts);
      setText(parts.cells.latest, formatLatestValues(live?.values));
      setText(parts.cells.type, device.thingTypeName ?? '—');
      setText(parts.cells.groups, device.groups.length === 0 ? '—' : device.groups.join(', '));
      const open = expanded.has(device.thingName);
      parts.toggle.setAttribute('aria-expanded', String(open));
      setText(parts.toggle, open ? '▾' : '▸');
      parts.details.hidden = !open;
      if (open) fillDetails(parts, device);
      if (cursor !== parts.row) tbody.insertBefore(parts.row, cursor);
      if (parts.row.nextSibling !== parts.details) tbody.insertBefore(parts.details, parts.row.nextSibling);
      cursor = parts.details.nextSibling;
    }
    const totals = summarize(devices);
    setText(
      summary,
      generatedAt === 0
        ? loading
          ? 'Loading…'
          : ''
        : `${totals.devices} device${totals.devices === 1 ? '' : 's'}, ${totals.connected} connected, ${totals.withAlerts} with open alerts · updated ${formatAge(generatedAt, now)}`,
    );
    setText(
      note,
      generatedAt === 0
        ? ''
        : devices.length === 0
          ? 'No device has connected since the broker started, and none is registered.'
          : shown.length === 0
            ? 'No device matches the search and filters.'
            : shown.length > drawn.length
              ? `Showing the first ${drawn.length} of ${shown.length} matching devices: narrow the search to see others.`
              : '',
    );
  }

  async function refresh(): Promise<void> {
    if (refreshTimer !== null) clearTimeout(refreshTimer);
    refreshTimer = null;
    const started = generation;
    loading = true;
    try {
      const body = await ctx.api.request<FleetBody>('GET', '/api/fleet');
      devices = Array.isArray(body?.devices) ? body.devices : [];
      generatedAt = typeof body?.generatedAt === 'number' ? body.generatedAt : Date.now();
      error.hidden = true;
    } catch (cause) {
      error.textContent = `Cannot load the fleet: ${describeError(cause)}`;
      error.hidden = false;
    } finally {
      loading = false;
    }
    if (!visible || started !== generation) return;
    redraw.request();
    // A reconnect's refresh may overlap the periodic one: whichever ends last keeps the one timer.
    if (refreshTimer !== null) clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void refresh(), REFRESH_MS);
  }

  function subscribeLive(datastores: readonly string[]): void {
    stopLive = datastores.map((datastore) =>
      ctx.live.subscribeRows({ datastore, maxRowsPerFrame: LIVE_ROWS_PER_FRAME }, (frame) => {
        latest.update(decodeRows(frame).rows);
        redraw.request();
      }),
    );
  }

  let stopReconnect: Unsubscribe | null = null;

  return {
    element,
    show() {
      if (visible) return;
      visible = true;
      generation++;
      void refresh();
      cancelWait = whenDatastoresKnown(ctx.live, subscribeLive);
      // The ages ("12 s ago") move with time even when nothing arrives.
      tickTimer = setInterval(() => redraw.request(), 1_000);
      stopReconnect = ctx.live.onReconnect(() => void refresh());
      render();
    },
    hide() {
      visible = false;
      generation++;
      if (refreshTimer !== null) clearTimeout(refreshTimer);
      if (tickTimer !== null) clearInterval(tickTimer);
      refreshTimer = tickTimer = null;
      cancelWait?.();
      cancelWait = null;
      for (const stop of stopLive) stop();
      stopLive = [];
      stopReconnect?.();
      stopReconnect = null;
      redraw.cancel();
    },
  };
}
