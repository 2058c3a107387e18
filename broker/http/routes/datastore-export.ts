// Datastore export (our extension, in the AWS scope: SigV4 and the AWS error shape): the
// datastore's rows as hive-partitioned Parquet under <dataDir>/exports/<datastore>/ for Spark,
// Trino or Athena (layout and replacement rules in analytics/datastore/export.ts).
//   POST /api/datastores/{datastoreName}/export   {startTime?, endTime?}
//     times: ISO-8601 text or epoch milliseconds; widened to whole UTC days; none = every day
//   → 200 {datastoreName, directory, startTime?, endTime? (ISO-8601), rowCount, days, fileCount, files}
import type { Analytics } from '../../../analytics/index.js';
import { jsonBody, onlyMembers } from '../aws-params.js';
import { BrokerError } from '../../errors.js';
import type { Http } from '../server.js';

interface NameParams { datastoreName: string }

export function datastoreExportRoutes(analytics: Analytics) {
  return (app: Http) => {
    app.post<{ Params: NameParams }>('/api/datastores/:datastoreName/export', async (req) => {
      const body = jsonBody(req.body) as Record<string, unknown>;
      onlyMembers(body, ['startTime', 'endTime'], 'POST /api/datastores/{name}/export');
      const range: { startTime?: number; endTime?: number } = {};
      for (const k of ['startTime', 'endTime'] as const) {
        const t = timeOf(body[k], k);
        if (t !== undefined) range[k] = t;
      }
      const r = await analytics.exportDatastore(req.params.datastoreName, range);
      return {
        ...r,
        ...(r.startTime === undefined ? {} : { startTime: new Date(r.startTime).toISOString() }),
        ...(r.endTime === undefined ? {} : { endTime: new Date(r.endTime).toISOString() }),
      };
    });
  };
}

function timeOf(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const t = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(t)) throw new BrokerError('InvalidRequestException', `${name} must be an ISO-8601 timestamp or epoch milliseconds, got ${JSON.stringify(v)}`);
  return t;
}
