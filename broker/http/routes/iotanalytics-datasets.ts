// AWS IoT Analytics datasets (restJson1, as `@aws-sdk/client-iotanalytics` calls it; spec §5).
// Registered in the AWS scope of http/server.ts, which gives errors the AWS shape.
//   POST   /datasets                         CreateDataset → 201 {datasetName, datasetArn, retentionPeriod}
//   GET    /datasets?nextToken&maxResults    ListDatasets → {datasetSummaries, nextToken?}
//   GET    /datasets/{name}                  DescribeDataset → {dataset}
//   PUT    /datasets/{name}                  UpdateDataset → 200
//   DELETE /datasets/{name}                  DeleteDataset → 204 (contents too)
//   POST   /datasets/{name}/content          CreateDatasetContent {versionId?} → {versionId}
//   GET    /datasets/{name}/content?versionId   GetDatasetContent → {entries, timestamp, status}
//   GET    /datasets/{name}/contents?scheduledOnOrAfter&scheduledBefore&maxResults&nextToken
//   DELETE /datasets/{name}/content?versionId   DeleteDatasetContent → 204
// Times leave as epoch seconds; dataURI is a signed URL on our own HTTP port (dataset-content.ts).
import { AnalyticsError, paginate, type Analytics, type ContentVersion, type DatasetDefinition } from '../../../analytics/index.js';
import { queryString, type Query } from '../aws-params.js';
import type { Http } from '../server.js';
import type { ContentUrlSigner } from './dataset-content.js';
import { listBody, pageRequest, queryTime, requestBody, seconds } from './iotanalytics-wire.js';

interface NameParams { datasetName: string }

const DEFAULT_RETENTION = { numberOfDays: 90, unlimited: false };

export function iotAnalyticsDatasetRoutes(analytics: Analytics, urls: ContentUrlSigner) {
  const datasets = analytics.datasets;
  const arn = (name: string) => analytics.resourceArn('dataset', name);
  return (app: Http) => {
    app.post('/datasets', async (req, reply) => {
      const body = requestBody<Record<string, unknown>>(req.body);
      const name = body.datasetName;
      if (typeof name === 'string' && datasets.find(name)) {
        throw new AnalyticsError('ResourceAlreadyExistsException', `dataset ${name} already exists`, { details: { resourceId: name, resourceArn: arn(name) } });
      }
      const def = await datasets.create(body, tagsOf(body.tags));
      return reply.status(201).send({ datasetName: def.datasetName, datasetArn: arn(def.datasetName), retentionPeriod: def.retentionPeriod ?? DEFAULT_RETENTION });
    });
    app.get<{ Querystring: Query }>('/datasets', async (req) => {
      const page = paginate(datasets.names(), (n) => n, pageRequest(req.query));
      return listBody('datasetSummaries', page, (name) => {
        const def = datasets.get(name);
        const meta = datasets.meta(name);
        return {
          datasetName: name,
          status: 'ACTIVE',
          creationTime: seconds(meta.creationTime),
          lastUpdateTime: seconds(meta.lastUpdateTime),
          triggers: def.triggers ?? [],
          actions: def.actions.map((a) => ({ actionName: a.actionName, actionType: 'QUERY' })),
        };
      });
    });
    app.get<{ Params: NameParams }>('/datasets/:datasetName', async (req) => {
      const name = req.params.datasetName;
      const def = datasets.get(name);
      const meta = datasets.meta(name);
      return { dataset: description(def, arn(name), meta) };
    });
    app.put<{ Params: NameParams }>('/datasets/:datasetName', async (req, reply) => {
      await datasets.update(req.params.datasetName, requestBody<Record<string, unknown>>(req.body));
      return reply.status(200).send();
    });
    app.delete<{ Params: NameParams }>('/datasets/:datasetName', async (req, reply) => {
      await datasets.delete(req.params.datasetName);
      return reply.status(204).send();
    });
    app.post<{ Params: NameParams }>('/datasets/:datasetName/content', async (req) => {
      const versionId = requestBody<{ versionId?: unknown }>(req.body).versionId;
      if (versionId !== undefined && typeof versionId !== 'string') throw new AnalyticsError('InvalidRequestException', 'versionId must be a string');
      return { versionId: datasets.createContent(req.params.datasetName, versionId) };
    });
    app.get<{ Params: NameParams; Querystring: Query }>('/datasets/:datasetName/content', async (req) => {
      const name = req.params.datasetName;
      const v = datasets.content(name, queryString(req.query, 'versionId') ?? '$LATEST_SUCCEEDED');
      const host = typeof req.headers.host === 'string' ? req.headers.host : undefined;
      const entries = v.state === 'SUCCEEDED' ? [{ entryName: `${name}.csv`, dataURI: urls.url(name, v.versionId, host) }] : [];
      return { entries, timestamp: seconds(Date.now()), status: status(v) };
    });
    app.get<{ Params: NameParams; Querystring: Query }>('/datasets/:datasetName/contents', async (req) => {
      const q = req.query;
      const range: { scheduledOnOrAfter?: number; scheduledBefore?: number } = {};
      const after = queryTime(q, 'scheduledOnOrAfter');
      const before = queryTime(q, 'scheduledBefore');
      if (after !== undefined) range.scheduledOnOrAfter = after;
      if (before !== undefined) range.scheduledBefore = before;
      const all = datasets.listContents(req.params.datasetName, range);
      // newest first; the page key orders that way (inverted creation time, then id)
      const key = (v: ContentVersion) => `${String(1e15 - v.creationTime).padStart(16, '0')}:${v.versionId}`;
      const page = paginate(all, key, pageRequest(q));
      return listBody('datasetContentSummaries', page, (v) => ({
        version: v.versionId,
        status: status(v),
        creationTime: seconds(v.creationTime),
        scheduleTime: seconds(v.scheduleTime),
        completionTime: seconds(v.completionTime),
      }));
    });
    app.delete<{ Params: NameParams; Querystring: Query }>('/datasets/:datasetName/content', async (req, reply) => {
      await datasets.deleteContent(req.params.datasetName, queryString(req.query, 'versionId') ?? '$LATEST_SUCCEEDED');
      return reply.status(204).send();
    });
  };
}

