// Rule and pipeline health for the dashboard (our extension, root scope):
//   GET /api/rules     → RuleStatusBody: every rule the engine runs with its SQL, state, action
//                        kinds and counters (matched, fired, ... as on /metrics)
//   GET /api/pipelines → PipelineStatusBody: every pipeline with rows written, write errors,
//                        backlog, the latest failure and per-activity counters in execution order
// Both read counters the engines keep anyway; nothing is counted for these routes.
import { DEFAULT_SQL_VERSION, type RuleAction, type RulesEngine } from '../../../rules/index.js';
import type { Analytics } from '../../../analytics/index.js';
import type { PipelineStatus, PipelineStatusBody, RuleStatus, RuleStatusBody } from '../../contract.js';
import type { Http } from '../server.js';

export function statusRoutes(rules: Pick<RulesEngine, 'listRules' | 'counters'>, analytics: Pick<Analytics, 'counters'>) {
  return (app: Http) => {
    app.get('/api/rules', async (): Promise<RuleStatusBody> => ({ rules: ruleStatus(rules) }));
    app.get('/api/pipelines', async (): Promise<PipelineStatusBody> => ({ pipelines: pipelineStatus(analytics) }));
  };
}

/** The kind of a rule action: its one member's name (`{"republish": {...}}` → "republish"). */
function actionKind(action: RuleAction): string {
  return Object.keys(action)[0] ?? 'unknown';
}

export function ruleStatus(rules: Pick<RulesEngine, 'listRules' | 'counters'>): RuleStatus[] {
  const counters = new Map(rules.counters().map((c) => [c.ruleName, c]));
  return rules.listRules()
    .map((r) => {
      const p = r.topicRulePayload;
      const c = counters.get(r.ruleName);
      const status: RuleStatus = {
        ruleName: r.ruleName, sql: p.sql, awsIotSqlVersion: p.awsIotSqlVersion ?? DEFAULT_SQL_VERSION, enabled: p.ruleDisabled !== true,
        actions: p.actions.map(actionKind),
        counters: { matched: c?.matched ?? 0, fired: c?.fired ?? 0, noResult: c?.noResult ?? 0, failed: c?.failed ?? 0, actionsOk: c?.actionsOk ?? 0, actionsFailed: c?.actionsFailed ?? 0 },
      };
      if (p.errorAction) status.errorAction = actionKind(p.errorAction);
      return status;
    })
    .sort((a, b) => (a.ruleName < b.ruleName ? -1 : a.ruleName > b.ruleName ? 1 : 0));
}

export function pipelineStatus(analytics: Pick<Analytics, 'counters'>): PipelineStatus[] {
  return Object.entries(analytics.counters().pipelines)
    .map(([pipelineName, p]) => {
      const status: PipelineStatus = {
        pipelineName, channelName: p.channelName, datastoreName: p.datastoreName, rowsOut: p.rowsOut, writeErrors: p.writeErrors, backlog: p.backlog,
        // counters() keeps the activities in execution order (channel first, datastore last)
        activities: Object.entries(p.activities).map(([name, a]) => ({ name, type: a.type, in: a.in, out: a.out, dropped: a.dropped, errors: a.errors })),
      };
      if (p.lastError) status.lastError = { ...p.lastError };
      return status;
    })
    .sort((a, b) => (a.pipelineName < b.pipelineName ? -1 : a.pipelineName > b.pipelineName ? 1 : 0));
}
