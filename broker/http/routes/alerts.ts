// Alerts (our extension, in the AWS scope: SigV4 and the AWS error shape), for operators and the
// dashboard. The lifecycle and its rules live in analytics/anomaly/alerts.ts.
//   GET  /api/alerts?state=&severity=&deviceId=&source=&since=&until=&maxResults=&nextToken=
//        → {alerts: [Alert], nextToken?}, newest first; since/until bound createdAt (ISO-8601 or
//        epoch ms, [since, until))
//   GET  /api/alerts/{id}                → Alert
//   POST /api/alerts/{id}/acknowledge    {note?} → Alert
//   POST /api/alerts/{id}/clear          {note?} → Alert
import type { Analytics, AlertFilter, AlertSeverity, AlertState } from '../../../analytics/index.js';
import type { AlertListBody } from '../../contract.js';
import { BrokerError } from '../../errors.js';
import { jsonBody, queryInt, queryString, type Query } from '../aws-params.js';
import type { Http } from '../server.js';

interface IdParams { id: string }

export function alertRoutes(analytics: Analytics) {
  return (app: Http) => {
    app.get<{ Querystring: Query }>('/api/alerts', async (req): Promise<AlertListBody> => {
      const q = req.query;
      const filter: AlertFilter = {};
      const state = queryString(q, 'state');
      if (state !== undefined) filter.state = state as AlertState;
      const severity = queryString(q, 'severity');
      if (severity !== undefined) filter.severity = severity as AlertSeverity;
      const deviceId = queryString(q, 'deviceId');
      if (deviceId !== undefined) filter.deviceId = deviceId;
      const source = queryString(q, 'source');
      if (source !== undefined) filter.source = source;
      const since = timeOf(queryString(q, 'since'), 'since');
      if (since !== undefined) filter.since = since;
      const until = timeOf(queryString(q, 'until'), 'until');
      if (until !== undefined) filter.until = until;
      const page = await analytics.alerts.list(filter, { maxResults: queryInt(q, 'maxResults'), nextToken: queryString(q, 'nextToken') });
      return page.nextToken === undefined ? { alerts: page.items } : { alerts: page.items, nextToken: page.nextToken };
    });
    app.get<{ Params: IdParams }>('/api/alerts/:id', async (req) => analytics.alerts.get(req.params.id));
    app.post<{ Params: IdParams }>('/api/alerts/:id/acknowledge', async (req) => analytics.alerts.acknowledge(req.params.id, noteOf(req.body)));
    app.post<{ Params: IdParams }>('/api/alerts/:id/clear', async (req) => analytics.alerts.clear(req.params.id, noteOf(req.body)));
  };
}

function noteOf(body: unknown): string | undefined {
  const note: unknown = jsonBody(body).note;
  if (note === undefined || note === null) return undefined;
  if (typeof note !== 'string') throw new BrokerError('InvalidRequestException', 'note must be a string');
  return note;
}

function timeOf(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) throw new BrokerError('InvalidRequestException', `${name} must be an ISO-8601 timestamp or epoch milliseconds, got '${v}'`);
  return t;
}
