// The device view (#/device/<id>): the device's state, one chart per numeric metric, and its
// shadow. Charts start from decimated history (about one point per pixel) and, while following
// live, grow with the device's live rows and slide their window; a drag across a chart, the pan
// buttons or a preset choose another window, fetched decimated. After a reconnect the view fetches
// what it missed since its last point, so the charts have no gap.

import type { FleetDeviceBody, FleetDevice, HistoryBody } from '../../../broker/contract.js';
import { ApiError, describeError } from '../api.js';
import { createTimeChart, type TimeChart } from '../chart.js';
import { formatAge } from '../format.js';
import { decodeRows, type DecodedRow } from '../frames.js';
import { MetricSeries } from '../series.js';
import { el, setText } from '../shell/dom.js';
import { createRedrawScheduler } from '../shell/redraw.js';
import { routeHash } from '../shell/router.js';
import { CHART_DRAWN_EVENT, HISTORY_DRAWN_EVENT, type ChartDrawnDetail, type HistoryDrawnDetail, type Unsubscribe, type View, type ViewContext } from '../view.js';
import { whenDatastoresKnown } from './datastores.js';
import { DEFAULT_PRESET, describeWindow, historyPath, liveWindow, panWindow, pointsForWidth, RANGE_PRESETS, type Window } from './device-history.js';
import { createShadowPanel } from './device-shadow.js';
import { formatMetric } from './fleet-model.js';

const INFO_REFRESH_MS = 5_000;
const CHART_HEIGHT = 220;
/** Server clocks a little ahead of the browser's must not cut the newest rows off a history. */
const CLOCK_MARGIN_MS = 5_000;
/** While following a long window, live rows pile up: re-decimate from history beyond this many points... */
const REDECIMATE_FACTOR = 4;
/** ...but not more often than this. */
const REDECIMATE_MIN_INTERVAL_MS = 30_000;
/** `ts` values waiting for the chart-drawn event; a tab in the background must not grow it unbounded. */
const MAX_PENDING_TS = 10_000;

interface MetricChart {
  figure: HTMLElement;
  chart: TimeChart;
  value: HTMLElement;
}