function status(v: ContentVersion): { state: string; reason?: string } {
  return v.reason === undefined ? { state: v.state } : { state: v.state, reason: v.reason };
}

/** DescribeDataset's `dataset`: the definition with AWS's echoed defaults. */
function description(def: DatasetDefinition, arn: string, meta: { creationTime: number; lastUpdateTime: number }) {
  const body: Record<string, unknown> = {
    name: def.datasetName,
    arn,
    actions: def.actions.map((a) => ({ actionName: a.actionName, queryAction: { sqlQuery: a.queryAction.sqlQuery, filters: a.queryAction.filters ?? [] } })),
    triggers: def.triggers ?? [],
    contentDeliveryRules: def.contentDeliveryRules ?? [],
    status: 'ACTIVE',
    creationTime: seconds(meta.creationTime),
    lastUpdateTime: seconds(meta.lastUpdateTime),
    retentionPeriod: def.retentionPeriod ?? DEFAULT_RETENTION,
  };
  if (def.versioningConfiguration) body.versioningConfiguration = def.versioningConfiguration;
  if (def.lateDataRules) body.lateDataRules = def.lateDataRules;
  return body;
}

/** CreateDataset `tags` [{key, value}] → a map (at most 50). */
function tagsOf(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (!Array.isArray(raw) || raw.length > 50) throw new AnalyticsError('InvalidRequestException', 'tags must be a list of at most 50 {key, value}');
  const out: Record<string, string> = {};
  for (const t of raw as { key?: unknown; value?: unknown }[]) {
    if (typeof t?.key !== 'string' || typeof t.value !== 'string' || t.key.length < 1 || t.key.length > 256 || t.value.length > 256) {
      throw new AnalyticsError('InvalidRequestException', 'each tag is {key: 1..256 characters, value: up to 256 characters}');
    }
    out[t.key] = t.value;
  }
  return out;
}
