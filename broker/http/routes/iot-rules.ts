// The AWS IoT topic rules API (control plane, restJson1, as `@aws-sdk/client-iot` calls it;
// spec §2). Registered in the AWS scope of http/server.ts, which gives errors the AWS shape.
//   POST   /rules/{ruleName}          CreateTopicRule   body = TopicRulePayload → 200, empty
//   PATCH  /rules/{ruleName}          ReplaceTopicRule  body = TopicRulePayload → 200, empty
//   GET    /rules/{ruleName}          GetTopicRule      → {ruleArn, rule: {...}}
//   GET    /rules?topic=&maxResults=&nextToken=&ruleDisabled=   ListTopicRules → {rules, nextToken?}
//   DELETE /rules/{ruleName}          DeleteTopicRule   → 200, empty
//   POST   /rules/{ruleName}/enable   EnableTopicRule   → 200, empty
//   POST   /rules/{ruleName}/disable  DisableTopicRule  → 200, empty
// Not yet authenticated: SigV4 verification comes later; any request is accepted.
import { topicMatches, type TopicRulePayload } from '../../../rules/index.js';
import { BrokerError } from '../../errors.js';
import type { RuleStore, RuleView } from '../../rules-store.js';
import type { Http, Reply } from '../server.js';

const RULE_NAME = /^[a-zA-Z0-9_]{1,128}$/;
const MAX_RESULTS = 10_000;
const DEFAULT_MAX_RESULTS = 1_000;

interface NameParams { ruleName: string }
interface ListQuery { topic?: unknown; maxResults?: unknown; nextToken?: unknown; ruleDisabled?: unknown }

export interface IotRulesOptions {
  /** arn:aws:iot:<region>:<account>:rule/<name> */
  ruleArn(ruleName: string): string;
}

export function iotRulesRoutes(store: RuleStore, options: IotRulesOptions) {
  const { ruleArn } = options;
  return (app: Http) => {
    // x-amz-tagging (CreateTopicRule's tags) is accepted and not kept: we have no tagging API yet.
    app.post<{ Params: NameParams }>('/rules/:ruleName', async (req, reply) => {
      store.create(ruleName(req.params), payloadOf(req.body));
      return empty(reply);
    });
    app.patch<{ Params: NameParams }>('/rules/:ruleName', async (req, reply) => {
      store.replace(ruleName(req.params), payloadOf(req.body));
      return empty(reply);
    });
    app.get<{ Params: NameParams }>('/rules/:ruleName', async (req) => {
      const rule = store.get(ruleName(req.params));
      return { ruleArn: ruleArn(rule.ruleName), rule: ruleBody(rule) };
    });
    app.delete<{ Params: NameParams }>('/rules/:ruleName', async (req, reply) => {
      store.delete(ruleName(req.params));
      return empty(reply);
    });
    app.post<{ Params: NameParams }>('/rules/:ruleName/enable', async (req, reply) => {
      store.setDisabled(ruleName(req.params), false);
      return empty(reply);
    });
    app.post<{ Params: NameParams }>('/rules/:ruleName/disable', async (req, reply) => {
      store.setDisabled(ruleName(req.params), true);
      return empty(reply);
    });
    app.get<{ Querystring: ListQuery }>('/rules', async (req) => listRules(store.list(), req.query, ruleArn));
  };
}

function empty(reply: Reply) {
  return reply.status(200).send();
}

function ruleName(params: NameParams): string {
  const name = params.ruleName;
  if (!RULE_NAME.test(name)) {
    throw new BrokerError('InvalidRequestException', `ruleName '${name}' must be 1 to 128 characters of letters, digits and underscores`);
  }
  return name;
}

/** Only the outer shape is checked here; the rules engine validates the members and the SQL. */
function payloadOf(body: unknown): TopicRulePayload {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BrokerError('InvalidRequestException', 'the request body must be a TopicRulePayload JSON object with sql and actions');
  }
  return body as TopicRulePayload;
}

/** GetTopicRule's `rule`; createdAt in epoch seconds, as restJson1 timestamps are. */
function ruleBody(rule: RuleView) {
  const p = rule.topicRulePayload;
  return {
    ruleName: rule.ruleName,
    sql: p.sql,
    description: p.description ?? '',
    createdAt: rule.createdAt / 1000,
    actions: p.actions,
    ruleDisabled: p.ruleDisabled === true,
    awsIotSqlVersion: p.awsIotSqlVersion,
    errorAction: p.errorAction,
  };
}

/** Rules ordered by name; nextToken is an opaque token naming the last rule of the page, so a
 * page boundary stays right when rules are added or deleted between pages. */
function listRules(all: RuleView[], query: ListQuery, ruleArn: (name: string) => string) {
  const topic = optionalString(query.topic, 'topic');
  const disabled = optionalBoolean(query.ruleDisabled, 'ruleDisabled');
  const max = maxResults(query.maxResults);
  const after = query.nextToken === undefined ? undefined : decodeToken(query.nextToken);

  const rules = all.filter((r) =>
    (after === undefined || r.ruleName > after) &&
    (disabled === undefined || (r.topicRulePayload.ruleDisabled === true) === disabled) &&
    (topic === undefined || r.topicFilter === topic || (r.topicFilter !== '' && topicMatches(r.topicFilter, topic))),
  );
  const page = rules.slice(0, max);
  const body: { rules: unknown[]; nextToken?: string } = {
    rules: page.map((r) => ({
      ruleArn: ruleArn(r.ruleName),
      ruleName: r.ruleName,
      topicPattern: r.topicFilter,
      createdAt: r.createdAt / 1000,
      ruleDisabled: r.topicRulePayload.ruleDisabled === true,
    })),
  };
  if (rules.length > max) body.nextToken = encodeToken(page[page.length - 1]!.ruleName);
  return body;
}

function optionalString(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BrokerError('InvalidRequestException', `${name} must be given once`);
  return v;
}

function optionalBoolean(v: unknown, name: string): boolean | undefined {
  const s = optionalString(v, name);
  if (s === undefined) return undefined;
  if (s !== 'true' && s !== 'false') throw new BrokerError('InvalidRequestException', `${name} must be true or false, got '${s}'`);
  return s === 'true';
}

function maxResults(v: unknown): number {
  const s = optionalString(v, 'maxResults');
  if (s === undefined) return DEFAULT_MAX_RESULTS;
  const n = /^\d{1,6}$/.test(s) ? Number(s) : NaN;
  if (!(n >= 1 && n <= MAX_RESULTS)) throw new BrokerError('InvalidRequestException', `maxResults must be a whole number from 1 to ${MAX_RESULTS}, got '${s}'`);
  return n;
}

function encodeToken(lastName: string): string {
  return Buffer.from(JSON.stringify({ after: lastName })).toString('base64url');
}

function decodeToken(v: unknown): string {
  const s = optionalString(v, 'nextToken');
  try {
    const after = (JSON.parse(Buffer.from(s!, 'base64url').toString('utf8')) as { after?: unknown }).after;
    if (typeof after === 'string') return after;
  } catch {
    // fall through to the coded error
  }
  throw new BrokerError('InvalidRequestException', 'nextToken is not a token this server returned');
}
