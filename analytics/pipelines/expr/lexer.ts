// Tokenizer for the filter and math expression languages (spec §3.3). Runs once per definition.
import { invalidRequest } from '../../errors.js';

export type Token =
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'ident'; value: string; pos: number }
  | { kind: 'op'; value: string; pos: number }
  | { kind: 'end'; pos: number };

const OPERATORS = ['<=', '>=', '<>', '!=', '+', '-', '*', '/', '%', '(', ')', ',', '.', '[', ']', '=', '<', '>'];

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i))!;
      tokens.push({ kind: 'number', value: Number(m[0]), pos: start });
      i += m[0].length;
      continue;
    }
    if (c === "'") {
      // SQL string literal: '' inside the quotes is one quote.
      let value = '';
      i++;
      for (;;) {
        if (i >= src.length) throw invalidRequest(`unterminated string literal at position ${start}`);
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += src[i++];
      }
      tokens.push({ kind: 'string', value, pos: start });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      tokens.push({ kind: 'ident', value: m[0], pos: start });
      i += m[0].length;
      continue;
    }
    if (c === '`' || c === '"') {
      // Quoted attribute name (for names that collide with keywords such as `and`).
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw invalidRequest(`unterminated quoted name at position ${start}`);
      tokens.push({ kind: 'ident', value: src.slice(i + 1, end), pos: start });
      i = end + 1;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw invalidRequest(`unexpected character '${c}' at position ${start}`);
    tokens.push({ kind: 'op', value: op, pos: start });
    i += op.length;
  }
  tokens.push({ kind: 'end', pos: src.length });
  return tokens;
}
