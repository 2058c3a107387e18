// Dataset content (CSV) back into rows, as AWS IoT Analytics hands a content to IoT Events: each
// result row becomes one message whose fields are the header's column names and whose values are
// the CSV text of the cells (spec §5.1, iotEventsDestinationConfiguration). Reads what csv.ts
// writes and what AWS wrote: RFC 4180 quoting (doubled quotes inside), CRLF or LF line ends.
// IoT Events delivery itself is refused here (no IoT Events to deliver to); this is its row shape.
import { AnalyticsError } from '../errors.js';

/** One object per data row, column name → cell text; a cell missing from a short row is "". */
export function contentRows(csv: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(csv);
  if (!header) return [];
  return rows.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ''])));
}

/** The records of a CSV text; a final line end does not start an empty record. Parsing stops
 * after `maxRecords` records (the rest of the text is not looked at). */
export function parseCsv(text: string, maxRecords = Infinity): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false; // inside a quoted field
  let i = 0;
  const endCell = () => {
    record.push(cell);
    cell = '';
  };
  const endRecord = () => {
    endCell();
    records.push(record);
    record = [];
  };
  while (i < text.length && records.length < maxRecords) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else cell += c;
      i++;
      continue;
    }
    if (c === '"' && cell === '') quoted = true;
    else if (c === ',') endCell();
    else if (c === '\r' && text[i + 1] === '\n') {
      endRecord();
      i++;
    } else if (c === '\n' || c === '\r') endRecord();
    else cell += c;
    i++;
  }
  if (records.length >= maxRecords) return records;
  if (quoted) throw new AnalyticsError('InvalidRequestException', 'the CSV ends inside a quoted field');
  if (cell !== '' || record.length > 0) endRecord();
  return records;
}
