// Compiles expression trees into closures, once, when a rule is defined. At message time only
// these closures run; no tree is walked. Constant sub-expressions are folded here too.
import type { SqlVersion } from '../types.js';
import { sqlError } from '../errors.js';
import type { Node, SelectStmt } from './ast.js';
import { castTarget, castTo } from './cast.js';
import { FUNCTIONS } from './functions/index.js';
import { VARIADIC } from './functions/registry.js';
import * as op from './operators.js';
import { rowOf, rowOfV1, TOP, type Scope } from './scope.js';
import { isObject, member, setKey, sqlEquals, WholeDecimal, type Obj, type Value } from './values.js';

export type Ev = (s: Scope) => Value;

/** AWS functions that call other AWS services or need data we do not have: named clearly
 * instead of being reported as unknown. */
const NOT_SUPPORTED_FUNCTIONS = new Set([
  'aws_lambda', 'get_dynamodb', 'get_secret',
  'machinelearning_predict', 'get_mqtt_property', 'get_user_properties', 'sourceip',
]);

export interface CompileCtx {
  version: SqlVersion;
  /** SET variable name -> slot in Scope.vars */
  vars: Map<string, number>;
  /** set when some expression reads the payload; a rule that never does skips JSON parsing */
  readsPayload: boolean;
  /** depth of nested SELECTs: `*` and attributes inside one read the element, not the payload */
  nested: number;
  /** the engine was given device-state lookups (get_thing_shadow, get_registry_data) */
  lookups: boolean;
}

/** Values of closures that are constants, so parents can fold in turn. */
const constants = new WeakMap<Ev, { v: Value }>();

function constant(v: Value): Ev {
  const ev: Ev = () => v;
  constants.set(ev, { v });
  return ev;
}

function isConst(ev: Ev): boolean {
  return constants.has(ev);
}

/** Pure operations over constants never look at the scope; a scope-less call is safe. */
const NO_SCOPE = undefined as unknown as Scope;

function isV1(cc: CompileCtx): boolean {
  return cc.version === '2015-10-08';
}

function requireV2(cc: CompileCtx, pos: number, what: string): void {
  if (cc.version === '2015-10-08') throw sqlError(pos, `${what} needs awsIotSqlVersion 2016-03-23`);
}

export function compileExpr(n: Node, cc: CompileCtx): Ev {
  return compileNode(n, cc);
}

function compileNode(n: Node, cc: CompileCtx): Ev {
  switch (n.k) {
    case 'lit':
      // SQL 2015-10-08 keeps `10.0` a Decimal; 2016-03-23 processes it as the Int 10.
      if (isV1(cc) && n.decimalText && typeof n.v === 'number' && Number.isInteger(n.v)) return constant(new WholeDecimal(n.v));
      return constant(n.v);
    case 'attr': {
      if (cc.nested === 0) cc.readsPayload = true;
      const name = n.name;
      if (isV1(cc)) return (s) => member(s.row === TOP ? s.m.docV1() : s.row, name);
      return (s) => member(s.row === TOP ? s.m.doc() : s.row, name);
    }
    case 'var': {
      const slot = cc.vars.get(n.name);
      if (slot === undefined) throw sqlError(n.pos, `variable ${n.name} is not defined by SET`);
      return (s) => s.vars[slot];
    }
    case 'star':
      if (cc.nested === 0) cc.readsPayload = true;
      return isV1(cc) ? rowOfV1 : rowOf;
    case 'member': {
      const obj = compileNode(n.obj, cc);
      const name = n.name;
      return fold([obj], (s) => member(obj(s), name));
    }
    case 'unary': {
      const e = compileNode(n.e, cc);
      const f = n.op === 'NOT' ? op.not : op.negate;
      return fold([e], (s) => f(e(s)));
    }
    case 'bin':
      return compileBinary(n, cc);
    case 'call':
      return compileCall(n, cc);
    case 'cast': {
      const target = castTarget(n.type, cc.version);
      if (target === undefined) throw sqlError(n.typePos, `unknown cast type ${n.type}${cc.version === '2015-10-08' ? ' (SQL 2015-10-08 knows String, Int and Double)' : ''}`);
      const e = compileNode(n.e, cc);
      return fold([e], (s) => castTo(target, e(s)));
    }
    case 'case':
      return compileCase(n, cc);
    case 'array': {
      requireV2(cc, n.pos, 'an array literal');
      const items = n.items.map((i) => compileNode(i, cc));
      return fold(items, (s) => items.map((i) => i(s)));
    }
    case 'object': {
      requireV2(cc, n.pos, 'an object literal');
      const keys = n.entries.map(([k]) => k);
      const vals = n.entries.map(([, v]) => compileNode(v, cc));
      return fold(vals, (s) => {
        const o: Obj = {};
        for (let i = 0; i < keys.length; i++) {
          const v = vals[i]!(s);
          if (v !== undefined) setKey(o, keys[i]!, v);
        }
        return o;
      });
    }
    case 'select':
      requireV2(cc, n.pos, 'a nested SELECT');
      return compileNestedSelect(n.stmt, cc);
  }
}

