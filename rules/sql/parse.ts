// Parser of AWS IoT SQL (spec §1.1) into the tree of ast.ts.
//
// Why a hand-written recursive-descent parser and not node-sql-parser: tried on the spec's
// statements (node-sql-parser 5.4, MySQL dialect), it rejects array and object literals
// (`[a, b]`, `{'k': v}`), `SELECT VALUE`, `SELECT * AS x`, `cast(x AS Bool|String|Text)`,
// member access after a call or sub-query (`get(...).v`), paths deeper than three levels
// (`a.b.c.d`), and attribute names that are SQL keywords (`timestamp`, `value`, `key`); it also
// reads `1E3` as a column name and leaves quotes escaped in string values. Making it work would
// mean rewriting most of the statement before handing it over, so the grammar here is small
// and exact instead, and every error names the offset in the text the user wrote.
import { sqlError } from '../errors.js';
import type { BinOp, Node, SelectItem, SelectStmt } from './ast.js';
import { tokenize, type Token } from './lexer.js';

/** Words that end an expression or open a clause; they cannot be attribute names. */
const RESERVED = new Set(['SELECT', 'FROM', 'WHERE', 'AS', 'AND', 'OR', 'NOT', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'TRUE', 'FALSE', 'NULL', 'SET']);

/** Tokens after `SELECT value` that show `value` is an attribute, not the VALUE keyword. */
const VALUE_AS_ATTRIBUTE_BEFORE = new Set([',', '.', '+', '*', '/', '%', '=', '<>', '!=', '<', '<=', '>', '>=']);

const CMP_OPS = new Set(['=', '<>', '!=', '<', '<=', '>', '>=']);

export function parseStatement(sql: string): SelectStmt {
  const p = new Parser(sql);
  const stmt = p.statement(true);
  p.expectEof();
  return stmt;
}

/** One expression alone, as written inside a substitution template `${...}`. */
export function parseExpression(text: string): Node {
  const p = new Parser(text);
  const e = p.expr();
  p.expectEof();
  return e;
}

class Parser {
  private readonly toks: Token[];
  private i = 0;

  constructor(src: string) {
    this.toks = tokenize(src);
  }

  private get t(): Token { return this.toks[this.i]!; }
  private peek(k = 1): Token { return this.toks[Math.min(this.i + k, this.toks.length - 1)]!; }
  private next(): Token { return this.toks[this.i++]!; }
  private isKw(word: string, tok: Token = this.t): boolean { return tok.kind === 'ident' && tok.upper === word; }
  private isPunct(sym: string, tok: Token = this.t): boolean { return tok.kind === 'punct' && tok.text === sym; }

  private acceptKw(word: string): boolean {
    if (!this.isKw(word)) return false;
    this.i++;
    return true;
  }
  private acceptPunct(sym: string): boolean {
    if (!this.isPunct(sym)) return false;
    this.i++;
    return true;
  }
  private expectKw(word: string): Token {
    if (!this.isKw(word)) throw this.unexpected(`expected ${word}`);
    return this.next();
  }
  private expectPunct(sym: string): Token {
    if (!this.isPunct(sym)) throw this.unexpected(`expected '${sym}'`);
    return this.next();
  }
  expectEof(): void {
    if (this.t.kind !== 'eof') throw this.unexpected('expected end of statement');
  }
  private unexpected(what: string) {
    const t = this.t;
    const found = t.kind === 'eof' ? 'end of statement' : t.kind === 'string' ? `string '${t.text}'` : `'${t.text}'`;
    return sqlError(t.pos, `${what} but found ${found}`);
  }

