// Dataset content as CSV (RFC 4180): a header row, CRLF line ends, a field quoted when it holds a
// comma, a quote, CR or LF (quotes doubled inside). NULL is an empty field; nested values
// (lists, structs, maps) are written as JSON text.

export function toCsv(columns: readonly { name: string }[], rows: readonly (readonly unknown[])[]): string {
  const lines = [columns.map((c) => field(c.name)).join(',')];
  for (const row of rows) lines.push(row.map((v) => field(cell(v))).join(','));
  return lines.join('\r\n') + '\r\n';
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

function field(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
