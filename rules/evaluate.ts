// One-off evaluation of a statement against one message, without a rule or actions: the core
// of `POST /api/rules/test` and of the conformance vectors.
import { randomUUID } from 'node:crypto';
import type { RuleLookups, RuleMessage, SqlVersion } from './types.js';

import { compileRuleSql, DEFAULT_SQL_VERSION } from './sql/compile.js';
import { MessageContext } from './sql/scope.js';
import { serializeOutput } from './sql/values.js';
import { topicMatches } from './topic-index.js';

export interface EvaluateInput {
  sql: string;
  version?: SqlVersion;
  message: RuleMessage;
  now?(): number;
  accountId?: string;
  /** the device state get_thing_shadow()/get_registry_data() read; without it they are refused */
  lookups?: RuleLookups;
}

export interface EvaluateResult {
  /** the topic matched FROM (always true for a statement without FROM) */
  matched: boolean;
  /** WHERE was true */
  fired: boolean;
  /** the outgoing payload bytes when fired */
  output?: Buffer;
}

/** Throws RulesError (SqlParseException) for an invalid statement. */
export function evaluateRuleSql(input: EvaluateInput): EvaluateResult {
  const sql = compileRuleSql(input.sql, input.version ?? DEFAULT_SQL_VERSION, { lookups: input.lookups !== undefined });
  const { message } = input;
  const matched = sql.topicFilter === undefined || topicMatches(sql.topicFilter, message.topic);
  if (!matched) return { matched, fired: false };
  const m = new MessageContext(message, message.topic, {
    now: input.now ?? Date.now,
    newUuid: randomUUID,
    accountId: input.accountId ?? '000000000000',
    lookups: input.lookups,
  });
  const ev = sql.evaluate(m);
  if (!ev) return { matched, fired: false };
  return { matched, fired: true, output: serializeOutput(ev.output) };
}
