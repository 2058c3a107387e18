// The rules folder's public surface. Everything else is internal.
export { createRulesEngine } from './engine.js';
export type { RulesEngine, RulesEngineOptions } from './engine.js';
export { RulesError, RULES_ERRORS } from './errors.js';
export type { RulesErrorCode } from './errors.js';
export { compileRuleSql, DEFAULT_SQL_VERSION, SQL_VERSIONS, topicFilterProblem } from './sql/compile.js';
export type { CompiledSql } from './sql/compile.js';
export { evaluateRuleSql } from './evaluate.js';
export type { EvaluateInput, EvaluateResult } from './evaluate.js';
export { topicMatches, TopicIndex } from './topic-index.js';
export { SUPPORTED_ACTIONS } from './actions.js';
export type {
  HttpAction,
  HttpRequest,
  IotAnalyticsAction,
  RegistryApi,
  RuleLookups,
  RepublishAction,
  RuleAction,
  RuleCounters,
  RuleInfo,
  RuleMessage,
  RuleSinks,
  SqlVersion,
  TopicRulePayload,
} from './types.js';