/** Wraps `ev`; if every input is constant, evaluates now and returns the constant instead. */
function fold(inputs: Ev[], ev: Ev): Ev {
  if (inputs.every(isConst)) return constant(ev(NO_SCOPE));
  return ev;
}

function compileBinary(n: Extract<Node, { k: 'bin' }>, cc: CompileCtx): Ev {
  const l = compileNode(n.l, cc);
  const r = compileNode(n.r, cc);
  let ev: Ev;
  switch (n.op) {
    case 'AND': ev = (s) => op.and(l(s), r(s)); break;
    case 'OR': ev = (s) => op.or(l(s), r(s)); break;
    case '=': ev = (s) => op.equals(l(s), r(s)); break;
    case '<>': ev = (s) => op.notEquals(l(s), r(s)); break;
    case '<': case '<=': case '>': case '>=': {
      const c = n.op;
      ev = (s) => op.compare(c, l(s), r(s));
      break;
    }
    case '+': {
      const v1 = isV1(cc);
      ev = (s) => op.plus(l(s), r(s), v1);
      break;
    }
    case '-': case '*': case '/': case '%': {
      const a = n.op;
      const v1 = isV1(cc);
      ev = (s) => op.arith(a, l(s), r(s), v1);
      break;
    }
  }
  return fold([l, r], ev);
}

function compileCall(n: Extract<Node, { k: 'call' }>, cc: CompileCtx): Ev {
  const fn = Object.prototype.hasOwnProperty.call(FUNCTIONS, n.name) ? FUNCTIONS[n.name] : undefined;
  if (fn === undefined) {
    if (NOT_SUPPORTED_FUNCTIONS.has(n.name)) throw sqlError(n.pos, `function ${n.name}() is not supported by this rules engine`);
    throw sqlError(n.pos, `unknown function ${n.name}()`);
  }
  if (fn.v2) requireV2(cc, n.pos, `function ${n.name}()`);
  if (fn.needsLookups && !cc.lookups) {
    throw sqlError(n.pos, `function ${n.name}() is not available: this rules engine was started without access to device shadows and the registry`);
  }
  if (n.args.length < fn.min || n.args.length > fn.max) {
    const expected = fn.min === fn.max ? `${fn.min}` : fn.max === VARIADIC ? `at least ${fn.min}` : `${fn.min} to ${fn.max}`;
    throw sqlError(n.pos, `function ${n.name}() takes ${expected} argument(s), got ${n.args.length}`);
  }
  // encode(*, ...) is defined on the exact payload bytes, JSON or not.
  const args = n.args.map((a, i) => (n.name === 'encode' && i === 0 && a.k === 'star' && cc.nested === 0 ? rawPayload(cc) : compileNode(a, cc)));
  const call = fn.call;
  const propagate = !fn.takesUndefined;
  let ev: Ev;
  switch (args.length) {
    case 0: ev = (s) => call([], s); break;
    case 1: {
      const [a] = args as [Ev];
      ev = propagate ? (s) => { const x = a(s); return x === undefined ? undefined : call([x], s); } : (s) => call([a(s)], s);
      break;
    }
    default:
      ev = (s) => {
        const vals = new Array<Value>(args.length);
        for (let i = 0; i < args.length; i++) {
          const v = args[i]!(s);
          if (v === undefined && propagate) return undefined;
          vals[i] = v;
        }
        return call(vals, s);
      };
  }
  return fn.impure ? ev : fold(args, ev);
}

