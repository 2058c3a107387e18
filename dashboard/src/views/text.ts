// Text the alerts, rules and datasets views show: times, counters and errors. Pure (no DOM), so
// the unit tests run it under Node.

/** Local date and time, `2024-05-01 13:04:05`: sortable by eye and the same width on every row. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) return '—';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A counter with thousands grouped (`12 345`), the way operators read large numbers. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return Math.trunc(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

/** A measured value with at most 4 significant decimals, `—` when there is none. */
export function formatValue(v: number | undefined): string {
  if (v === undefined || v === null) return '—';
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

/**
 * What a failed request or a thrown error says to the operator: `Code: message` for the coded
 * errors of our API (api.ts's ApiError, recognised by shape so the views do not depend on the
 * class), the message alone otherwise.
 */
export function errorText(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const e = error as { code?: unknown; message?: unknown };
    if (typeof e.code === 'string' && typeof e.message === 'string') return `${e.code}: ${e.message}`;
    if (typeof e.message === 'string') return e.message;
  }
  return String(error);
}

/** The error's code when it is one of our coded errors (e.g. ResourceNotFoundException). */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** The HTTP status of a failed request, when the error carries one. */
export function errorStatus(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null) {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number') return status;
  }
  return undefined;
}
