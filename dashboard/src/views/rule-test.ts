// The "Test a rule" form's logic without the DOM: a topic the statement's FROM filter matches, the
// payload text checked as JSON before it is sent, and the request and answer of POST
// /api/rules/test (broker/http/routes/rules-test.ts). Pure, unit tested.

import type { RulesTestBody, RulesTestRequest } from '../../../broker/contract.js';

export type RuleTestAnswer = RulesTestBody;
export type RuleTestRequest = Pick<RulesTestRequest, 'sql' | 'awsIotSqlVersion' | 'topic' | 'payload'>;

/**
 * A concrete topic that the statement's `FROM '<filter>'` matches: each `+` level becomes
 * `device-1`, a trailing `#` becomes `data`. Empty when there is no FROM clause to go by.
 */
export function sampleTopic(sql: string): string {
  const m = /\bFROM\s+'((?:[^']|'')*)'/i.exec(sql);
  if (!m) return '';
  const filter = m[1].replace(/''/g, "'");
  return filter
    .split('/')
    .map((level) => (level === '+' ? 'device-1' : level === '#' ? 'data' : level))
    .join('/');
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** The payload textarea as JSON, or why it is not JSON (said before any request is made). */
export function parsePayload(text: string): Parsed<unknown> {
  if (text.trim() === '') return { ok: false, error: 'the payload is empty: give a JSON document, e.g. {"temperature": 21.5}' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: `the payload is not valid JSON: ${(error as Error).message}` };
  }
}

/** The request body, or the first field the operator still has to fill in. */
export function buildTestRequest(fields: { sql: string; version: string; topic: string; payload: string }): Parsed<RuleTestRequest> {
  if (fields.sql.trim() === '') return { ok: false, error: 'write the SQL statement to test' };
  if (fields.topic.trim() === '') return { ok: false, error: 'give the topic the message is published on' };
  const payload = parsePayload(fields.payload);
  if (!payload.ok) return payload;
  const request: RuleTestRequest = { sql: fields.sql, topic: fields.topic.trim(), payload: payload.value };
  if (fields.version !== '') request.awsIotSqlVersion = fields.version;
  return { ok: true, value: request };
}

/** The answer in words and the output as text to show in a <pre>. */
export function describeTestAnswer(answer: RuleTestAnswer): { summary: string; output: string } {
  const summary = !answer.matched
    ? 'No match: the topic does not match the FROM filter.'
    : !answer.fired
      ? 'Matched the topic, but WHERE was false: the rule would not fire.'
      : 'Fired: the rule would run its actions with this output.';
  let output = '';
  if (answer.output !== undefined) output = JSON.stringify(answer.output, null, 2);
  else if (answer.outputBase64 !== undefined) output = `(not JSON, base64) ${answer.outputBase64}`;
  return { summary, output };
}
