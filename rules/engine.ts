// The rules engine: keeps compiled rules, finds them through the topic index, evaluates them
// and runs their actions. Everything expensive (parsing, compiling SQL and templates, action
// validation) happens in putRule; handle() only runs closures.
import { randomUUID } from 'node:crypto';
import type { RuleCounters, RuleInfo, RuleLookups, RuleMessage, RuleSinks, SqlVersion, TopicRulePayload } from './types.js';
import { compileAction, type CompiledAction } from './actions.js';
import { startActions, type InFlight } from './action-run.js';
import { invalidRequest, RulesError } from './errors.js';
import { newCounters } from './metrics.js';
import { compileRuleSql, DEFAULT_SQL_VERSION, SQL_VERSIONS, type CompiledSql, type RuleEvaluation, type SqlFeatures } from './sql/compile.js';
import { MessageContext, type EngineEnv } from './sql/scope.js';
import { TopicIndex } from './topic-index.js';

export interface RulesEngineOptions {
  /** clock for timestamp() and createdAt, epoch milliseconds */
  now?(): number;
  /** source of newuuid() and trace ids */
  newUuid?(): string;
  /** what accountid() returns (12 digits) */
  accountId?: string;
  /** device state for get_thing_shadow() and get_registry_data(); without it rules calling
   * them are refused at creation */
  lookups?: RuleLookups;
}

export interface RulesEngine {
  /** Creates or replaces a rule. Compiles first: an invalid definition throws RulesError and
   * leaves any existing rule of that name working. */
  putRule(ruleName: string, payload: TopicRulePayload): RuleInfo;
  deleteRule(ruleName: string): boolean;
  getRule(ruleName: string): RuleInfo | undefined;
  listRules(): RuleInfo[];
  /** Offers a message to the rules. Every action of every fired rule is started synchronously,
   * in rule order. Only durable actions (iotAnalytics channel writes) hold the acknowledgement:
   * returns undefined when no fired rule has one (the broker acknowledges at once; the payload
   * is not even parsed unless a matching rule read it). Otherwise resolves once those writes
   * are done, and rejects with RuleActionFailedException (after counting and running the error
   * action) when one failed, so the broker can withhold the PUBACK. Other actions (republish,
   * http) finish in the background: counted, and their failures reported through the error
   * action, one message per rule and message once all of that rule's actions settled. */
  handle(msg: RuleMessage): Promise<void> | undefined;
  /** Resolves when no background action or error action is in flight (tests, shutdown). */
  idle(): Promise<void>;
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
  /** how many actions are durable (iotAnalytics): the only ones handle() waits for */
  durableCount: number;
  disabled: boolean;
  counters: RuleCounters;
}

const RULE_NAME = /^[a-zA-Z0-9_]{1,128}$/;
const MAX_ACTIONS = 10;
const BASIC_INGEST_PREFIX = '$aws/rules/';
const DEFAULT_ACCOUNT_ID = '000000000000';
/** shared empty result; never written to */
const NO_RULES: never[] = [];

export function createRulesEngine(sinks: RuleSinks, options: RulesEngineOptions = {}): RulesEngine {
  const env: EngineEnv = {
    now: options.now ?? Date.now,
    newUuid: options.newUuid ?? randomUUID,
    accountId: options.accountId ?? DEFAULT_ACCOUNT_ID,
    lookups: options.lookups,
  };
  const features: SqlFeatures = { lookups: options.lookups !== undefined };
  const rules = new Map<string, CompiledRule>();
  const index = new TopicIndex<CompiledRule>();
  let seq = 0;
  let ingestMisses = 0;

  function compileRule(ruleName: string, payload: TopicRulePayload, createdAt: number): CompiledRule {
    if (typeof ruleName !== 'string' || !RULE_NAME.test(ruleName)) {
      throw invalidRequest(`rule name '${String(ruleName)}' must be 1 to 128 characters of letters, digits and underscores`);
    }
    const p = validatePayload(payload);
    const sql = compileRuleSql(p.sql, p.awsIotSqlVersion!, features);
    const actions = p.actions.map((a, i) => compileAction(a, `actions[${i}]`, sql));
    const errorAction = p.errorAction ? compileAction(p.errorAction, 'errorAction', sql) : undefined;
    return {
      name: ruleName,
      seq: seq++,
      info: deepFreeze({ ruleName, topicRulePayload: p, createdAt, topicFilter: sql.topicFilter ?? '' }),
      sql,
      actions,
      errorAction,
      durableCount: actions.filter((a) => a.durable).length,
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

  /** The rules a message goes to, the topic topic() sees, and its levels when already split. */
  function route(topic: string): { targets: CompiledRule[]; visibleTopic: string; levels: string[] | undefined } {
    if (topic.startsWith(BASIC_INGEST_PREFIX)) {
      // Basic Ingest: straight to the named rule; topic() sees only what follows the name.
      const rest = topic.slice(BASIC_INGEST_PREFIX.length);
      const slash = rest.indexOf('/');
      const name = slash < 0 ? rest : rest.slice(0, slash);
      const rule = rules.get(name);
      if (!rule || rule.disabled) {
        ingestMisses++;
        return { targets: NO_RULES, visibleTopic: topic, levels: undefined };
      }
      return { targets: [rule], visibleTopic: slash < 0 ? '' : rest.slice(slash + 1), levels: undefined };
    }
    if (index.size === 0) return { targets: NO_RULES, visibleTopic: topic, levels: undefined };
    const levels = topic.split('/');
    const targets = index.matchLevels(levels);
    if (targets.length > 1) targets.sort((a, b) => a.seq - b.seq);
    return { targets, visibleTopic: topic, levels };
  }

  // Background work (actions and error actions) still in flight, for idle().
  let inFlightCount = 0;
  let idleWaiters: Array<() => void> = [];
  const inFlight: InFlight = {
    begin: () => { inFlightCount++; },
    end: () => {
      if (--inFlightCount === 0 && idleWaiters.length > 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
      }
    },
  };

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
      const { targets, visibleTopic, levels } = route(msg.topic);
      if (targets.length === 0) return undefined;
      const m = new MessageContext(msg, visibleTopic, env, levels);
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
        const durable = startActions(rule, ev, m, sinks, inFlight);
        if (durable) (pending ??= []).push(durable);
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

    idle() {
      return inFlightCount === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve));
    },

    basicIngestMisses() {
      return ingestMisses;
    },
  };
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