  statement(topLevel: boolean): SelectStmt {
    const pos = this.t.pos;
    const sets: SelectStmt['sets'] = [];
    if (topLevel && this.acceptKw('SET')) {
      do {
        const v = this.t;
        if (v.kind !== 'var') throw this.unexpected('expected a variable name like @name');
        this.i++;
        if (v.text.length > 65) throw sqlError(v.pos, 'variable names are at most 64 characters');
        if (sets.some((s) => s.name === v.text)) throw sqlError(v.pos, `variable ${v.text} is assigned twice`);
        this.expectPunct('=');
        sets.push({ name: v.text, expr: this.expr(), pos: v.pos });
      } while (this.acceptPunct(','));
    }
    this.expectKw('SELECT');
    // VALUE is a keyword only when an expression follows; `SELECT value FROM`, `SELECT value.x`
    // and `SELECT value * 2` use an attribute named value.
    let value = false;
    const after = this.peek();
    const attributeUse = after.kind === 'eof' || this.isKw('FROM', after) || this.isKw('AS', after) || this.isKw('WHERE', after) ||
      (after.kind === 'punct' && VALUE_AS_ATTRIBUTE_BEFORE.has(after.text));
    if (this.isKw('VALUE') && !attributeUse) {
      this.i++;
      value = true;
    }
    const items: SelectItem[] = [];
    do items.push(this.selectItem()); while (this.acceptPunct(','));
    if (value && items.length !== 1) throw sqlError(pos, 'SELECT VALUE takes exactly one expression');
    if (value && items[0]!.alias !== undefined) throw sqlError(pos, 'SELECT VALUE cannot have an alias');
    let from: SelectStmt['from'];
    if (this.isKw('FROM')) {
      const fromTok = this.next();
      if (topLevel) {
        const t = this.t;
        if (t.kind !== 'string' || !t.singleQuoted) throw this.unexpected("FROM expects a topic filter in single quotes, e.g. FROM 'sensors/+/data'");
        this.i++;
        from = { kind: 'topic', filter: t.text, pos: t.pos };
      } else {
        from = { kind: 'expr', expr: this.postfix(), pos: fromTok.pos };
      }
    } else if (!topLevel) {
      throw this.unexpected('a nested SELECT needs FROM naming a value of the message');
    }
    const where = this.acceptKw('WHERE') ? this.expr() : undefined;
    return { pos, sets, value, items, from, where };
  }

  private selectItem(): SelectItem {
    const expr: Node = this.isPunct('*') ? { k: 'star', pos: this.next().pos } : this.expr();
    if (!this.acceptKw('AS')) return { expr };
    const a = this.t;
    if (a.kind === 'ident' && !RESERVED.has(a.upper)) { this.i++; return { expr, alias: a.text }; }
    if (a.kind === 'string') { this.i++; return { expr, alias: a.text }; }
    throw this.unexpected('expected an alias after AS');
  }

  expr(): Node { return this.or(); }

  private or(): Node {
    let l = this.and();
    while (this.isKw('OR')) { const pos = this.next().pos; l = { k: 'bin', op: 'OR', l, r: this.and(), pos }; }
    return l;
  }

  private and(): Node {
    let l = this.not();
    while (this.isKw('AND')) { const pos = this.next().pos; l = { k: 'bin', op: 'AND', l, r: this.not(), pos }; }
    return l;
  }

  private not(): Node {
    if (this.isKw('NOT')) { const pos = this.next().pos; return { k: 'unary', op: 'NOT', e: this.not(), pos }; }
    return this.cmp();
  }

  private cmp(): Node {
    let l = this.add();
    while (this.t.kind === 'punct' && CMP_OPS.has(this.t.text)) {
      const tok = this.next();
      const op = (tok.text === '!=' ? '<>' : tok.text) as BinOp;
      l = { k: 'bin', op, l, r: this.add(), pos: tok.pos };
    }
    return l;
  }

  private add(): Node {
    let l = this.mul();
    while (this.isPunct('+') || this.isPunct('-')) {
      const tok = this.next();
      l = { k: 'bin', op: tok.text as BinOp, l, r: this.mul(), pos: tok.pos };
    }
    return l;
  }

  private mul(): Node {
    let l = this.unary();
    while (this.isPunct('*') || this.isPunct('/') || this.isPunct('%')) {
      const tok = this.next();
      l = { k: 'bin', op: tok.text as BinOp, l, r: this.unary(), pos: tok.pos };
    }
    return l;
  }

  private unary(): Node {
    if (this.isPunct('-')) {
      const pos = this.next().pos;
      const e = this.unary();
      // Fold negative literals so `-5` is a constant, not an operation at message time.
      if (e.k === 'lit' && typeof e.v === 'number') return { ...e, v: -e.v, pos };
      return { k: 'unary', op: '-', e, pos };
    }
    if (this.isPunct('+')) { this.i++; return this.unary(); }
    return this.postfix();
  }

