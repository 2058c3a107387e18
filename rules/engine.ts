// The rules engine: keeps compiled rules, finds them through the topic index, evaluates them
// and runs their actions. Everything expensive (parsing, compiling SQL and templates, action
// validation) happens in putRule; handle() only runs closures.
import { randomUUID } from 'node:crypto';
import type { RuleCounters, RuleInfo, RuleMessage, RuleSinks, SqlVersion, TopicRulePayload } from './types.js';
import { compileAction, type ActionFailure, type CompiledAction } from './actions.js';
import { invalidRequest, RulesError } from './errors.js';
import { newCounters } from './metrics.js';
import { compileRuleSql, DEFAULT_SQL_VERSION, SQL_VERSIONS, type CompiledSql, type RuleEvaluation } from './sql/compile.js';
import { MessageContext, type EngineEnv } from './sql/scope.js';
import type { Value } from './sql/values.js';
import { TopicIndex } from './topic-index.js';

export interface RulesEngineOptions {
  /** clock for timestamp() and createdAt, epoch milliseconds */
  now?(): number;
  /** source of newuuid() and trace ids */
  newUuid?(): string;
  /** what accountid() returns (12 digits) */
  accountId?: string;
}

export interface RulesEngine {
  /** Creates or replaces a rule. Compiles first: an invalid definition throws RulesError and
   * leaves any existing rule of that name working. */
  putRule(ruleName: string, payload: TopicRulePayload): RuleInfo;
  deleteRule(ruleName: string): boolean;
  getRule(ruleName: string): RuleInfo | undefined;
  listRules(): RuleInfo[];
  /** Offers a message to the rules. Returns undefined when there is nothing to wait for (no
   * enabled rule matched, or none fired) — the payload is then not even parsed unless a matching
   * rule's WHERE read it. Otherwise resolves when every action settled, and rejects with
   * RuleActionFailedException (after counting and running the error actions) when an
   * iotAnalytics action failed, so the broker can withhold the PUBACK. Republish failures are
   * only counted and reported through the error action. */
  handle(msg: RuleMessage): Promise<void> | undefined;
  counters(): RuleCounters[];
  /** Basic Ingest messages addressed to a rule that does not exist or is disabled. */
  basicIngestMisses(): number;
}

interface CompiledRule {
  name: string;
  /** creation order, so rules sharing a message always run in the same order */
  seq: number;
  info: RuleInfo;
  sql: CompiledSql;
  actions: CompiledAction[];
  errorAction: CompiledAction | undefined;
  disabled: boolean;
  counters: RuleCounters;
}

const RULE_NAME = /^[a-zA-Z0-9_]{1,128}$/;
const MAX_ACTIONS = 10;
const BASIC_INGEST_PREFIX = '$aws/rules/';
const DEFAULT_ACCOUNT_ID = '000000000000';