function rawPayload(cc: CompileCtx): Ev {
  cc.readsPayload = true;
  return (s) => s.m.msg.payload;
}

function compileCase(n: Extract<Node, { k: 'case' }>, cc: CompileCtx): Ev {
  const subject = compileNode(n.subject, cc);
  const whens = n.whens.map(([w, t]) => [compileNode(w, cc), compileNode(t, cc)] as const);
  const otherwise = n.otherwise ? compileNode(n.otherwise, cc) : undefined;
  return (s) => {
    const v = subject(s);
    if (v === undefined) return undefined;
    for (const [w, t] of whens) if (sqlEquals(v, w(s)) === true) return t(s);
    return otherwise ? otherwise(s) : undefined;
  };
}

/** `(SELECT ... FROM e [WHERE ...])`: over an array, one result per matching element; over an
 * object, the single result. */
function compileNestedSelect(stmt: SelectStmt, cc: CompileCtx): Ev {
  if (stmt.from?.kind !== 'expr') throw sqlError(stmt.pos, 'a nested SELECT needs FROM naming a value of the message');
  const source = compileNode(stmt.from.expr, cc);
  cc.nested++;
  const where = stmt.where ? compileNode(stmt.where, cc) : undefined;
  const project = compileProjection(stmt, cc);
  cc.nested--;
  return (s) => {
    const src = source(s);
    if (Array.isArray(src)) {
      const out: Value[] = [];
      for (const el of src) {
        const inner: Scope = { m: s.m, row: el, vars: s.vars, version: s.version };
        if (where && where(inner) !== true) continue;
        out.push(project(inner));
      }
      return out;
    }
    if (isObject(src)) {
      const inner: Scope = { m: s.m, row: src, vars: s.vars, version: s.version };
      if (where && where(inner) !== true) return undefined;
      return project(inner);
    }
    return undefined;
  };
}

/** The SELECT list of a statement as one closure producing the output value. */
export function compileProjection(stmt: SelectStmt, cc: CompileCtx): Ev {
  if (stmt.value) return compileNode(stmt.items[0]!.expr, cc);
  const items = stmt.items;
  if (items.length === 1 && items[0]!.expr.k === 'star' && items[0]!.alias === undefined) {
    if (cc.nested === 0) cc.readsPayload = true;
    return isV1(cc) ? rowOfV1 : rowOf; // SELECT *: the payload itself, raw bytes unchanged when it is not JSON
  }
  const parts = items.map((item, i) => {
    const isStar = item.expr.k === 'star';
    return {
      mergeStar: isStar && item.alias === undefined,
      key: item.alias ?? defaultName(item.expr, i),
      ev: compileNode(item.expr, cc),
    };
  });
  return (s) => {
    const out: Obj = {};
    for (const p of parts) {
      const v = p.ev(s);
      if (p.mergeStar) {
        if (isObject(v)) for (const k of Object.keys(v)) setKey(out, k, v[k]);
      } else if (v !== undefined) {
        setKey(out, p.key, v);
      }
    }
    return out;
  };
}

/** Output key of an item without AS. AWS documents only the plain-attribute case (its name);
 * for the others we use the last name in the expression, like most SQL engines. */
function defaultName(n: Node, index: number): string {
  switch (n.k) {
    case 'attr': return n.name;
    case 'member': return n.name;
    case 'var': return n.name.slice(1);
    case 'call': return n.name;
    case 'cast': return defaultName(n.e, index);
    default: return `_${index + 1}`;
  }
}