export function createDeviceView(ctx: ViewContext): View {
  let deviceId = '';
  let datastore = '';
  let presetMs = DEFAULT_PRESET.ms;
  let following = true;
  /** the window shown when not following */
  let fixedWindow: Window = liveWindow(presetMs, Date.now());
  let series = new MetricSeries();
  const charts = new Map<string, MetricChart>();
  let visible = false;
  let generation = 0;
  let loadSeq = 0;
  /** live rows that arrived while a history load was under way (merged when it lands) */
  let buffered: DecodedRow[] | null = null;
  let pendingTs: number[] = [];
  /** the history load the next draw completes (HISTORY_DRAWN_EVENT, for the render benchmark) */
  let historyDrawn: { startedAt: number; rowsInRange: number } | null = null;
  let lastReload = 0;
  let stopLive: Unsubscribe | null = null;
  let stopReconnect: Unsubscribe | null = null;
  let cancelWait: (() => void) | null = null;
  let infoTimer: ReturnType<typeof setTimeout> | null = null;

  // ---- DOM ----
  const title = el('h2', { attrs: { id: 'device-title' } });
  const state = el('span', { className: 'state-badge', attrs: { 'data-testid': 'device-state', 'data-connected': 'unknown' }, text: '…' });
  const facts = el('p', { className: 'muted', attrs: { id: 'device-facts' } });
  const presetButtons = RANGE_PRESETS.map((preset) =>
    el('button', {
      className: 'secondary',
      attrs: { type: 'button', 'data-range': preset.id, 'aria-pressed': 'false', 'aria-label': `Last ${preset.label}` },
      text: preset.label,
      on: { click: () => choosePreset(preset.ms) },
    }),
  );
  const panBack = el('button', { className: 'secondary', attrs: { id: 'device-pan-back', type: 'button', 'aria-label': 'Earlier' }, text: '←', on: { click: () => pan(-1) } });
  const panForward = el('button', { className: 'secondary', attrs: { id: 'device-pan-forward', type: 'button', 'aria-label': 'Later' }, text: '→', on: { click: () => pan(1) } });
  const backToLive = el('button', { attrs: { id: 'device-live', type: 'button' }, text: 'Back to live', on: { click: () => goLive() } });
  const rangeLabel = el('span', { className: 'range-label', attrs: { id: 'device-range', 'aria-live': 'polite' } });
  const datastoreSelect = el('select', { attrs: { id: 'device-datastore' } });
  const datastoreField = el('label', { className: 'datastore-field' }, 'Datastore ', datastoreSelect);
  datastoreField.hidden = true;
  datastoreSelect.addEventListener('change', () => {
    datastore = datastoreSelect.value;
    resetSeries();
    void load();
  });
  const error = el('p', { className: 'error', attrs: { id: 'device-error', role: 'alert' } });
  error.hidden = true;
  const note = el('p', { className: 'note', attrs: { id: 'device-note' } });
  const chartsArea = el('div', { className: 'charts', attrs: { 'data-testid': 'device-charts' } });
  const shadow = createShadowPanel(ctx.api);

  const element = el(
    'section',
    { className: 'view device-view', attrs: { 'aria-labelledby': 'device-title', 'data-testid': 'device-view' } },
    el('p', { className: 'crumbs' }, el('a', { attrs: { href: routeHash('fleet') }, text: '← Fleet' })),
    el('div', { className: 'view-head' }, title, state, facts),
    el(
      'div',
      { className: 'toolbar', attrs: { role: 'group', 'aria-label': 'Time range' } },
      el('span', { className: 'preset-group' }, ...presetButtons),
      panBack,
      panForward,
      backToLive,
      rangeLabel,
      datastoreField,
    ),
    error,
    el('div', { className: 'device-body' }, el('div', {}, chartsArea, note), shadow.element),
  );

  const redraw = createRedrawScheduler(draw);

  // ---- charts ----
  function chartWidth(): number {
    const first = charts.values().next().value as MetricChart | undefined;
    const width = first?.figure.querySelector<HTMLElement>('.chart')?.clientWidth ?? 0;
    return width > 0 ? width : chartsArea.clientWidth || 1000;
  }

  function chartFor(metric: string): MetricChart {
    let entry = charts.get(metric);
    if (entry) return entry;
    const value = el('span', { className: 'metric-value' });
    const container = el('div', { className: 'chart' });
    const figure = el(
      'figure',
      { className: 'metric-chart panel', attrs: { 'data-testid': 'metric-chart', 'data-metric': metric, 'data-points': '0' } },
      el('figcaption', {}, el('span', { className: 'metric-name', text: metric }), value),
      container,
    );
    chartsArea.append(figure);
    const chart = createTimeChart(container, {
      height: CHART_HEIGHT,
      yLabel: metric,
      seriesLabels: [metric],
      onRangeSelect: (from, to) => showWindow({ from, to }),
    });
    entry = { figure, chart, value };
    charts.set(metric, entry);
    return entry;
  }

  function destroyCharts(): void {
    for (const { chart, figure } of charts.values()) {
      chart.destroy();
      figure.remove();
    }
    charts.clear();
  }

  function draw(): void {
    if (!visible) return;
    for (const metric of series.metrics) {
      const { chart, figure, value } = chartFor(metric);
      const data = series.columnOf(metric);
      chart.setData(data);
      figure.dataset.points = String(series.countOf(metric));
      const ys = data[1];
      let last: number | null = null;
      for (let i = ys.length - 1; i >= 0 && last === null; i--) last = ys[i];
      setText(value, last === null ? '' : formatMetric(last));
    }
    element.dataset.points = String(series.length);
    if (historyDrawn) {
      const { startedAt, rowsInRange } = historyDrawn;
      historyDrawn = null;
      const points = series.length;
      queueMicrotask(() => {
        const detail: HistoryDrawnDetail = { deviceId, rowsInRange, points, ms: performance.now() - startedAt };
        window.dispatchEvent(new CustomEvent<HistoryDrawnDetail>(HISTORY_DRAWN_EVENT, { detail }));
      });
    }
    if (pendingTs.length > 0) {
      const detail: ChartDrawnDetail = { deviceId, drawnAt: 0, ts: pendingTs };
      pendingTs = [];
      // uPlot paints in a microtask after setData; this one is queued after it.
      queueMicrotask(() => {
        detail.drawnAt = Date.now();
        window.dispatchEvent(new CustomEvent<ChartDrawnDetail>(CHART_DRAWN_EVENT, { detail }));
      });
    }
    describeState();
  }

  function describeState(): void {
    element.dataset.following = String(following);
    for (const [i, button] of presetButtons.entries()) {
      button.setAttribute('aria-pressed', String(following && RANGE_PRESETS[i].ms === presetMs));
    }
    backToLive.disabled = following;
    const preset = RANGE_PRESETS.find((p) => p.ms === presetMs);
    setText(rangeLabel, following ? `Following live: last ${preset?.label ?? `${Math.round(presetMs / 60_000)} min`}` : describeWindow(fixedWindow));
    const hasData = series.length > 0;
    setText(
      note,
      !datastore
        ? 'Waiting for the live feed to name its datastores…'
        : hasData
          ? 'Drag across a chart to zoom into that time range.'
          : `No rows of ${deviceId} in ${datastore} in this window${following ? ' yet' : ''}.`,
    );
  }

  // ---- data ----
  function resetSeries(): void {
    series = new MetricSeries();
    buffered = null;
    pendingTs = [];
    destroyCharts();
  }

  function showError(text: string): void {
    error.textContent = text;
    error.hidden = text === '';
  }

  /** Fetches the current window (decimated to the chart width) and replaces the series with it. */
  async function load(): Promise<void> {
    if (!visible || !datastore) return;
    const seq = ++loadSeq;
    const started = generation;
    const now = Date.now();
    const range = following ? { from: now - presetMs, to: now + CLOCK_MARGIN_MS } : fixedWindow;
    syncLive();
    buffered = following ? [] : null;
    element.setAttribute('aria-busy', 'true');
    describeState();
    const startedAt = performance.now();
    try {
      const body = await ctx.api.request<HistoryBody>('GET', historyPath(deviceId, { datastore, ...range, points: pointsForWidth(chartWidth()) }));
      if (seq !== loadSeq || started !== generation) return;
      lastReload = Date.now();
      series.clear();
      series.add(decodeRows(body).rows);
      historyDrawn = { startedAt, rowsInRange: body.rowsInRange };
      showError('');
    } catch (cause) {
      if (seq !== loadSeq || started !== generation) return;
      showError(`Cannot load the history: ${describeError(cause)}`);
      series.clear();
    } finally {
      if (seq === loadSeq) element.removeAttribute('aria-busy');
    }
    const waiting = buffered;
    buffered = null;
    if (waiting && waiting.length > 0) addLive(waiting);
    if (following) series.trimBefore((series.lastX ?? Date.now()) - presetMs);
    redraw.request();
  }

  /** After a reconnect: the rows since the newest point, so the chart shows no gap. */
  async function fillGap(): Promise<void> {
    if (!visible || !following || !datastore || buffered) return;
    const started = generation;
    const seq = loadSeq;
    const now = Date.now();
    const from = series.lastX !== undefined ? series.lastX + 1 : now - presetMs;
    try {
      const body = await ctx.api.request<HistoryBody>('GET', historyPath(deviceId, { datastore, from, to: now + CLOCK_MARGIN_MS, points: pointsForWidth(chartWidth()) }));
      if (started !== generation || seq !== loadSeq) return;
      series.add(decodeRows(body).rows);
      series.trimBefore((series.lastX ?? now) - presetMs);
      redraw.request();
    } catch (cause) {
      if (started === generation) showError(`Cannot fill the gap after reconnecting: ${describeError(cause)}`);
    }
  }

  function addLive(rows: DecodedRow[]): void {
    series.add(rows);
    for (const row of rows) if (row.ts !== null && pendingTs.length < MAX_PENDING_TS) pendingTs.push(row.ts);
    series.trimBefore((series.lastX ?? Date.now()) - presetMs);
    // A long window followed for a while holds many raw rows: fetch it decimated again.
    if (series.length > Math.max(5_000, REDECIMATE_FACTOR * chartWidth()) && Date.now() - lastReload > REDECIMATE_MIN_INTERVAL_MS) {
      lastReload = Date.now();
      void load();
    }
  }

  /** Subscribed to the device's live rows exactly while shown and following. */
  function syncLive(): void {
    const want = visible && following && datastore !== '';
    if (want && !stopLive) {
      stopLive = ctx.live.subscribeRows({ datastore, deviceId, maxRowsPerFrame: pointsForWidth(chartWidth()) }, (frame) => {
        const { rows } = decodeRows(frame);
        if (rows.length === 0) return;
        if (buffered) {
          buffered.push(...rows);
          return;
        }
        addLive(rows);
        redraw.request();
      });
    } else if (!want && stopLive) {
      stopLive();
      stopLive = null;
    }
  }

  function restartLive(): void {
    stopLive?.();
    stopLive = null;
    syncLive();
  }

  // ---- navigation in time ----
  function choosePreset(ms: number): void {
    presetMs = ms;
    following = true;
    void load();
  }

  function showWindow(range: Window): void {
    following = false;
    fixedWindow = range;
    syncLive();
    void load();
  }

  function currentWindow(): Window {
    return following ? liveWindow(presetMs, Date.now()) : fixedWindow;
  }

  function pan(direction: -1 | 1): void {
    const next = panWindow(currentWindow(), direction, Date.now());
    if (next.live) {
      if (!following) goLive();
      return;
    }
    showWindow({ from: next.from, to: next.to });
  }

  function goLive(): void {
    following = true;
    void load();
  }

  // ---- the device's state ----
  function renderInfo(device: FleetDevice | undefined): void {
    if (!device) {
      setText(state, 'unknown');
      state.dataset.connected = 'unknown';
      setText(facts, 'Not in the registry and not seen since the broker started.');
      return;
    }
    setText(state, device.connected ? 'connected' : 'disconnected');
    state.dataset.connected = String(device.connected);
    const parts = [
      device.lastSeen ? `last seen ${formatAge(device.lastSeen, Date.now())}` : 'never seen',
      `${Math.round(device.messagesPerMinute * 10) / 10} msgs/min`,
      device.openAlerts > 0 ? `${device.openAlerts} open alert${device.openAlerts === 1 ? '' : 's'}` : 'no open alerts',
      device.thingTypeName ? `type ${device.thingTypeName}` : '',
      device.groups.length > 0 ? `groups ${device.groups.join(', ')}` : '',
    ].filter(Boolean);
    setText(facts, parts.join(' · '));
  }

  async function refreshInfo(started: number): Promise<void> {
    if (infoTimer !== null) clearTimeout(infoTimer);
    infoTimer = null;
    try {
      const body = await ctx.api.request<FleetDeviceBody>('GET', `/api/fleet/${encodeURIComponent(deviceId)}`);
      if (started !== generation) return;
      renderInfo(body?.device);
    } catch (cause) {
      if (started !== generation) return;
      // 404: neither registered nor seen since the broker started (renderInfo says so)
      if (cause instanceof ApiError && cause.status === 404) renderInfo(undefined);
      else setText(facts, `Cannot load the device's state: ${describeError(cause)}`);
    }
    if (started !== generation) return;
    if (infoTimer !== null) clearTimeout(infoTimer);
    infoTimer = setTimeout(() => void refreshInfo(started), INFO_REFRESH_MS);
  }

  function chooseDatastore(datastores: readonly string[]): void {
    cancelWait = null;
    if (!datastores.includes(datastore)) datastore = datastores[0] ?? '';
    datastoreSelect.replaceChildren(...datastores.map((name) => el('option', { attrs: { value: name, selected: name === datastore }, text: name })));
    datastoreField.hidden = datastores.length < 2;
    void load();
  }

  return {
    element,
    show(params) {
      const id = params[0] ?? '';
      if (id !== deviceId) {
        deviceId = id;
        following = true;
        resetSeries();
        showError('');
        setText(title, id);
        setText(state, '…');
        state.dataset.connected = 'unknown';
        setText(facts, '');
      }
      visible = true;
      generation++;
      void refreshInfo(generation);
      shadow.show(id);
      stopReconnect = ctx.live.onReconnect(() => {
        // The server forgot the subscription with the old socket; the hub resent it. Fetch the gap.
        void fillGap();
      });
      cancelWait = whenDatastoresKnown(ctx.live, chooseDatastore);
      restartLive();
      describeState();
    },
    hide() {
      visible = false;
      generation++;
      loadSeq++;
      buffered = null;
      if (infoTimer !== null) clearTimeout(infoTimer);
      infoTimer = null;
      cancelWait?.();
      cancelWait = null;
      stopReconnect?.();
      stopReconnect = null;
      stopLive?.();
      stopLive = null;
      shadow.hide();
      redraw.cancel();
      pendingTs = [];
    },
  };
}
