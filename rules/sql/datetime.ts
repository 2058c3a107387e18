// Joda-Time / java.time style date patterns for parse_time() and time_to_epoch() (spec §1.8),
// over the platform's time-zone database (Intl). Supported letters: G y u M d E a H k h K m s S
// z Z X and 'quoted' literals. Zone names come from Intl in English, so some short names differ
// from Java's (Java `CET`, here `GMT+1`); zone ids and offsets parse as in Java.

type Field = { kind: 'literal'; text: string } | { kind: 'field'; letter: string; count: number };

const PATTERN_CACHE_MAX = 128;
const patternCache = new Map<string, Field[] | null>();

function compilePattern(pattern: string): Field[] | undefined {
  let fields = patternCache.get(pattern);
  if (fields === undefined) {
    fields = tokenizePattern(pattern);
    if (patternCache.size >= PATTERN_CACHE_MAX) patternCache.clear();
    patternCache.set(pattern, fields);
  }
  return fields ?? undefined;
}

function tokenizePattern(p: string): Field[] | null {
  const out: Field[] = [];
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    if (c === "'") {
      if (p[i + 1] === "'") { out.push({ kind: 'literal', text: "'" }); i += 2; continue; }
      const end = p.indexOf("'", i + 1);
      if (end < 0) return null;
      out.push({ kind: 'literal', text: p.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (p[j] === c) j++;
      if (!'GyuMdEaHkhKmsSzZX'.includes(c)) return null;
      out.push({ kind: 'field', letter: c, count: j - i });
      i = j;
      continue;
    }
    out.push({ kind: 'literal', text: c });
    i++;
  }
  return out;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

interface Wall { year: number; month: number; day: number; hour: number; minute: number; second: number; ms: number; weekday: number }

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short',
    });
    if (formatters.size < 512) formatters.set(zone, f);
  }
  return f;
}

function wallClock(epoch: number, zone: string): Wall {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(new Date(epoch))) parts[p.type] = p.value;
  return {
    year: Number(parts.year), month: Number(parts.month), day: Number(parts.day),
    hour: Number(parts.hour) % 24, minute: Number(parts.minute), second: Number(parts.second),
    ms: ((epoch % 1000) + 1000) % 1000,
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday!),
  };
}

/** Offset of `zone` from UTC at `epoch`, in milliseconds. */
function offsetAt(epoch: number, zone: string): number {
  const w = wallClock(epoch, zone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.ms) - epoch;
}

const zoneNameFormatters = new Map<string, Intl.DateTimeFormat>();

function zoneName(epoch: number, zone: string, long: boolean): string {
  const key = `${zone}|${long}`;
  let f = zoneNameFormatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: long ? 'long' : 'short' });
    if (zoneNameFormatters.size < 512) zoneNameFormatters.set(key, f);
  }
  const parts = f.formatToParts(new Date(epoch));
  return parts.find((p) => p.type === 'timeZoneName')?.value ?? zone;
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
}

function offsetText(offsetMs: number, colon: boolean, zForZero: boolean): string {
  if (zForZero && offsetMs === 0) return 'Z';
  const total = Math.round(Math.abs(offsetMs) / 60000);
  const sign = offsetMs < 0 ? '-' : '+';
  return `${sign}${pad(Math.floor(total / 60), 2)}${colon ? ':' : ''}${pad(total % 60, 2)}`;
}

