// A rule's SQL statement compiled once into closures: FROM filter, SET, WHERE and projection.
import type { SqlVersion } from '../types.js';
import { sqlError } from '../errors.js';
import { compileExpr, compileProjection, type CompileCtx, type Ev } from './expr.js';
import { parseExpression, parseStatement } from './parse.js';
import { TOP, type MessageContext, type Scope } from './scope.js';
import type { Value } from './values.js';

export const SQL_VERSIONS: readonly SqlVersion[] = ['2015-10-08', '2016-03-23', 'beta'];
export const DEFAULT_SQL_VERSION: SqlVersion = '2015-10-08';

export interface RuleEvaluation {
  output: Value;
  /** kept so that substitution templates see the same message and SET variables */
  scope: Scope;
}

export interface CompiledSql {
  version: SqlVersion;
  /** the FROM topic filter; undefined when the rule is reached only through Basic Ingest */
  topicFilter: string | undefined;
  /** false when nothing in the statement reads the payload: it is then never parsed */
  readsPayload: boolean;
  /** SET variables by name -> slot, for templates that reference them */
  vars: ReadonlyMap<string, number>;
  features: SqlFeatures;
  /** undefined when WHERE is not exactly true (no actions, no error action) */
  evaluate(m: MessageContext): RuleEvaluation | undefined;
}

/** What the engine offers to compiled statements beyond the message itself. */
export interface SqlFeatures {
  /** device-state lookups are available (get_thing_shadow, get_registry_data) */
  lookups: boolean;
}

const NO_FEATURES: SqlFeatures = { lookups: false };

export function compileRuleSql(sql: string, version: SqlVersion = DEFAULT_SQL_VERSION, features: SqlFeatures = NO_FEATURES): CompiledSql {
  if (!SQL_VERSIONS.includes(version)) throw sqlError(0, `unknown awsIotSqlVersion ${String(version)}`);
  const stmt = parseStatement(sql);
  const cc: CompileCtx = { version, vars: new Map(), readsPayload: false, nested: 0, lookups: features.lookups };
  const sets: Ev[] = [];
  for (const set of stmt.sets) {
    sets.push(compileExpr(set.expr, cc)); // compiled before the name exists: no self-reference
    cc.vars.set(set.name, cc.vars.size);
  }
  const where = stmt.where ? compileExpr(stmt.where, cc) : undefined;
  const project = compileProjection(stmt, cc);
  const topicFilter = stmt.from?.kind === 'topic' ? stmt.from.filter : undefined;
  if (topicFilter !== undefined) {
    const problem = topicFilterProblem(topicFilter);
    if (problem) throw sqlError(stmt.from!.pos, `invalid topic filter '${topicFilter}': ${problem}`);
  }
  return {
    version,
    topicFilter,
    readsPayload: cc.readsPayload,
    vars: cc.vars,
    features,
    evaluate(m) {
      const scope: Scope = { m, row: TOP, vars: sets.length ? new Array<Value>(sets.length) : NO_VARS, version };
      for (let i = 0; i < sets.length; i++) scope.vars[i] = sets[i]!(scope);
      if (where && where(scope) !== true) return undefined;
      return { output: project(scope), scope };
    },
  };
}

const NO_VARS: Value[] = [];

/** A stand-alone expression (substitution templates, tests) compiled with a rule's variables. */
export function compileStandaloneExpression(text: string, version: SqlVersion, vars: ReadonlyMap<string, number> = new Map(), features: SqlFeatures = NO_FEATURES): Ev {
  const cc: CompileCtx = { version, vars: new Map(vars), readsPayload: false, nested: 0, lookups: features.lookups };
  return compileExpr(parseExpression(text), cc);
}

/** MQTT filter rules: `#` only last and alone in its level, `+` alone in its level. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'it is empty';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1)) return "'#' must be the last level and stand alone";
    if (l.includes('+') && l !== '+') return "'+' must stand alone in its level";
  }
  return undefined;
}
