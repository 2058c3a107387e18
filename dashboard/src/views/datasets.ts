// The datasets view (#/datasets, #/datasets/<name>): the datasets, and for the chosen one its latest
// content as a table and a chart, a "Run now" button and the CSV download. New content announced
// on the live feed is loaded without a page reload; other datasets are marked as updated.
//
// DOM hooks for the browser tests: list links `a[data-dataset]` (aria-current="true" when chosen,
// data-updated="true" when new content came while another was chosen), `[data-testid="dataset-run"]`
// (disabled and aria-busy while running), `[data-testid="dataset-status"]` (role=status),
// `[data-testid="dataset-content"][data-version-id]`, `[data-testid="dataset-table"]` with
// data-rows/data-truncated, `[data-testid="dataset-truncated"]`, `[data-testid="dataset-chart"]`,
// `a[data-testid="dataset-csv"][download]`, `[data-testid="dataset-empty"]`,
// `[data-testid="datasets-error"]` (role=alert).

import type { DatasetContentBody, DatasetListBody, LiveDatasetFrame } from '../../../broker/contract.js';
import { createTimeChart, type TimeChart } from '../chart.js';
import type { Unsubscribe, View, ViewContext, ViewFactory } from '../view.js';
import { chartInputOf } from './dataset-data.js';
import { createErrorBox, h, timeElement } from './html.js';
import { contentTable } from './table.js';
import { errorCode, errorStatus, formatTime } from './text.js';

const CHART_HEIGHT = 260;

