// Dataset contents for the dashboard (our extension, root scope):
//   POST /api/datasets/{name}/contents              → runs a content now (what CreateDatasetContent
//        starts) and answers once it is done: DatasetContentBody (SUCCEEDED or FAILED, 200)
//   GET  /api/datasets/{name}/contents/latest       → the latest SUCCEEDED content (404 when none)
//   GET  /api/datasets/{name}/contents/{versionId}.csv → the content's CSV file as an attachment
// Rows come from the content's own CSV file (the query is not run again), the first 10,000 of them.
// Errors: 404 ResourceNotFoundException (no such dataset or version), 409
// ResourceAlreadyExistsException (a content is still being created), 429 ThrottlingException.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ContentVersion, DatasetService, VersionSelector } from '../../../analytics/index.js';
import type { DatasetContentBody } from '../../contract.js';
import { BrokerError } from '../../errors.js';
import type { Http } from '../server.js';

/** rows a content body carries at most (the CSV has them all) */
export const MAX_CONTENT_ROWS = 10_000;

type Datasets = Pick<DatasetService, 'createContent' | 'finished' | 'contentTable' | 'contentFile'>;

export function datasetContentsRoutes(datasets: () => Datasets) {
  return (app: Http) => {
    app.post<{ Params: { name: string } }>('/api/datasets/:name/contents', async (req): Promise<DatasetContentBody> => {
      const { name } = req.params;
      const versionId = datasets().createContent(name);
      await datasets().finished(name, versionId);
      return contentBody(datasets(), name, versionId);
    });
    app.get<{ Params: { name: string } }>('/api/datasets/:name/contents/latest', async (req): Promise<DatasetContentBody> => contentBody(datasets(), req.params.name, '$LATEST_SUCCEEDED'));
    app.get<{ Params: { name: string; file: string } }>('/api/datasets/:name/contents/:file', async (req, reply) => {
      const { name, file } = req.params;
      if (!file.endsWith('.csv')) throw new BrokerError('NotFound', `no route for GET ${req.url}: a content downloads as <versionId>.csv`);
      const versionId = file.slice(0, -4);
      const path = datasets().contentFile(name, versionId);
      const size = path === undefined ? undefined : await stat(path).then((s) => s.size, () => undefined);
      if (path === undefined || size === undefined) throw new BrokerError('ResourceNotFoundException', `dataset ${name} has no content ${versionId} with a CSV (unknown, FAILED, deleted or pruned)`);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-length', size)
        .header('content-disposition', `attachment; filename="${name}-${versionId}.csv"`)
        .send(createReadStream(path));
    });
  };
}

async function contentBody(datasets: Datasets, name: string, selector: VersionSelector): Promise<DatasetContentBody> {
  const { version, table } = await datasets.contentTable(name, selector, MAX_CONTENT_ROWS);
  const body: DatasetContentBody = {
    datasetName: name, versionId: version.versionId, state: finalState(version), completedAt: version.completionTime ?? version.creationTime,
    columns: table.columns, rows: table.rows, truncated: table.truncated,
    // a FAILED content has no file to download
    csvPath: version.state === 'SUCCEEDED' ? csvPath(name, version.versionId) : '',
  };
  if (version.reason !== undefined) body.reason = version.reason;
  return body;
}

function finalState(v: ContentVersion): 'SUCCEEDED' | 'FAILED' {
  // contentTable() is only asked for finished versions; a CREATING one cannot reach here
  return v.state === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED';
}

export function csvPath(datasetName: string, versionId: string): string {
  return `/api/datasets/${encodeURIComponent(datasetName)}/contents/${encodeURIComponent(versionId)}.csv`;
}
