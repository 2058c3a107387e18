// POST /api/rules/test: runs one statement against one message without creating a rule, through
// the same compiled code path live messages take (evaluateRuleSql). For operators and the
// dashboard's rule editor.
//   request  {"sql", "awsIotSqlVersion"?, "topic", "payload": <any JSON> | "payloadBase64", "clientId"?}
//   response {"matched", "fired", "output"?: <JSON>, "outputBase64"?: "..."}
// `payload` is sent as its JSON text (so "payload": "hi" is the 4 bytes "hi" with quotes); raw
// bytes go in `payloadBase64`. The output is given as JSON when it parses as JSON, else base64.
import { evaluateRuleSql, SQL_VERSIONS, type RuleLookups, type SqlVersion } from '../../../rules/index.js';
import { BrokerError } from '../../errors.js';
import { onlyMembers } from '../aws-params.js';
import type { RulesTestBody } from '../../contract.js';
import type { Http } from '../server.js';

export interface RulesTestOptions {
  /** what accountid() returns, as in live rules */
  accountId: string;
  /** largest request body, bytes */
  bodyLimit: number;
  /** the same registry and shadow lookups live rules use */
  lookups?: RuleLookups;
}

export function rulesTestRoutes(options: RulesTestOptions) {
  return (app: Http) => {
    app.post('/api/rules/test', { bodyLimit: options.bodyLimit }, async (req): Promise<RulesTestBody> => {
      const r = parseRequest(req.body);
      const result = evaluateRuleSql({
        sql: r.sql,
        version: r.version,
        accountId: options.accountId,
        lookups: options.lookups,
        message: { topic: r.topic, payload: r.payload, clientId: r.clientId, receivedAt: Date.now(), protocol: 'http' },
      });
      const body: RulesTestBody = { matched: result.matched, fired: result.fired };
      if (result.output) {
        const json = asJson(result.output);
        if (json.ok) body.output = json.value;
        else body.outputBase64 = result.output.toString('base64');
      }
      return body;
    });
  };
}

interface TestRequest {
  sql: string;
  version: SqlVersion | undefined;
  topic: string;
  payload: Buffer;
  clientId: string | undefined;
}

function parseRequest(raw: unknown): TestRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('the body must be a JSON object with sql, topic and payload or payloadBase64');
  const b = raw as Record<string, unknown>;
  onlyMembers(b, ['sql', 'awsIotSqlVersion', 'topic', 'payload', 'payloadBase64', 'clientId'], 'POST /api/rules/test');
  if (typeof b.sql !== 'string' || b.sql.trim() === '') bad('sql must be a non-empty string');
  if (typeof b.topic !== 'string' || b.topic === '') bad('topic must be a non-empty string');
  if (b.awsIotSqlVersion !== undefined && !SQL_VERSIONS.includes(b.awsIotSqlVersion as SqlVersion)) {
    bad(`awsIotSqlVersion must be one of ${SQL_VERSIONS.join(', ')}`);
  }
  if (b.clientId !== undefined && typeof b.clientId !== 'string') bad('clientId must be a string');
  const hasJson = 'payload' in b && b.payload !== undefined;
  const hasBase64 = b.payloadBase64 !== undefined;
  if (hasJson === hasBase64) bad('give exactly one of payload (any JSON) and payloadBase64');
  let payload: Buffer;
  if (hasJson) {
    payload = Buffer.from(JSON.stringify(b.payload), 'utf8');
  } else {
    if (typeof b.payloadBase64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b.payloadBase64) || b.payloadBase64.length % 4 !== 0) {
      bad('payloadBase64 must be base64 text');
    }
    payload = Buffer.from(b.payloadBase64, 'base64');
  }
  return { sql: b.sql, version: b.awsIotSqlVersion as SqlVersion | undefined, topic: b.topic, payload, clientId: b.clientId };
}

function asJson(bytes: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) };
  } catch {
    return { ok: false };
  }
}

function bad(message: string): never {
  throw new BrokerError('InvalidRequestException', message);
}
