// Entry of the dashboard: wires the live socket to the chart and devices table (one redraw per
// animation frame at most) and starts the datasets panel.

import { createLiveChart } from './chart.js';
import { createDatasetsPanel } from './datasets.js';
import { createDevicesTable } from './devices.js';
import { readingsFromFrame } from './frames.js';
import { LatestByDevice } from './latest.js';
import { LiveClient, liveUrl, type LiveState, type SocketLike } from './live.js';
import { SeriesStore } from './series.js';

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`dashboard: #${id} is missing from index.html`);
  return element as T;
}

const stateLabel = byId<HTMLElement>('connection-state');
const chartNote = byId<HTMLElement>('chart-note');
const series = new SeriesStore();
const latest = new LatestByDevice();
const chart = createLiveChart(byId('chart'));
const devicesTable = createDevicesTable(byId('devices-body'), byId('devices-note'), latest);

function describe(state: LiveState): string {
  switch (state.kind) {
    case 'connecting':
      return state.attempt === 0 ? 'connecting…' : `connecting (attempt ${state.attempt + 1})…`;
    case 'live':
      return `live: ${state.datastore}`;
    case 'no-datastore':
      return 'connected, no datastore to follow';
    case 'reconnecting':
      return `disconnected, retrying in ${Math.ceil(state.inMs / 1000)} s`;
    case 'stopped':
      return 'stopped';
  }
}

function showState(state: LiveState): void {
  stateLabel.textContent = describe(state);
  stateLabel.dataset.state = state.kind;
}

let frameRequested = false;
let tableRevision = -1;

function render(): void {
  frameRequested = false;
  if (series.dirty) {
    chart.update(series.deviceIds, series.toAligned());
    const hidden = series.droppedDevices;
    const notes = [
      hidden > 0 ? `Charting the first ${series.deviceIds.length} devices; ${hidden} more not charted.` : '',
      // The server drops rows for a client that cannot keep up; say so rather than draw gaps silently.
      live.droppedRows > 0 ? `${live.droppedRows} rows skipped by the server (this page fell behind).` : '',
    ];
    chartNote.textContent = notes.filter(Boolean).join(' ');
  }
  if (latest.revision !== tableRevision) {
    tableRevision = latest.revision;
    devicesTable.render(Date.now());
  }
}

function requestRender(): void {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(render);
}

/** The browser WebSocket behind the small interface LiveClient is written (and tested) against. */
function openSocket(url: string): SocketLike {
  const ws = new WebSocket(url);
  const socket: SocketLike = {
    send: (data) => ws.send(data),
    close: () => ws.close(),
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
  };
  ws.onopen = (event) => socket.onopen?.(event);
  ws.onmessage = (event) => socket.onmessage?.(event);
  ws.onclose = (event) => socket.onclose?.(event);
  ws.onerror = (event) => socket.onerror?.(event);
  return socket;
}

const live = new LiveClient({
  url: liveUrl(location.protocol, location.host),
  createSocket: openSocket,
  onState: showState,
  onRows(frame) {
    const { readings } = readingsFromFrame(frame);
    series.add(readings);
    latest.update(readings);
    requestRender();
  },
});
live.start();

// "last seen" ages change with time even when no row arrives.
setInterval(() => devicesTable.render(Date.now()), 1000);

const datasets = createDatasetsPanel(
  { list: byId('datasets-list'), refresh: byId('datasets-refresh'), result: byId('dataset-result'), error: byId('datasets-error') },
  (url, init) => fetch(url, init),
);
void datasets.load();
