// The alerts view (#/alerts): the alerts of a filter, newest first, kept current by the live feed
// (new alerts appear at the top, changed ones are replaced in place), with Acknowledge and Clear
// per row and older alerts a page at a time ("Load more").
//
// DOM hooks for the browser tests: rows `tr[data-alert-id][data-state][data-severity]`, buttons
// `button[data-action="acknowledge"|"clear"]`, filters `[data-testid="alerts-filter-state"|
// "alerts-filter-severity"|"alerts-filter-device"]`, `[data-testid="alerts-more"]`,
// `[data-testid="alerts-error"]` (role=alert), `[data-testid="alerts-empty"]`.

import type { Alert, AlertListBody, AlertSeverity } from '../../../broker/contract.js';
import type { Unsubscribe, View, ViewContext, ViewFactory } from '../view.js';
import { actionsFor, AlertList, AlertPager, alertsPath, SEVERITIES, statesOf, type AlertFilterChoice, type StateFilter } from './alert-list.js';
import { createErrorBox, h, timeElement } from './html.js';
import { formatValue } from './text.js';

const PAGE_SIZE = 50;

interface Row {
  tr: HTMLTableRowElement;
  severity: HTMLElement;
  state: HTMLElement;
  device: HTMLAnchorElement;
  what: HTMLElement;
  message: HTMLElement;
  value: HTMLElement;
  created: HTMLElement;
  updated: HTMLElement;
  acknowledge: HTMLButtonElement;
  clear: HTMLButtonElement;
}

