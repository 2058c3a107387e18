// Our own dataset routes for the dashboard and operators (the AWS-compatible IoT Analytics API
// comes later under its own AWS paths):
//   GET  /api/datasets              → {"datasets": [name, ...]}
//   POST /api/datasets/:name/run    → DatasetResult (analytics/types.ts), or a coded error
import type { Http } from '../server.js';
import type { Analytics } from '../../../analytics/index.js';
import type { DatasetListBody } from '../../contract.js';

export function datasetRoutes(analytics: Analytics) {
  return (app: Http) => {
    app.get('/api/datasets', async (): Promise<DatasetListBody> => ({ datasets: analytics.listDatasets() }));
    app.post<{ Params: { name: string } }>('/api/datasets/:name/run', async (req) => analytics.runDataset(req.params.name));
  };
}