export const createDatasetsView: ViewFactory = (ctx: ViewContext): View => {
  let names: string[] = [];
  let selected: string | undefined;
  let content: DatasetContentBody | undefined;
  /** datasets whose "Run now" is in flight (kept across switching between datasets) */
  const running = new Set<string>();
  /** datasets with new content since the operator last looked at them */
  const updated = new Set<string>();
  /** bumped by each content load: an older answer never replaces a newer one */
  let loadToken = 0;
  let subscriptions: Unsubscribe[] = [];
  let chart: TimeChart | undefined;

  const errors = createErrorBox('datasets-error');
  const list = h('ul', { class: 'dataset-list', 'data-testid': 'dataset-list', 'aria-label': 'Datasets' });
  const listNote = h('p', { class: 'note', 'data-testid': 'dataset-list-note' });

  const title = h('h3', { 'data-testid': 'dataset-title' }, 'Choose a dataset');
  const runButton = h('button', { type: 'button', 'data-testid': 'dataset-run', hidden: true }, 'Run now');
  const csvLink = h('a', { class: 'button-link', 'data-testid': 'dataset-csv', download: true, hidden: true }, 'Download CSV');
  const status = h('p', { class: 'note', role: 'status', 'aria-live': 'polite', 'data-testid': 'dataset-status' });
  const meta = h('p', { class: 'note', 'data-testid': 'dataset-meta' });
  const empty = h('p', { class: 'note', 'data-testid': 'dataset-empty', hidden: true });
  const chartBox = h('div', { class: 'dataset-chart', 'data-testid': 'dataset-chart', hidden: true });
  const tableBox = h('div', { class: 'scroll dataset-table-box' });
  const contentBox = h('div', { 'data-testid': 'dataset-content' }, meta, empty, chartBox, tableBox);
  const detail = h(
    'div',
    { class: 'dataset-detail panel' },
    h('div', { class: 'view-actions' }, title, runButton, csvLink),
    status,
    contentBox,
  );

  const element = h(
    'section',
    { class: 'view view-datasets', 'data-testid': 'datasets-view', 'aria-labelledby': 'datasets-title' },
    h('div', { class: 'view-head' }, h('h2', { id: 'datasets-title' }, 'Datasets')),
    errors.element,
    h('div', { class: 'datasets-layout' }, h('nav', { class: 'dataset-nav panel', 'aria-label': 'Datasets' }, list, listNote), detail),
  );

  // ---- list ----

  function renderList(): void {
    list.replaceChildren(
      ...names.map((name) => {
        const isNew = updated.has(name);
        const link = h(
          'a',
          {
            href: `#/datasets/${encodeURIComponent(name)}`,
            'data-dataset': name,
            'data-updated': isNew ? 'true' : undefined,
            'aria-current': name === selected ? 'true' : undefined,
          },
          name,
          isNew ? h('span', { class: 'badge badge-new' }, 'new content') : null,
        );
        return h('li', {}, link);
      }),
    );
    listNote.textContent = names.length === 0 ? 'No datasets defined.' : '';
  }

  async function loadList(): Promise<void> {
    try {
      const body = await ctx.api.request<DatasetListBody>('GET', '/api/datasets');
      names = [...body.datasets].sort();
      renderList();
    } catch (error) {
      errors.show(error);
    }
  }

  // ---- the chosen dataset ----

  function renderRunButton(): void {
    const busy = selected !== undefined && running.has(selected);
    runButton.hidden = selected === undefined;
    runButton.disabled = busy;
    runButton.textContent = busy ? 'Running…' : 'Run now';
    if (busy) runButton.setAttribute('aria-busy', 'true');
    else runButton.removeAttribute('aria-busy');
    if (selected !== undefined) runButton.setAttribute('aria-label', busy ? `Running dataset ${selected}` : `Run dataset ${selected} now`);
  }

  function destroyChart(): void {
    chart?.destroy();
    chart = undefined;
    chartBox.replaceChildren();
    chartBox.hidden = true;
  }

  function renderContent(): void {
    destroyChart();
    if (content === undefined) {
      contentBox.removeAttribute('data-version-id');
      meta.textContent = '';
      tableBox.replaceChildren();
      csvLink.hidden = true;
      csvLink.removeAttribute('href');
      return;
    }
    contentBox.dataset.versionId = content.versionId;
    empty.hidden = true;
    meta.replaceChildren(`Version ${content.versionId}, completed `, timeElement(content.completedAt), '.');
    csvLink.href = content.csvPath;
    csvLink.setAttribute('download', `${content.datasetName}-${content.versionId}.csv`);
    csvLink.hidden = false;
    tableBox.replaceChildren(contentTable(content));
    const input = chartInputOf(content);
    if (input !== undefined && input.data[0].length > 0) {
      chartBox.hidden = false; // shown first: the chart measures its container's width
      chart = createTimeChart(chartBox, { seriesLabels: input.seriesLabels, xTime: input.xTime, height: CHART_HEIGHT });
      chart.setData(input.data);
      chartBox.setAttribute('aria-label', `Chart of ${input.seriesLabels.join(', ')} by ${input.xColumn ?? 'row number'}`);
      chartBox.setAttribute('role', 'img');
    }
  }

  function showNoContent(name: string): void {
    content = undefined;
    renderContent();
    empty.textContent = `${name} has no content yet. Run it now to produce some.`;
    empty.hidden = false;
  }

  /** GET the latest content of `name` and show it (unless the operator moved on meanwhile). */
  async function loadLatest(name: string): Promise<boolean> {
    const token = ++loadToken;
    contentBox.setAttribute('aria-busy', 'true');
    try {
      const body = await ctx.api.request<DatasetContentBody>('GET', `/api/datasets/${encodeURIComponent(name)}/contents/latest`);
      if (token !== loadToken || name !== selected) return false;
      content = body;
      renderContent();
      return true;
    } catch (error) {
      if (token !== loadToken || name !== selected) return false;
      if (errorCode(error) === 'ResourceNotFoundException' || errorStatus(error) === 404) showNoContent(name);
      else errors.show(error);
      return false;
    } finally {
      if (token === loadToken) contentBox.removeAttribute('aria-busy');
    }
  }

  function select(name: string | undefined): void {
    if (name !== selected) {
      content = undefined;
      renderContent();
      empty.hidden = true;
      status.textContent = '';
    }
    selected = name;
    title.textContent = name ?? 'Choose a dataset';
    renderRunButton();
    if (name === undefined) return;
    updated.delete(name);
    renderList();
    // a run in flight brings the content with its answer
    if (!running.has(name)) void loadLatest(name);
  }

  async function runNow(): Promise<void> {
    const name = selected;
    if (name === undefined || running.has(name)) return;
    running.add(name);
    renderRunButton();
    errors.clear();
    status.textContent = `Running ${name}…`;
    try {
      const body = await ctx.api.request<DatasetContentBody>('POST', `/api/datasets/${encodeURIComponent(name)}/contents`, {});
      if (name !== selected) return;
      if (body.state === 'FAILED') {
        status.textContent = '';
        errors.show(`The run of ${name} failed${body.reason ? `: ${body.reason}` : ''}`);
        return;
      }
      loadToken++; // this answer is newer than any latest-content request still in flight
      contentBox.removeAttribute('aria-busy');
      content = body;
      renderContent();
      status.textContent = `Ran at ${formatTime(body.completedAt)}.`;
    } catch (error) {
      if (name === selected) {
        status.textContent = '';
        errors.show(error);
      }
    } finally {
      running.delete(name);
      if (name === selected) renderRunButton();
    }
  }

  runButton.addEventListener('click', () => void runNow());

  // ---- live feed ----

  function onDataset(frame: LiveDatasetFrame): void {
    const name = frame.datasetName;
    if (!names.includes(name)) {
      void loadList(); // a dataset created since the list was read
      if (name !== selected) {
        if (frame.state === 'SUCCEEDED') updated.add(name); // marked once the list has it
        return;
      }
    }
    if (name !== selected) {
      if (frame.state === 'SUCCEEDED' && !updated.has(name)) {
        updated.add(name);
        renderList();
      }
      return;
    }
    if (frame.state === 'FAILED') {
      status.textContent = `A run failed at ${formatTime(frame.completedAt)}${frame.reason ? `: ${frame.reason}` : ''}.`;
      return;
    }
    // our own run's answer brings this content; a version already shown needs nothing
    if (running.has(name) || content?.versionId === frame.versionId) return;
    void loadLatest(name).then((loaded) => {
      if (loaded) status.textContent = `New content at ${formatTime(frame.completedAt)}.`;
    });
  }

  return {
    element,
    show(params) {
      subscriptions.forEach((off) => off());
      subscriptions = [
        ctx.live.onDataset(onDataset),
        ctx.live.onReconnect(() => {
          void loadList();
          if (selected !== undefined && !running.has(selected)) void loadLatest(selected);
        }),
      ];
      errors.clear();
      void loadList();
      const name = params[0] === undefined || params[0] === '' ? undefined : params[0];
      if (name !== selected) select(name);
      else if (name !== undefined && !running.has(name)) void loadLatest(name); // may have changed while hidden
    },
    hide() {
      subscriptions.forEach((off) => off());
      subscriptions = [];
    },
  };
};