  private postfix(): Node {
    let e = this.primary();
    while (this.isPunct('.')) {
      this.i++;
      const name = this.t;
      if (name.kind !== 'ident') throw this.unexpected('expected an attribute name after \'.\'');
      this.i++;
      e = { k: 'member', obj: e, name: name.text, pos: name.pos };
    }
    return e;
  }

  private primary(): Node {
    const t = this.t;
    switch (t.kind) {
      case 'number': {
        this.i++;
        return { k: 'lit', v: Number(t.text), pos: t.pos, decimalText: /[.eE]/.test(t.text) };
      }
      case 'string':
        this.i++;
        return { k: 'lit', v: t.text, pos: t.pos };
      case 'var':
        this.i++;
        return { k: 'var', name: t.text, pos: t.pos };
      case 'punct':
        return this.punctPrimary(t);
      case 'ident':
        return this.identPrimary(t);
      default:
        throw this.unexpected('expected an expression');
    }
  }

  private punctPrimary(t: Token): Node {
    if (t.text === '(') {
      this.i++;
      if (this.isKw('SELECT')) {
        const stmt = this.statement(false);
        this.expectPunct(')');
        return { k: 'select', stmt, pos: t.pos };
      }
      const e = this.expr();
      this.expectPunct(')');
      return e;
    }
    if (t.text === '[') {
      this.i++;
      const items: Node[] = [];
      if (!this.isPunct(']')) do items.push(this.expr()); while (this.acceptPunct(','));
      this.expectPunct(']');
      return { k: 'array', items, pos: t.pos };
    }
    if (t.text === '{') {
      this.i++;
      const entries: Array<[string, Node]> = [];
      if (!this.isPunct('}')) {
        do {
          const key = this.t;
          if (key.kind !== 'string' && key.kind !== 'ident') throw this.unexpected('expected an object key');
          this.i++;
          this.expectPunct(':');
          entries.push([key.text, this.expr()]);
        } while (this.acceptPunct(','));
      }
      this.expectPunct('}');
      return { k: 'object', entries, pos: t.pos };
    }
    if (t.text === '*') {
      this.i++;
      return { k: 'star', pos: t.pos };
    }
    throw this.unexpected('expected an expression');
  }

  private identPrimary(t: Token): Node {
    switch (t.upper) {
      case 'TRUE': this.i++; return { k: 'lit', v: true, pos: t.pos };
      case 'FALSE': this.i++; return { k: 'lit', v: false, pos: t.pos };
      case 'NULL': this.i++; return { k: 'lit', v: null, pos: t.pos };
      case 'CASE': return this.caseExpr();
    }
    if (RESERVED.has(t.upper)) throw this.unexpected('expected an expression');
    this.i++;
    if (!this.isPunct('(')) return { k: 'attr', name: t.text, pos: t.pos };
    this.i++;
    if (t.upper === 'CAST') {
      const e = this.expr();
      this.expectKw('AS');
      const type = this.t;
      if (type.kind !== 'ident') throw this.unexpected('expected a type name after AS');
      this.i++;
      this.expectPunct(')');
      return { k: 'cast', e, type: type.upper, pos: t.pos, typePos: type.pos };
    }
    const args: Node[] = [];
    if (!this.isPunct(')')) do args.push(this.expr()); while (this.acceptPunct(','));
    this.expectPunct(')');
    return { k: 'call', name: t.text.toLowerCase(), args, pos: t.pos };
  }

  private caseExpr(): Node {
    const pos = this.next().pos;
    const subject = this.expr();
    const whens: Array<[Node, Node]> = [];
    while (this.acceptKw('WHEN')) {
      const w = this.expr();
      this.expectKw('THEN');
      whens.push([w, this.expr()]);
    }
    if (whens.length === 0) throw this.unexpected('CASE needs at least one WHEN');
    const otherwise = this.acceptKw('ELSE') ? this.expr() : undefined;
    this.expectKw('END');
    return { k: 'case', subject, whens, otherwise, pos };
  }
}