export const createAlertsView: ViewFactory = (ctx: ViewContext): View => {
  const list = new AlertList();
  const rows = new Map<string, Row>();
  let filter: AlertFilterChoice = { state: 'open' };
  let pager: AlertPager | undefined;
  /** bumped by each reload: answers of an older load are dropped */
  let generation = 0;
  let loading = false;
  let subscriptions: Unsubscribe[] = [];

  const errors = createErrorBox('alerts-error');
  const status = h('p', { class: 'note', role: 'status', 'data-testid': 'alerts-status' });

  const stateSelect = h(
    'select',
    { id: 'alerts-filter-state', 'data-testid': 'alerts-filter-state' },
    h('option', { value: 'open' }, 'Open (active and acknowledged)'),
    h('option', { value: 'all' }, 'All'),
    h('option', { value: 'cleared' }, 'Cleared'),
  );
  const severitySelect = h(
    'select',
    { id: 'alerts-filter-severity', 'data-testid': 'alerts-filter-severity' },
    h('option', { value: '' }, 'Any severity'),
    ...SEVERITIES.map((s) => h('option', { value: s }, s.toLowerCase())),
  );
  const deviceInput = h('input', { id: 'alerts-filter-device', 'data-testid': 'alerts-filter-device', type: 'search', placeholder: 'any device', autocomplete: 'off' });
  const filters = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter alerts' },
    h('label', { for: 'alerts-filter-state' }, 'State'),
    stateSelect,
    h('label', { for: 'alerts-filter-severity' }, 'Severity'),
    severitySelect,
    h('label', { for: 'alerts-filter-device' }, 'Device'),
    deviceInput,
  );

  const tbody = h('tbody', { 'data-testid': 'alerts-rows' });
  const table = h(
    'table',
    { class: 'alerts-table', 'data-testid': 'alerts-table' },
    h('caption', { class: 'visually-hidden' }, 'Alerts, newest first'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Severity', 'State', 'Device', 'Source / metric', 'Message', 'Value', 'Created', 'Updated', 'Actions'].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    tbody,
  );
  const empty = h('p', { class: 'note', 'data-testid': 'alerts-empty', hidden: true }, 'No alerts match these filters.');
  const more = h('button', { type: 'button', 'data-testid': 'alerts-more', hidden: true }, 'Load more');

  const element = h(
    'section',
    { class: 'view view-alerts', 'data-testid': 'alerts-view', 'aria-labelledby': 'alerts-title' },
    h('div', { class: 'view-head' }, h('h2', { id: 'alerts-title' }, 'Alerts')),
    filters,
    errors.element,
    h('div', { class: 'scroll table-wrap' }, table),
    empty,
    h('div', { class: 'view-actions' }, more, status),
  );

  // ---- rows ----

  function createRow(alert: Alert): Row {
    const acknowledge = h('button', { type: 'button', 'data-action': 'acknowledge' }, 'Acknowledge');
    const clear = h('button', { type: 'button', 'data-action': 'clear', class: 'secondary' }, 'Clear');
    const row: Row = {
      tr: h('tr', { 'data-alert-id': alert.id }),
      severity: h('span', { class: 'badge' }),
      state: h('span', { class: 'badge' }),
      device: h('a', {}),
      what: h('span', {}),
      message: h('span', {}),
      value: h('span', {}),
      created: h('span', {}),
      updated: h('span', {}),
      acknowledge,
      clear,
    };
    acknowledge.addEventListener('click', () => void act(alert.id, 'acknowledge'));
    clear.addEventListener('click', () => void act(alert.id, 'clear'));
    row.tr.append(
      h('td', { 'data-field': 'severity' }, row.severity),
      h('td', { 'data-field': 'state' }, row.state),
      h('td', { 'data-field': 'device' }, row.device),
      h('td', { 'data-field': 'source' }, row.what),
      h('td', { 'data-field': 'message', class: 'wrap' }, row.message),
      h('td', { 'data-field': 'value', class: 'num' }, row.value),
      h('td', { 'data-field': 'created' }, row.created),
      h('td', { 'data-field': 'updated' }, row.updated),
      h('td', { class: 'row-actions' }, acknowledge, ' ', clear),
    );
    rows.set(alert.id, row);
    return row;
  }

  function fillRow(row: Row, alert: Alert): void {
    row.tr.dataset.state = alert.state;
    row.tr.dataset.severity = alert.severity;
    row.tr.dataset.deviceId = alert.deviceId;
    // colour for the eye, the word for everyone (and for screen readers)
    row.severity.className = `badge severity severity-${alert.severity.toLowerCase()}`;
    row.severity.textContent = alert.severity;
    row.state.className = `badge alert-state alert-state-${alert.state.toLowerCase()}`;
    row.state.textContent = alert.state;
    row.device.href = `#/device/${encodeURIComponent(alert.deviceId)}`;
    row.device.textContent = alert.deviceId;
    row.what.textContent = `${alert.source} / ${alert.metric} (${alert.type})`;
    row.message.textContent = alert.note ? `${alert.message} — note: ${alert.note}` : alert.message;
    row.value.textContent =
      alert.value === undefined ? '—' : alert.score === undefined ? formatValue(alert.value) : `${formatValue(alert.value)} (score ${formatValue(alert.score)})`;
    row.created.replaceChildren(timeElement(alert.createdAt));
    row.updated.replaceChildren(timeElement(alert.updatedAt), alert.occurrences > 1 ? ` (×${alert.occurrences})` : '');
    const allowed = actionsFor(alert.state);
    const focused = document.activeElement;
    row.acknowledge.disabled = !allowed.acknowledge;
    row.clear.disabled = !allowed.clear;
    row.acknowledge.setAttribute('aria-label', `Acknowledge ${alert.severity} alert on ${alert.deviceId}`);
    row.clear.setAttribute('aria-label', `Clear ${alert.severity} alert on ${alert.deviceId}`);
    if (focused === row.acknowledge || focused === row.clear) keepFocus(row, focused);
  }

  /** A focused button that became disabled drops the keyboard focus to <body>: move it along the row. */
  function keepFocus(row: Row, wasOn: Element): void {
    const target = !(wasOn as HTMLButtonElement).disabled ? (wasOn as HTMLButtonElement) : wasOn === row.acknowledge && !row.clear.disabled ? row.clear : row.device;
    if (document.activeElement !== target) target.focus();
  }

  function rowOf(alert: Alert): Row {
    const row = rows.get(alert.id) ?? createRow(alert);
    fillRow(row, alert);
    return row;
  }

  /** The table from the list: rows are reused by id, so a focused row keeps its focus. */
  function renderAll(): void {
    const keep = new Set<string>();
    const fragment = document.createDocumentFragment();
    for (const alert of list.alerts) {
      keep.add(alert.id);
      fragment.append(rowOf(alert).tr);
    }
    for (const id of [...rows.keys()]) if (!keep.has(id)) rows.delete(id);
    tbody.replaceChildren(fragment);
    renderFooter();
  }

  function renderFooter(): void {
    empty.hidden = loading || list.alerts.length > 0;
    more.hidden = pager === undefined || pager.done;
    more.disabled = loading;
    status.textContent = loading ? 'Loading…' : `${list.alerts.length} alert${list.alerts.length === 1 ? '' : 's'} shown${pager && !pager.done ? ', more available' : ''}`;
  }

  // ---- loading ----

  function fetchPage(f: AlertFilterChoice) {
    return (state: Alert['state'] | undefined, nextToken: string | undefined) =>
      ctx.api.request<AlertListBody>('GET', alertsPath({ state, severity: f.severity, deviceId: f.deviceId, maxResults: PAGE_SIZE, nextToken }));
  }

  async function load(reset: boolean): Promise<void> {
    if (reset) {
      generation++;
      list.reset();
      pager = new AlertPager(statesOf(filter.state), fetchPage(filter));
      renderAll();
    } else if (loading) return; // "Load more" twice: one page at a time from the same pager
    const gen = generation;
    const current = pager;
    if (!current) return;
    loading = true;
    renderFooter();
    errors.clear();
    try {
      const page = await current.next(PAGE_SIZE);
      if (gen !== generation) return;
      list.merge(page);
      loading = false;
      renderAll();
    } catch (error) {
      if (gen !== generation) return;
      loading = false;
      errors.show(error);
      renderFooter();
    }
  }

  function readFilter(): AlertFilterChoice {
    const device = deviceInput.value.trim();
    return {
      state: stateSelect.value as StateFilter,
      severity: severitySelect.value === '' ? undefined : (severitySelect.value as AlertSeverity),
      deviceId: device === '' ? undefined : device,
    };
  }

  function applyFilter(): void {
    filter = readFilter();
    void load(true);
  }

  stateSelect.addEventListener('change', applyFilter);
  severitySelect.addEventListener('change', applyFilter);
  deviceInput.addEventListener('change', applyFilter);
  filters.addEventListener('submit', (event) => {
    event.preventDefault(); // Enter in the device field applies the filter, never reloads the page
    applyFilter();
  });
  more.addEventListener('click', () => void load(false));

  // ---- live feed and actions ----

  function upsert(alert: Alert): void {
    const change = list.apply(alert, filter, pager?.done ?? false);
    if (change.kind === 'ignored') return;
    const row = rowOf(alert);
    if (change.kind === 'inserted') tbody.insertBefore(row.tr, tbody.children[change.index] ?? null);
    renderFooter();
  }

  async function act(id: string, action: 'acknowledge' | 'clear'): Promise<void> {
    const row = rows.get(id);
    const focused = row && (document.activeElement === row.acknowledge || document.activeElement === row.clear) ? document.activeElement : undefined;
    if (row) {
      row.acknowledge.disabled = true;
      row.clear.disabled = true;
      row.tr.setAttribute('aria-busy', 'true');
    }
    errors.clear();
    try {
      const updated = await ctx.api.request<Alert>('POST', `/api/alerts/${encodeURIComponent(id)}/${action}`, {});
      upsert(updated);
    } catch (error) {
      errors.show(error);
      const alert = list.get(id);
      if (alert && row) fillRow(row, alert); // buttons back as they were
    } finally {
      row?.tr.removeAttribute('aria-busy');
      // the buttons were disabled while the request ran, which took the focus away
      if (row && focused && document.activeElement !== row.acknowledge && document.activeElement !== row.clear) keepFocus(row, focused);
    }
  }

  return {
    element,
    show(params) {
      const device = params[0];
      if (device !== undefined && device !== deviceInput.value) deviceInput.value = device;
      filter = readFilter();
      subscriptions.forEach((off) => off());
      subscriptions = [
        ctx.live.onAlert((frame) => {
          // frames were lost (a slow tab): the list may be stale, read it again
          if (frame.dropped > 0) void load(true);
          else upsert(frame.alert);
        }),
        ctx.live.onReconnect(() => void load(true)),
      ];
      // alerts changed while the view was hidden: start from the server's answer
      void load(true);
    },
    hide() {
      subscriptions.forEach((off) => off());
      subscriptions = [];
    },
  };
};
