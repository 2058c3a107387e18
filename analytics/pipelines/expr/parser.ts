// Recursive-descent parser. Grammar (lowest precedence first):
//   or      := and (OR and)*
//   and     := not (AND not)*
//   not     := NOT not | compare
//   compare := sum ((= | <> | != | < | <= | > | >=) sum)?
//   sum     := product ((+ | -) product)*
//   product := unary ((* | / | %) unary)*
//   unary   := (- | +) unary | primary
//   primary := number | 'string' | TRUE | FALSE | NULL | ( or ) | name ( args ) | path
//   path    := name ( . name | [ digits ] )*
// Keywords are case-insensitive (SQL habit). The math language is the same grammar without the
// boolean/comparison levels and without string/boolean literals.
import type { Node } from './ast.js';
import type { Token } from './lexer.js';
import type { PathSegment } from '../paths.js';
import { tokenize } from './lexer.js';
import { invalidRequest } from '../../errors.js';

export type Dialect = 'filter' | 'math';

const COMPARISONS = new Set(['=', '<>', '!=', '<', '<=', '>', '>=']);
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'TRUE', 'FALSE', 'NULL']);

export function parseExpression(src: string, dialect: Dialect): Node {
  const tokens = tokenize(src);
  let i = 0;
  const peek = (): Token => tokens[i];
  const fail = (msg: string, t: Token = peek()): never => {
    throw invalidRequest(`${dialect} expression "${src}": ${msg} at position ${t.pos}`);
  };
  const isOp = (v: string): boolean => {
    const t = peek();
    return t.kind === 'op' && t.value === v;
  };
  const isKeyword = (kw: string): boolean => {
    const t = peek();
    return t.kind === 'ident' && t.value.toUpperCase() === kw;
  };
  const expectOp = (v: string): void => {
    if (!isOp(v)) fail(`expected '${v}'`);
    i++;
  };

  function parseOr(): Node {
    let left = parseAnd();
    while (isKeyword('OR')) {
      if (dialect === 'math') fail('OR is not allowed in a math expression');
      i++;
      left = { type: 'binary', op: 'OR', left, right: parseAnd() };
    }
    return left;
  }
  function parseAnd(): Node {
    let left = parseNot();
    while (isKeyword('AND')) {
      if (dialect === 'math') fail('AND is not allowed in a math expression');
      i++;
      left = { type: 'binary', op: 'AND', left, right: parseNot() };
    }
    return left;
  }
  function parseNot(): Node {
    if (isKeyword('NOT')) {
      if (dialect === 'math') fail('NOT is not allowed in a math expression');
      i++;
      return { type: 'unary', op: 'NOT', arg: parseNot() };
    }
    return parseCompare();
  }
  function parseCompare(): Node {
    const left = parseSum();
    const t = peek();
    if (t.kind === 'op' && COMPARISONS.has(t.value)) {
      if (dialect === 'math') fail(`comparison '${t.value}' is not allowed in a math expression`);
      i++;
      const op = t.value === '!=' ? '<>' : t.value;
      return { type: 'binary', op, left, right: parseSum() };
    }
    return left;
  }
  function parseSum(): Node {
    let left = parseProduct();
    while (isOp('+') || isOp('-')) {
      const op = (peek() as { value: string }).value;
      i++;
      left = { type: 'binary', op, left, right: parseProduct() };
    }
    return left;
  }
  function parseProduct(): Node {
    let left = parseUnary();
    while (isOp('*') || isOp('/') || isOp('%')) {
      const op = (peek() as { value: string }).value;
      i++;
      left = { type: 'binary', op, left, right: parseUnary() };
    }
    return left;
  }
  function parseUnary(): Node {
    if (isOp('-') || isOp('+')) {
      const op = (peek() as { value: string }).value as '-' | '+';
      i++;
      return { type: 'unary', op, arg: parseUnary() };
    }
    return parsePrimary();
  }
  function parsePrimary(): Node {
    const t = peek();
    if (t.kind === 'number') {
      i++;
      return { type: 'literal', value: t.value };
    }
    if (t.kind === 'string') {
      if (dialect === 'math') fail('string literals are not allowed in a math expression');
      i++;
      return { type: 'literal', value: t.value };
    }
    if (t.kind === 'op' && t.value === '(') {
      i++;
      const inner = parseOr();
      expectOp(')');
      return inner;
    }
    if (t.kind === 'ident') {
      const upper = t.value.toUpperCase();
      const quoted = /^[`"]/.test(src[t.pos]);
      if (!quoted && KEYWORDS.has(upper)) {
        if (upper === 'AND' || upper === 'OR' || upper === 'NOT') fail(`unexpected '${t.value}'`);
        if (dialect === 'math') fail(`${upper} is not allowed in a math expression`);
        i++;
        return { type: 'literal', value: upper === 'TRUE' ? true : upper === 'FALSE' ? false : null };
      }
      i++;
      if (!quoted && isOp('(')) {
        i++;
        const args: Node[] = [];
        if (!isOp(')')) {
          args.push(parseOr());
          while (isOp(',')) {
            i++;
            args.push(parseOr());
          }
        }
        expectOp(')');
        return { type: 'call', name: t.value.toLowerCase(), args };
      }
      const segments: PathSegment[] = [{ key: t.value }];
      let text = t.value;
      for (;;) {
        if (isOp('.')) {
          i++;
          const n = peek();
          if (n.kind !== 'ident') fail('expected an attribute name after "."');
          segments.push({ key: (n as { value: string }).value });
          text += '.' + (n as { value: string }).value;
          i++;
        } else if (isOp('[')) {
          i++;
          const n = peek();
          if (n.kind !== 'number' || !Number.isInteger(n.value) || n.value < 0) fail('expected an array index');
          segments.push({ index: (n as { value: number }).value });
          text += `[${(n as { value: number }).value}]`;
          i++;
          expectOp(']');
        } else break;
      }
      return { type: 'path', segments, text };
    }
    if (t.kind === 'end') return fail('unexpected end of expression');
    return fail(`unexpected '${(t as { value: string }).value}'`);
  }

  if (src.trim() === '') fail('empty expression');
  const node = parseOr();
  if (peek().kind !== 'end') fail('unexpected trailing input');
  return node;
}
