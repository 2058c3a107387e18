// Compiles an expression tree to one closure per node, once per definition. Sub-trees without
// attribute references are folded to constants at compile time. Evaluating a message walks no
// tree: it calls the closures.
//
// Decisions where the docs are silent (spec §3.3):
// * `/` always divides exactly (20 / 8 = 2.5): IoT SQL's table says Int/Int → Int but its own
//   examples print 23.89 for (75-32)*5/9, and truncating sensor arithmetic would surprise users.
// * x / 0 and x % 0 are Undefined (no ±Infinity in JSON).
// * `+ - * / %` are numeric only; numeric strings convert, other strings make the result
//   Undefined (the rules-SQL string concatenation with `+` is not part of these languages).
// * `<>` and `!=` are the same operator.
import type { Node } from './ast.js';
import type { PipelineMessage } from '../../types.js';
import type { Dialect } from './parser.js';
import { parseExpression } from './parser.js';
import { FUNCTIONS, applyFunction } from './functions.js';
import { finite, sqlEquals, toBoolean, toNumber } from './values.js';
import { compileGetter } from '../paths.js';
import { invalidRequest } from '../../errors.js';

export type Evaluator = (m: PipelineMessage) => unknown;

interface Compiled {
  fn: Evaluator;
  /** set when the node does not depend on the message */
  constant: boolean;
}

const ARITHMETIC: Record<string, (a: number, b: number) => number | undefined> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => (b === 0 ? undefined : a / b),
  '%': (a, b) => (b === 0 ? undefined : a % b),
};

const ORDERING: Record<string, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function constant(value: unknown): Compiled {
  return { fn: () => value, constant: true };
}

/** Folds a node whose children are all constants (evaluating it once with no message). */
function fold(c: Compiled, children: Compiled[]): Compiled {
  return children.every((ch) => ch.constant) ? constant(c.fn({})) : c;
}

function compileNode(node: Node, src: string): Compiled {
  switch (node.type) {
    case 'literal':
      return constant(node.value);
    case 'path':
      return { fn: compileGetter(node.segments), constant: false };
    case 'unary': {
      const arg = compileNode(node.arg, src);
      const a = arg.fn;
      let fn: Evaluator;
      if (node.op === 'NOT') {
        fn = (m) => {
          const b = toBoolean(a(m));
          return b === undefined ? undefined : !b;
        };
      } else if (node.op === '-') {
        fn = (m) => {
          const n = toNumber(a(m));
          return n === undefined ? undefined : finite(-n);
        };
      } else {
        fn = (m) => toNumber(a(m));
      }
      return fold({ fn, constant: false }, [arg]);
    }
    case 'binary': {
      const left = compileNode(node.left, src);
      const right = compileNode(node.right, src);
      const l = left.fn;
      const r = right.fn;
      let fn: Evaluator;
      const arith = ARITHMETIC[node.op];
      const order = ORDERING[node.op];
      if (arith) {
        fn = (m) => {
          const a = toNumber(l(m));
          if (a === undefined) return undefined;
          const b = toNumber(r(m));
          if (b === undefined) return undefined;
          const v = arith(a, b);
          return v === undefined ? undefined : finite(v);
        };
      } else if (order) {
        // Ordering comparisons convert both sides to numbers; anything unconvertible → Undefined.
        fn = (m) => {
          const a = toNumber(l(m));
          if (a === undefined) return undefined;
          const b = toNumber(r(m));
          if (b === undefined) return undefined;
          return order(a, b);
        };
      } else if (node.op === '=') {
        fn = (m) => sqlEquals(l(m), r(m));
      } else if (node.op === '<>') {
        fn = (m) => {
          const e = sqlEquals(l(m), r(m));
          return e === undefined ? undefined : !e;
        };
      } else if (node.op === 'AND') {
        // Three-valued: false wins over Undefined; the right side is skipped when the left is false.
        fn = (m) => {
          const a = toBoolean(l(m));
          if (a === false) return false;
          const b = toBoolean(r(m));
          if (b === false) return false;
          return a === true && b === true ? true : undefined;
        };
      } else if (node.op === 'OR') {
        fn = (m) => {
          const a = toBoolean(l(m));
          if (a === true) return true;
          const b = toBoolean(r(m));
          if (b === true) return true;
          return a === false && b === false ? false : undefined;
        };
      } else {
        throw invalidRequest(`expression "${src}": unknown operator ${node.op}`);
      }
      return fold({ fn, constant: false }, [left, right]);
    }
    case 'call': {
      const def = FUNCTIONS[node.name];
      if (!def) throw invalidRequest(`expression "${src}": unknown function ${node.name}()`);
      if (node.args.length !== def.arity) {
        throw invalidRequest(`expression "${src}": ${node.name}() takes ${def.arity} argument(s), got ${node.args.length}`);
      }
      const args = node.args.map((a) => compileNode(a, src));
      const f = def.fn;
      let fn: Evaluator;
      if (args.length === 1) {
        const a0 = args[0].fn;
        fn = (m) => applyFunction(f, [a0(m)]);
      } else {
        const a0 = args[0].fn;
        const a1 = args[1].fn;
        fn = (m) => applyFunction(f, [a0(m), a1(m)]);
      }
      return fold({ fn, constant: false }, args);
    }
  }
}

/** Compiles an expression of the given dialect to a closure; throws InvalidRequestException. */
export function compileExpression(src: string, dialect: Dialect): Evaluator {
  if (typeof src !== 'string') throw invalidRequest(`${dialect} expression must be a string`);
  return compileNode(parseExpression(src, dialect), src).fn;
}

/** A filter predicate: only a Boolean true passes; false, Undefined and non-Booleans drop. */
export function compileFilter(src: string): (m: PipelineMessage) => boolean {
  const ev = compileExpression(src, 'filter');
  return (m) => ev(m) === true;
}

/** A math expression: the numeric result, or undefined when it has none. */
export function compileMath(src: string): (m: PipelineMessage) => number | undefined {
  const ev = compileExpression(src, 'math');
  return (m) => toNumber(ev(m));
}
