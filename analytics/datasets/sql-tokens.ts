// A small SQL tokenizer: enough to rewrite dataset SQL textually without ever touching the inside
// of a string literal, a quoted identifier or a comment (Presto translation, deltaTime filters).
// Concatenating every token's `text` gives the input back unchanged.

export type TokenKind = 'word' | 'string' | 'quoted' | 'backquoted' | 'comment' | 'space' | 'symbol';

export interface Token {
  kind: TokenKind;
  text: string;
}

/** Splits SQL into tokens. An unterminated literal or comment runs to the end of the text (the
 * database reports the error when the query runs). */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    const start = i;
    if (c === "'" || c === '"' || c === '`') {
      // a doubled quote character inside is an escaped one, in all three forms
      i++;
      for (;;) {
        if (i >= n) break;
        if (sql[i] === c) {
          if (sql[i + 1] === c) {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
      out.push({ kind: c === "'" ? 'string' : c === '"' ? 'quoted' : 'backquoted', text: sql.slice(start, i) });
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
      out.push({ kind: 'comment', text: sql.slice(start, i) });
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      out.push({ kind: 'comment', text: sql.slice(start, i) });
    } else if (/\s/.test(c)) {
      while (i < n && /\s/.test(sql[i])) i++;
      out.push({ kind: 'space', text: sql.slice(start, i) });
    } else if (/[A-Za-z0-9_$]/.test(c)) {
      while (i < n && /[A-Za-z0-9_$]/.test(sql[i])) i++;
      out.push({ kind: 'word', text: sql.slice(start, i) });
    } else {
      i++;
      out.push({ kind: 'symbol', text: c });
    }
  }
  return out;
}

export function render(tokens: readonly Token[]): string {
  return tokens.map((t) => t.text).join('');
}

/** Index of the next token after `i` that is not space or comment, or -1. */
export function nextSignificant(tokens: readonly Token[], i: number): number {
  for (let j = i + 1; j < tokens.length; j++) {
    if (tokens[j].kind !== 'space' && tokens[j].kind !== 'comment') return j;
  }
  return -1;
}

/** Index of the previous token before `i` that is not space or comment, or -1. */
export function previousSignificant(tokens: readonly Token[], i: number): number {
  for (let j = i - 1; j >= 0; j--) {
    if (tokens[j].kind !== 'space' && tokens[j].kind !== 'comment') return j;
  }
  return -1;
}

/** The identifier a word or double-quoted token names (quotes removed, `""` unescaped). */
export function identifierOf(t: Token): string | undefined {
  if (t.kind === 'word') return t.text;
  if (t.kind === 'quoted') return t.text.slice(1, -1).replaceAll('""', '"');
  return undefined;
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