export function createRulesEngine(sinks: RuleSinks, options: RulesEngineOptions = {}): RulesEngine {
  const env: EngineEnv = {
    now: options.now ?? Date.now,
    newUuid: options.newUuid ?? randomUUID,
    accountId: options.accountId ?? DEFAULT_ACCOUNT_ID,
  };
  const rules = new Map<string, CompiledRule>();
  const index = new TopicIndex<CompiledRule>();
  let seq = 0;
  let ingestMisses = 0;

  function compileRule(ruleName: string, payload: TopicRulePayload, createdAt: number): CompiledRule {
    if (typeof ruleName !== 'string' || !RULE_NAME.test(ruleName)) {
      throw invalidRequest(`rule name '${String(ruleName)}' must be 1 to 128 characters of letters, digits and underscores`);
    }
    const p = validatePayload(payload);
    const sql = compileRuleSql(p.sql, p.awsIotSqlVersion!);
    const actions = p.actions.map((a, i) => compileAction(a, `actions[${i}]`, sql.version, sql.vars));
    const errorAction = p.errorAction ? compileAction(p.errorAction, 'errorAction', sql.version, sql.vars) : undefined;
    return {
      name: ruleName,
      seq: seq++,
      info: deepFreeze({ ruleName, topicRulePayload: p, createdAt, topicFilter: sql.topicFilter ?? '' }),
      sql,
      actions,
      errorAction,
      disabled: p.ruleDisabled === true,
      counters: newCounters(ruleName),
    };
  }

  function install(rule: CompiledRule): void {
    const old = rules.get(rule.name);
    if (old) uninstall(old);
    rules.set(rule.name, rule);
    if (!rule.disabled && rule.sql.topicFilter !== undefined) index.add(rule.sql.topicFilter, rule);
  }

  function uninstall(rule: CompiledRule): void {
    rules.delete(rule.name);
    if (rule.sql.topicFilter !== undefined) index.remove(rule.sql.topicFilter, rule);
  }

  /** The rules a message goes to, and the topic topic() sees. */
  function route(topic: string): { targets: CompiledRule[]; visibleTopic: string } {
    if (topic.startsWith(BASIC_INGEST_PREFIX)) {
      // Basic Ingest: straight to the named rule; topic() sees only what follows the name.
      const rest = topic.slice(BASIC_INGEST_PREFIX.length);
      const slash = rest.indexOf('/');
      const name = slash < 0 ? rest : rest.slice(0, slash);
      const rule = rules.get(name);
      if (!rule || rule.disabled) {
        ingestMisses++;
        return { targets: [], visibleTopic: topic };
      }
      return { targets: [rule], visibleTopic: slash < 0 ? '' : rest.slice(slash + 1) };
    }
    const targets = index.match(topic);
    if (targets.length > 1) targets.sort((a, b) => a.seq - b.seq);
    return { targets, visibleTopic: topic };
  }

  async function runActions(rule: CompiledRule, ev: RuleEvaluation, m: MessageContext): Promise<void> {
    const { output, scope } = ev;
    // Every sink is called now, synchronously, so messages of one client reach sinks in order.
    const started = rule.actions.map((a) => a.run(output, scope, sinks, m.msg));
    const results = await Promise.allSettled(started);
    const failures: ActionFailure[] = [];
    let channelFailed = false;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        rule.counters.actionsOk++;
        return;
      }
      rule.counters.actionsFailed++;
      const action = rule.actions[i]!;
      if (action.failedActionName === 'IotAnalyticsAction') channelFailed = true;
      failures.push({ failedAction: action.failedActionName, failedResource: action.resource(scope), errorMessage: errorText(r.reason) });
    });
    if (failures.length === 0) return;
    if (rule.errorAction) {
      const report = errorPayload(rule.name, m, failures);
      try {
        await rule.errorAction.run(report, scope, sinks, m.msg);
      } catch {
        rule.counters.errorActionsFailed++;
      }
    }
    if (channelFailed) {
      throw new RulesError('RuleActionFailedException', `rule ${rule.name}: ${failures.map((f) => `${f.failedAction} ${f.failedResource}: ${f.errorMessage}`).join('; ')}`);
    }
  }

  return {
    putRule(ruleName, payload) {
      const old = rules.get(ruleName);
      const rule = compileRule(ruleName, payload, old?.info.createdAt ?? env.now());
      install(rule);
      return rule.info;
    },

    deleteRule(ruleName) {
      const rule = rules.get(ruleName);
      if (!rule) return false;
      uninstall(rule);
      return true;
    },

    getRule(ruleName) {
      return rules.get(ruleName)?.info;
    },

    listRules() {
      return [...rules.values()].map((r) => r.info);
    },

    handle(msg) {
      const { targets, visibleTopic } = route(msg.topic);
      if (targets.length === 0) return undefined;
      const m = new MessageContext(msg, visibleTopic, env);
      let pending: Array<Promise<void>> | undefined;
      for (const rule of targets) {
        rule.counters.matched++;
        let ev: RuleEvaluation | undefined;
        try {
          ev = rule.sql.evaluate(m);
        } catch {
          rule.counters.failed++; // a bug in a function, not a user error: count, never crash the broker
          continue;
        }
        if (ev === undefined) {
          rule.counters.noResult++;
          continue;
        }
        rule.counters.fired++;
        if (rule.actions.length === 0) continue;
        (pending ??= []).push(runActions(rule, ev, m));
      }
      if (!pending) return undefined;
      if (pending.length === 1) return pending[0];
      return Promise.allSettled(pending).then((settled) => {
        const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (failed) throw failed.reason;
      });
    },

    counters() {
      return [...rules.values()].map((r) => ({ ...r.counters }));
    },

    basicIngestMisses() {
      return ingestMisses;
    },
  };
}

/** The documented error-action message (spec §1.12): one per (rule, message), all failures. */
function errorPayload(ruleName: string, m: MessageContext, failures: ActionFailure[]): Value {
  return {
    ruleName,
    topic: m.msg.topic,
    cloudwatchTraceId: m.traceId(),
    clientId: m.msg.clientId ?? 'n/a',
    base64OriginalPayload: m.msg.payload.toString('base64'),
    failures: failures.map((f) => ({ ...f })),
  };
}

function errorText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return String(reason);
}

/** Rule definitions handed out by getRule/listRules are shared, so nobody can edit them in place. */
function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** Checks the payload's shape and returns a normalised private copy (caller edits cannot leak in). */
function validatePayload(payload: TopicRulePayload): TopicRulePayload {
  if (typeof payload !== 'object' || payload === null) throw invalidRequest('topicRulePayload must be an object');
  if (typeof payload.sql !== 'string' || payload.sql.trim().length === 0) throw invalidRequest('topicRulePayload.sql is required');
  if (!Array.isArray(payload.actions)) throw invalidRequest('topicRulePayload.actions must be a list');
  if (payload.actions.length > MAX_ACTIONS) throw invalidRequest(`a rule has at most ${MAX_ACTIONS} actions, got ${payload.actions.length}`);
  if (payload.ruleDisabled !== undefined && typeof payload.ruleDisabled !== 'boolean') throw invalidRequest('topicRulePayload.ruleDisabled must be a boolean');
  if (payload.description !== undefined && typeof payload.description !== 'string') throw invalidRequest('topicRulePayload.description must be a string');
  const version = payload.awsIotSqlVersion ?? DEFAULT_SQL_VERSION;
  if (!SQL_VERSIONS.includes(version)) throw invalidRequest(`awsIotSqlVersion must be one of ${SQL_VERSIONS.join(', ')}, got '${String(version)}'`);
  const copy = structuredClone(payload);
  copy.awsIotSqlVersion = version as SqlVersion;
  copy.ruleDisabled = payload.ruleDisabled ?? false;
  return copy;
}
