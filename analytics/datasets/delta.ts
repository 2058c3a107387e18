// deltaTime filters (spec §5.2): each run of an incremental dataset reads only the rows whose event
// time falls in its window, so consecutive contents never count a row twice.
//
// Window: scheduled runs use [scheduleTime − period + offset, scheduleTime + offset) (the period is
// the time between two fires of the trigger); manual runs (CreateDatasetContent) continue from the
// previous successful window's end, or from the epoch for the first one, up to now + offset.
//
// How the filter is applied: `timeExpression` names columns of the datastore (e.g.
// `from_unixtime(timestamp)`), not of the query's result, so wrapping the whole query would be
// wrong (the result may aggregate or rename them). Instead every datastore table the query reads
// (a name after FROM, JOIN, or a comma in a FROM list) is replaced by a filtered subquery:
//   FROM telemetry_store t   →   FROM (SELECT * FROM telemetry_store WHERE <window on expr>) t
// keeping the alias (or adding the table's own name as alias), so the rest of the query is
// untouched. Bounds compare epoch seconds (DuckDB `epoch()`), so the expression may yield a
// TIMESTAMP (taken as UTC, like `__dt`) or a TIMESTAMP WITH TIME ZONE.
import { AnalyticsError } from '../errors.js';
import type { Token } from './sql-tokens.js';
import { identifierOf, nextSignificant, previousSignificant, quoteIdentifier, render, tokenize } from './sql-tokens.js';

export interface DeltaWindow {
  /** epoch ms, inclusive */
  start: number;
  /** epoch ms, exclusive */
  end: number;
}

export function scheduledWindow(scheduleTime: number, periodMs: number, offsetSeconds: number): DeltaWindow {
  const offset = offsetSeconds * 1000;
  return { start: scheduleTime - periodMs + offset, end: scheduleTime + offset };
}

export function manualWindow(previousEnd: number | undefined, now: number, offsetSeconds: number): DeltaWindow {
  const end = now + offsetSeconds * 1000;
  const start = Math.min(previousEnd ?? 0, end);
  return { start, end };
}

/** Words after a table name that are not an alias. */
const NOT_ALIAS = new Set([
  'where', 'group', 'order', 'limit', 'offset', 'having', 'window', 'qualify', 'join', 'left', 'right', 'inner',
  'outer', 'full', 'cross', 'natural', 'positional', 'asof', 'anti', 'semi', 'lateral', 'on', 'using', 'union',
  'except', 'intersect', 'fetch', 'tablesample', 'using', 'pivot', 'unpivot',
]);
/** Words that end a FROM list at the same parenthesis depth. */
const END_FROM = new Set(['where', 'group', 'order', 'limit', 'offset', 'having', 'window', 'qualify', 'on', 'using', 'union', 'except', 'intersect', 'select']);
/** Words that may precede `(` without it being a function call. */
const KEYWORDS_BEFORE_PAREN = new Set(['from', 'join', 'in', 'exists', 'as', 'and', 'or', 'not', 'select', 'where', 'on', 'union', 'all', 'lateral', 'then', 'else', 'when', 'any', 'some']);

interface Level {
  /** inside a function call's parentheses (EXTRACT(year FROM ts) is not a table reference) */
  call: boolean;
  inFrom: boolean;
  expectTable: boolean;
}

/**
 * Rewrites every reference to one of `tables` (lower-cased datastore names) in a FROM list or JOIN
 * into a subquery filtered on the window. Throws InvalidRequestException when the query reads no
 * datastore: an incremental dataset without one cannot be windowed.
 */
export function applyDeltaFilter(sql: string, tables: ReadonlySet<string>, timeExpression: string, window: DeltaWindow): string {
  const tokens = tokenize(sql);
  const out: Token[] = [];
  const levels: Level[] = [{ call: false, inFrom: false, expectTable: false }];
  let replaced = 0;
  const lo = formatSeconds(window.start);
  const hi = formatSeconds(window.end);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const level = levels[levels.length - 1];
    if (t.kind === 'space' || t.kind === 'comment') {
      out.push(t);
      continue;
    }
    if (t.text === '(') {
      const prev = previousSignificant(tokens, i);
      const call = prev >= 0 && tokens[prev].kind === 'word' && !KEYWORDS_BEFORE_PAREN.has(tokens[prev].text.toLowerCase());
      level.expectTable = false;
      levels.push({ call, inFrom: false, expectTable: false });
      out.push(t);
      continue;
    }
    if (t.text === ')') {
      if (levels.length > 1) levels.pop();
      out.push(t);
      continue;
    }
    const word = t.kind === 'word' ? t.text.toLowerCase() : '';
    if (!level.call && (word === 'from' || word === 'join')) {
      level.inFrom = true;
      level.expectTable = true;
      out.push(t);
      continue;
    }
    if (level.inFrom && END_FROM.has(word)) level.inFrom = false;
    if (level.inFrom && t.text === ',') {
      level.expectTable = true;
      out.push(t);
      continue;
    }
    if (level.expectTable) {
      level.expectTable = false;
      const name = identifierOf(t);
      const next = nextSignificant(tokens, i);
      const nextText = next >= 0 ? tokens[next].text : '';
      // `main.table`, `table(...)` (a table function) and non-datastore names stay as they are
      if (name !== undefined && tables.has(name.toLowerCase()) && nextText !== '.' && nextText !== '(') {
        const condition = `epoch(${timeExpression}) >= ${lo} AND epoch(${timeExpression}) < ${hi}`;
        const hasAlias = next >= 0 && isAlias(tokens[next]);
        const alias = hasAlias ? '' : ` AS ${quoteIdentifier(name)}`;
        out.push({ kind: 'symbol', text: `(SELECT * FROM ${t.text} WHERE ${condition})${alias}` });
        replaced++;
        continue;
      }
    }
    out.push(t);
  }
  if (replaced === 0) {
    throw new AnalyticsError('InvalidRequestException', 'a deltaTime filter needs a query that reads a datastore (FROM <datastore>); none found');
  }
  return render(out);
}

function isAlias(t: Token): boolean {
  if (t.kind === 'quoted') return true;
  return t.kind === 'word' && !NOT_ALIAS.has(t.text.toLowerCase());
}

function formatSeconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** The expression is pasted into SQL: it must be one expression (balanced parentheses, no `;`). */
export function checkTimeExpression(expr: unknown): string {
  if (typeof expr !== 'string' || expr.trim() === '' || expr.length > 1024) {
    throw new AnalyticsError('InvalidRequestException', 'deltaTime.timeExpression must be a non-empty SQL expression of at most 1024 characters');
  }
  let depth = 0;
  for (const t of tokenize(expr)) {
    const unterminated = (t.kind === 'string' || t.kind === 'quoted' || t.kind === 'backquoted') && (t.text.length < 2 || t.text.at(-1) !== t.text[0]);
    if (unterminated) throw new AnalyticsError('InvalidRequestException', 'deltaTime.timeExpression has an unterminated quote');
    if (t.kind === 'comment' || t.text === ';') throw new AnalyticsError('InvalidRequestException', 'deltaTime.timeExpression must be one expression (no ";" or comments)');
    if (t.text === '(') depth++;
    if (t.text === ')' && --depth < 0) break;
  }
  if (depth !== 0) throw new AnalyticsError('InvalidRequestException', 'deltaTime.timeExpression has unbalanced parentheses');
  return expr;
}
