// The datasets panel: the list from GET /api/datasets, a Run button per dataset, the result of
// POST /api/datasets/<name>/run as a table, and API errors ({code, message}) shown inline.

import { ApiError, listDatasets, runDataset, type DatasetResult, type FetchLike } from './api.js';
import { formatCell } from './format.js';

/** Rendering thousands of rows would freeze the page; the rest are counted in the caption. */
const MAX_RESULT_ROWS = 500;

export interface DatasetsPanelElements {
  list: HTMLUListElement;
  refresh: HTMLButtonElement;
  result: HTMLElement;
  error: HTMLElement;
}

export function createDatasetsPanel(elements: DatasetsPanelElements, fetchFn: FetchLike): { load(): Promise<void> } {
  const { list, refresh, result, error } = elements;

  function showError(cause: unknown): void {
    const text = cause instanceof ApiError ? `${cause.code}: ${cause.message}` : String(cause);
    error.textContent = text;
    error.hidden = false;
  }

  function clearError(): void {
    error.textContent = '';
    error.hidden = true;
  }

  async function run(name: string, button: HTMLButtonElement): Promise<void> {
    clearError();
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    result.setAttribute('aria-busy', 'true');
    try {
      renderResult(result, await runDataset(fetchFn, name));
    } catch (cause) {
      showError(cause);
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
      result.removeAttribute('aria-busy');
    }
  }

  async function load(): Promise<void> {
    clearError();
    refresh.disabled = true;
    try {
      const names = await listDatasets(fetchFn);
      list.replaceChildren(
        ...names.map((name) => {
          const item = document.createElement('li');
          const label = document.createElement('span');
          label.textContent = name;
          const button = document.createElement('button');
          button.type = 'button';
          button.textContent = 'Run';
          button.setAttribute('aria-label', `Run dataset ${name}`);
          button.addEventListener('click', () => void run(name, button));
          item.append(label, button);
          return item;
        }),
      );
      if (names.length === 0) {
        const item = document.createElement('li');
        item.textContent = 'No datasets defined.';
        list.replaceChildren(item);
      }
    } catch (cause) {
      showError(cause);
    } finally {
      refresh.disabled = false;
    }
  }

  refresh.addEventListener('click', () => void load());
  return { load };
}

function renderResult(container: HTMLElement, data: DatasetResult): void {
  const caption = document.createElement('caption');
  const shown = Math.min(data.rows.length, MAX_RESULT_ROWS);
  const ranAt = Number.isFinite(data.ranAt) ? new Date(data.ranAt).toLocaleTimeString() : '?';
  caption.textContent =
    `${data.datasetName}: ${data.rows.length} row${data.rows.length === 1 ? '' : 's'}, ran at ${ranAt}` +
    (shown < data.rows.length ? ` (first ${shown} shown)` : '');

  const headRow = document.createElement('tr');
  for (const column of data.columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = column.name;
    th.title = column.type;
    headRow.append(th);
  }
  const thead = document.createElement('thead');
  thead.append(headRow);

  const tbody = document.createElement('tbody');
  for (const row of data.rows.slice(0, shown)) {
    const tr = document.createElement('tr');
    for (let i = 0; i < data.columns.length; i++) {
      const td = document.createElement('td');
      td.textContent = formatCell(Array.isArray(row) ? row[i] : undefined);
      tr.append(td);
    }
    tbody.append(tr);
  }

  const table = document.createElement('table');
  table.className = 'result';
  table.append(caption, thead, tbody);
  container.replaceChildren(table);
}
