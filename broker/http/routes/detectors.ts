// Detector resources (our extension, in the AWS scope: SigV4 and the AWS error shape): anomaly
// detectors and data-quality alarms bound to datastore columns (analytics/anomaly/).
//   PUT    /api/detectors/{detectorName}   a definition → 200 {definition, counters} (create or replace)
//   GET    /api/detectors                  → 200 {detectors: [{definition, counters}, ...]} by name
//   GET    /api/detectors/{detectorName}   → 200 {definition, counters}
//   DELETE /api/detectors/{detectorName}   → 200 {} (its open alerts clear)
// The body's detectorName may be left out; when given it must equal the path's.
import type { Analytics } from '../../../analytics/index.js';
import { jsonBody } from '../aws-params.js';
import { BrokerError } from '../../errors.js';
import type { Http } from '../server.js';

interface NameParams { detectorName: string }

export function detectorRoutes(analytics: Analytics) {
  return (app: Http) => {
    app.put<{ Params: NameParams }>('/api/detectors/:detectorName', async (req) => {
      const body = jsonBody(req.body) as Record<string, unknown>;
      const name = req.params.detectorName;
      if (body.detectorName !== undefined && body.detectorName !== name) {
        throw new BrokerError('InvalidRequestException', `detectorName ${JSON.stringify(body.detectorName)} in the body differs from "${name}" in the path`);
      }
      return analytics.detectors.put({ ...body, detectorName: name });
    });
    app.get('/api/detectors', async () => ({ detectors: analytics.detectors.list() }));
    app.get<{ Params: NameParams }>('/api/detectors/:detectorName', async (req) => analytics.detectors.describe(req.params.detectorName));
    app.delete<{ Params: NameParams }>('/api/detectors/:detectorName', async (req) => {
      await analytics.detectors.delete(req.params.detectorName);
      return {};
    });
  };
}
