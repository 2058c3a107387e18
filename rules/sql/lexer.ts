// Tokenizer for AWS IoT SQL. Every token keeps its 0-based offset so parse errors can name
// the exact position in the statement the user wrote.
import { sqlError } from '../errors.js';

export type TokenKind = 'ident' | 'number' | 'string' | 'var' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  /** identifiers: as written; strings: unescaped content; punct: the symbol */
  text: string;
  /** upper-cased identifier, for keyword checks */
  upper: string;
  pos: number;
  /** the string literal was single-quoted (FROM needs a single-quoted topic filter) */
  singleQuoted?: boolean;
}

const TWO_CHAR = new Set(['<>', '!=', '<=', '>=']);
const ONE_CHAR = new Set(['(', ')', '[', ']', '{', '}', ',', '.', ':', '*', '/', '%', '+', '-', '=', '<', '>']);

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    const start = i;
    if (isIdentStart(c) || (c === '@' && i + 1 < n && isIdentStart(src[i + 1]!))) {
      i++;
      while (i < n && isIdentPart(src[i]!)) i++;
      const text = src.slice(start, i);
      out.push({ kind: c === '@' ? 'var' : 'ident', text, upper: text.toUpperCase(), pos: start });
      continue;
    }
    if (isDigit(c) || (c === '.' && i + 1 < n && isDigit(src[i + 1]!))) {
      while (i < n && isDigit(src[i]!)) i++;
      if (src[i] === '.' && isDigit(src[i + 1] ?? '')) { i++; while (i < n && isDigit(src[i]!)) i++; }
      if ((src[i] === 'e' || src[i] === 'E') && /[-+]?\d/.test(src.slice(i + 1, i + 3))) {
        i++;
        if (src[i] === '-' || src[i] === '+') i++;
        while (i < n && isDigit(src[i]!)) i++;
      }
      if (i < n && isIdentStart(src[i]!)) throw sqlError(i, `unexpected character '${src[i]}' after number`);
      const text = src.slice(start, i);
      out.push({ kind: 'number', text, upper: text, pos: start });
      continue;
    }
    if (c === "'" || c === '"') {
      i++;
      let text = '';
      for (;;) {
        if (i >= n) throw sqlError(start, 'unterminated string literal');
        const d = src[i]!;
        if (d === '\\' && i + 1 < n) { text += unescape(src[i + 1]!); i += 2; continue; }
        if (d === c) {
          if (src[i + 1] === c) { text += c; i += 2; continue; } // doubled quote = one quote
          i++;
          break;
        }
        text += d;
        i++;
      }
      out.push({ kind: 'string', text, upper: text, pos: start, singleQuoted: c === "'" });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (TWO_CHAR.has(two)) { out.push({ kind: 'punct', text: two, upper: two, pos: start }); i += 2; continue; }
    if (ONE_CHAR.has(c)) { out.push({ kind: 'punct', text: c, upper: c, pos: start }); i++; continue; }
    if (c === '-' && src[i + 1] === '-') throw sqlError(i, 'comments are not supported');
    throw sqlError(i, `unexpected character '${c}'`);
  }
  out.push({ kind: 'eof', text: '', upper: '', pos: n });
  return out;
}

function unescape(c: string): string {
  switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    default: return c;
  }
}

function isDigit(c: string): boolean { return c >= '0' && c <= '9'; }
function isIdentStart(c: string): boolean { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === '$'; }
function isIdentPart(c: string): boolean { return isIdentStart(c) || isDigit(c); }