/** Formats `epoch` in `zone`; undefined for an unknown zone or an unsupported pattern. */
export function formatTime(pattern: string, epoch: number, zone: string): string | undefined {
  const fields = compilePattern(pattern);
  if (!fields || !Number.isFinite(epoch)) return undefined;
  let w: Wall;
  try { w = wallClock(epoch, zone); } catch { return undefined; }
  let out = '';
  for (const f of fields) {
    if (f.kind === 'literal') { out += f.text; continue; }
    const n = f.count;
    switch (f.letter) {
      case 'G': out += w.year > 0 ? 'AD' : 'BC'; break;
      case 'y': case 'u': out += n === 2 ? pad(w.year % 100, 2) : pad(w.year, n); break;
      case 'M': out += n >= 4 ? MONTHS[w.month - 1] : n === 3 ? MONTHS[w.month - 1]!.slice(0, 3) : pad(w.month, n); break;
      case 'd': out += pad(w.day, n); break;
      case 'E': out += n >= 4 ? DAYS[w.weekday] : DAYS[w.weekday]!.slice(0, 3); break;
      case 'a': out += w.hour < 12 ? 'AM' : 'PM'; break;
      case 'H': out += pad(w.hour, n); break;
      case 'k': out += pad(w.hour === 0 ? 24 : w.hour, n); break;
      case 'h': out += pad(w.hour % 12 === 0 ? 12 : w.hour % 12, n); break;
      case 'K': out += pad(w.hour % 12, n); break;
      case 'm': out += pad(w.minute, n); break;
      case 's': out += pad(w.second, n); break;
      case 'S': out += pad(w.ms, 3).slice(0, n).padEnd(n, '0'); break;
      case 'z': out += zoneName(epoch, zone, n >= 4); break;
      case 'Z': out += offsetText(offsetAt(epoch, zone), n === 2 || n >= 5, false); break;
      case 'X': out += offsetText(offsetAt(epoch, zone), n >= 3, true); break;
    }
  }
  return out;
}

/** Parses `text` with `pattern` to epoch milliseconds; without a zone in the text, UTC. */
export function parseTime(text: string, pattern: string): number | undefined {
  const fields = compilePattern(pattern);
  if (!fields) return undefined;
  let re = '^';
  const order: Field[] = [];
  for (const f of fields) {
    if (f.kind === 'literal') { re += escapeRegex(f.text); continue; }
    order.push(f);
    re += fieldRegex(f);
  }
  const m = new RegExp(`${re}$`, 'i').exec(text);
  if (!m) return undefined;
  let year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, ms = 0;
  let pm: boolean | undefined;
  let zone: string | undefined;
  let offset: number | undefined;
  order.forEach((f, i) => {
    if (f.kind !== 'field') return;
    const v = m[i + 1]!;
    switch (f.letter) {
      case 'y': case 'u': year = f.count === 2 ? 2000 + Number(v) : Number(v); break;
      case 'M': month = /^\d+$/.test(v) ? Number(v) : MONTHS.findIndex((n) => n.toLowerCase().startsWith(v.toLowerCase().slice(0, 3))) + 1; break;
      case 'd': day = Number(v); break;
      case 'H': case 'k': hour = Number(v) % 24; break;
      case 'h': case 'K': hour = Number(v) % 12; break;
      case 'a': pm = v.toUpperCase() === 'PM'; break;
      case 'm': minute = Number(v); break;
      case 's': second = Number(v); break;
      case 'S': ms = Math.round(Number(`0.${v}`) * 1000); break;
      case 'z': case 'Z': case 'X':
        if (/^(Z|[+-]\d{2}:?\d{2})$/i.test(v)) offset = parseOffset(v);
        else if (/^(UTC|GMT)$/i.test(v)) offset = 0;
        else zone = v;
        break;
    }
  });
  if (pm !== undefined && pm) hour += 12;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (!Number.isFinite(local) || month < 1) return undefined;
  if (offset !== undefined) return local - offset;
  if (zone === undefined) return local;
  try {
    // The offset at the local instant may differ from the one at the true instant near a DST
    // change; a second pass settles it.
    let guess = local - offsetAt(local, zone);
    guess = local - offsetAt(guess, zone);
    return guess;
  } catch {
    return undefined;
  }
}

function parseOffset(v: string): number {
  if (v.toUpperCase() === 'Z') return 0;
  const digits = v.replace(':', '');
  const sign = digits[0] === '-' ? -1 : 1;
  return sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5))) * 60000;
}

function fieldRegex(f: Extract<Field, { kind: 'field' }>): string {
  switch (f.letter) {
    case 'M': return f.count >= 3 ? '([A-Za-z]+)' : '(\\d{1,2})';
    case 'E': return '([A-Za-z]+)';
    case 'a': return '(AM|PM)';
    case 'G': return '(AD|BC)';
    case 'y': case 'u': return f.count === 2 ? '(\\d{2})' : '(-?\\d{1,9})';
    case 'S': return `(\\d{1,${Math.max(f.count, 1)}})`;
    case 'z': case 'Z': case 'X': return '(Z|[+-]\\d{2}:?\\d{2}|[A-Za-z_]+(?:/[A-Za-z_+-]+)*)';
    default: return `(\\d{1,${Math.max(f.count, 2)}})`;
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
