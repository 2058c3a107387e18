// A dataset content as an HTML table: a header per column (its type in the title), the rows the
// server sent (at most 10,000) and a caption that says how many and whether the CSV has more.

import type { DatasetContentBody } from '../../../broker/contract.js';
import { h } from './html.js';
import { cellText, isNumericType } from './dataset-data.js';
import { formatCount } from './text.js';

/** The server sends at most this many rows (DatasetContentBody.truncated says when there are more). */
export const MAX_TABLE_ROWS = 10_000;

export function contentTable(content: DatasetContentBody): HTMLTableElement {
  const numeric = content.columns.map((c) => isNumericType(c.type));
  const rows = content.rows.length > MAX_TABLE_ROWS ? content.rows.slice(0, MAX_TABLE_ROWS) : content.rows;
  const truncated = content.truncated || rows.length < content.rows.length;

  const caption = h(
    'caption',
    {},
    `${formatCount(rows.length)} row${rows.length === 1 ? '' : 's'}`,
    truncated ? h('strong', { 'data-testid': 'dataset-truncated' }, ` — only the first ${formatCount(rows.length)} are shown; the CSV has them all`) : '',
  );
  const head = h('thead', {}, h('tr', {}, ...content.columns.map((c) => h('th', { scope: 'col', title: c.type }, c.name))));

  // one string per cell through textContent: fast enough for 10,000 rows, and never parsed as HTML
  const body = document.createElement('tbody');
  for (const row of rows) {
    const tr = document.createElement('tr');
    for (let i = 0; i < content.columns.length; i++) {
      const td = document.createElement('td');
      if (numeric[i]) td.className = 'num';
      td.textContent = cellText(row[i]);
      tr.append(td);
    }
    body.append(tr);
  }
  return h('table', { class: 'dataset-table', 'data-testid': 'dataset-table', 'data-rows': rows.length, 'data-truncated': String(truncated) }, caption, head, body);
}
