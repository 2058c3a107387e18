// The device view's time windows, as pure functions: range presets, the history request for a
// window, panning, and how many points a chart of some width wants.

export interface RangePreset {
  id: string;
  label: string;
  ms: number;
}

export const RANGE_PRESETS: readonly RangePreset[] = [
  { id: '15m', label: '15 min', ms: 15 * 60_000 },
  { id: '1h', label: '1 h', ms: 60 * 60_000 },
  { id: '24h', label: '24 h', ms: 24 * 60 * 60_000 },
  { id: '7d', label: '7 d', ms: 7 * 24 * 60 * 60_000 },
];

export const DEFAULT_PRESET = RANGE_PRESETS[0];

/** The server decimates to at most 10,000 buckets; a chart needs about one per pixel. */
export function pointsForWidth(widthPx: number): number {
  if (!Number.isFinite(widthPx) || widthPx <= 0) return 1000;
  return Math.min(10_000, Math.max(50, Math.round(widthPx)));
}

export interface HistoryQuery {
  datastore: string;
  /** epoch ms, inclusive */
  from: number;
  /** epoch ms, exclusive */
  to: number;
  points: number;
}

/** `GET /api/devices/{deviceId}/history?...` for one window. */
export function historyPath(deviceId: string, query: HistoryQuery): string {
  const params = new URLSearchParams({
    datastore: query.datastore,
    from: String(Math.floor(query.from)),
    to: String(Math.ceil(query.to)),
    points: String(query.points),
  });
  return `/api/devices/${encodeURIComponent(deviceId)}/history?${params.toString()}`;
}

export interface Window {
  from: number;
  to: number;
}

/**
 * The window moved by half its span (`direction` -1: earlier, 1: later). A window moved past
 * `now` is the live window again (`live: true`), ending at now.
 */
export function panWindow(window: Window, direction: -1 | 1, now: number): Window & { live: boolean } {
  const span = Math.max(1, window.to - window.from);
  const shift = (span / 2) * direction;
  const to = window.to + shift;
  if (direction > 0 && to >= now) return { from: now - span, to: now, live: true };
  return { from: window.from + shift, to, live: false };
}

/** The window a live view shows: the preset's span up to now. */
export function liveWindow(presetMs: number, now: number): Window {
  return { from: now - presetMs, to: now };
}

/** "12:03:10 – 12:18:10" within a day, with dates when the window spans days. */
export function describeWindow(window: Window, toText: (ms: number, withDate: boolean) => string = defaultTimeText): string {
  const withDate = window.to - window.from >= 24 * 60 * 60_000 || new Date(window.from).toDateString() !== new Date(window.to).toDateString();
  return `${toText(window.from, withDate)} – ${toText(window.to, withDate)}`;
}

function defaultTimeText(ms: number, withDate: boolean): string {
  const date = new Date(ms);
  return withDate ? date.toLocaleString() : date.toLocaleTimeString();
}
