// The devices table: one row per device with its latest reading and last-seen age. Rows are kept
// by device id and only their cells' text is updated, so re-rendering costs no layout churn.

import { formatAge, formatReading } from './format.js';
import type { LatestByDevice } from './latest.js';

export interface DevicesTable {
  render(nowMs: number): void;
}

export function createDevicesTable(tbody: HTMLTableSectionElement, note: HTMLElement, latest: LatestByDevice): DevicesTable {
  const rows = new Map<string, HTMLTableRowElement>();

  function rowFor(deviceId: string): HTMLTableRowElement {
    let row = rows.get(deviceId);
    if (!row) {
      row = document.createElement('tr');
      row.dataset.deviceId = deviceId;
      const header = document.createElement('th');
      header.scope = 'row';
      header.textContent = deviceId;
      row.append(header);
      for (const field of ['temperature', 'humidity', 'battery', 'last-seen']) {
        const cell = document.createElement('td');
        cell.dataset.field = field;
        row.append(cell);
      }
      rows.set(deviceId, row);
    }
    return row;
  }

  return {
    render(nowMs) {
      const list = latest.list();
      list.forEach((device, index) => {
        const row = rowFor(device.deviceId);
        const cells = row.cells;
        setText(cells[1], formatReading(device.temperature, 2, ' °C'));
        setText(cells[2], formatReading(device.humidity, 1, ' %'));
        setText(cells[3], formatReading(device.battery, 1, ' %'));
        setText(cells[4], formatAge(device.lastSeen, nowMs));
        // Keep DOM order equal to the sorted order (a new device may sort in the middle).
        if (tbody.children[index] !== row) tbody.insertBefore(row, tbody.children[index] ?? null);
      });
      const hidden = latest.droppedDevices;
      setText(note, list.length === 0 ? 'No device has reported yet.' : hidden > 0 ? `${hidden} more devices not shown.` : '');
    },
  };
}

function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}
