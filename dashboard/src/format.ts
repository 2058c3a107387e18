// Display formatting shared by the panels. Pure.

/** "3 s ago", "2 min ago", "1 h ago"; "just now" under a second; "—" when never. */
export function formatAge(thenMs: number, nowMs: number): string {
  if (!(thenMs > 0)) return '—';
  const seconds = Math.max(0, Math.floor((nowMs - thenMs) / 1000));
  if (seconds < 1) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  return `${Math.floor(minutes / 60)} h ago`;
}

/** A number with fixed decimals, or "—" when missing. */
export function formatReading(value: number | null, decimals: number, unit = ''): string {
  return value === null ? '—' : `${value.toFixed(decimals)}${unit}`;
}

/** A dataset cell: null as empty, objects as JSON, everything else as text. */
export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
