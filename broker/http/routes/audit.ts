// The audit log, read back (README "Security"; writing is broker/audit-log.ts, fed by the hook in
// ../server.ts). Gated like every /api route: a session or SigV4.
//   GET /api/audit?since=&limit= → AuditListBody: the latest entries, newest first; `since`
//       (ISO 8601 or epoch ms) keeps those at or after it; `limit` 1–1000, default 100
import type { AuditListBody } from '../../contract.js';
import type { AuditLog } from '../../audit-log.js';
import { BrokerError } from '../../errors.js';
import { queryInt, queryString, type Query } from '../aws-params.js';
import type { Http } from '../server.js';

const MAX_LIMIT = 1000;

export function auditRoutes(audit: Pick<AuditLog, 'latest'>) {
  return (app: Http) => {
    app.get<{ Querystring: Query }>('/api/audit', async (req): Promise<AuditListBody> => {
      const limit = queryInt(req.query, 'limit') ?? 100;
      if (limit < 1 || limit > MAX_LIMIT) throw new BrokerError('InvalidRequestException', `limit must be 1 to ${MAX_LIMIT}, got ${limit}`);
      const since = sinceOf(queryString(req.query, 'since'));
      return { entries: audit.latest(since === undefined ? { limit } : { since, limit }) };
    });
  };
}

/** `since` as the entries' own ISO format, so entries compare with it as strings. */
function sinceOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const ms = /^\d{1,15}$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw new BrokerError('InvalidRequestException', `since must be an ISO 8601 time or epoch milliseconds, got '${raw.slice(0, 64)}'`);
  return new Date(ms).toISOString();
}
