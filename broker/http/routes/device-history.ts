// One device's history for the dashboard's charts (our extension, root scope):
//   GET /api/devices/{deviceId}/history?datastore=&attributes=a,b&from=&to=&points=&deviceAttribute=
//     → HistoryBody (contract.ts). from/to: epoch ms or ISO-8601, default the last hour; points:
//     1..10000, default 1000; datastore: may be left out when only one exists. 400
//     InvalidRequestException (bad parameter, unknown or non-numeric attribute), 404
//     ResourceNotFoundException (unknown datastore).
// The query itself is analytics' (analytics/datastore/history.ts).
import { MAX_HISTORY_POINTS, type Analytics } from '../../../analytics/index.js';
import type { HistoryBody } from '../../contract.js';
import { BrokerError } from '../../errors.js';
import { queryInt, queryString, type Query } from '../aws-params.js';
import type { Http } from '../server.js';

const DEFAULT_POINTS = 1000;
const DEFAULT_RANGE_MS = 3_600_000;

export function deviceHistoryRoutes(analytics: Pick<Analytics, 'deviceHistory' | 'listDatastores'>, now: () => number = Date.now) {
  return (app: Http) => {
    app.get<{ Params: { deviceId: string }; Querystring: Query }>('/api/devices/:deviceId/history', async (req): Promise<HistoryBody> => {
      const q = req.query;
      const to = timeOf(queryString(q, 'to'), 'to') ?? now();
      const from = timeOf(queryString(q, 'from'), 'from') ?? to - DEFAULT_RANGE_MS;
      if (from >= to) throw new BrokerError('InvalidRequestException', `from must be before to (got from=${from}, to=${to})`);
      const points = queryInt(q, 'points') ?? DEFAULT_POINTS;
      if (points < 1 || points > MAX_HISTORY_POINTS) throw new BrokerError('InvalidRequestException', `points must be from 1 to ${MAX_HISTORY_POINTS}, got ${points}`);
      const attributes = queryString(q, 'attributes')?.split(',').map((a) => a.trim()).filter((a) => a !== '');
      const deviceAttribute = queryString(q, 'deviceAttribute');
      return analytics.deviceHistory({
        datastoreName: datastoreOf(queryString(q, 'datastore'), analytics.listDatastores()),
        deviceId: req.params.deviceId,
        from, to, points,
        ...(attributes && attributes.length > 0 ? { attributes } : {}),
        ...(deviceAttribute !== undefined ? { deviceAttribute } : {}),
      });
    });
  };
}

function datastoreOf(given: string | undefined, existing: string[]): string {
  if (given !== undefined && given !== '') return given;
  if (existing.length === 1) return existing[0];
  throw new BrokerError('InvalidRequestException', existing.length === 0 ? 'there is no datastore yet' : `datastore is required: there are ${existing.length} (${existing.slice(0, 10).join(', ')}${existing.length > 10 ? ', ...' : ''})`);
}

function timeOf(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isSafeInteger(t)) throw new BrokerError('InvalidRequestException', `${name} must be an ISO-8601 timestamp or epoch milliseconds, got '${v}'`);
  return t;
}
