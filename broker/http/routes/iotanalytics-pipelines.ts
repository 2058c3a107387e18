// AWS IoT Analytics pipelines (restJson1, as `@aws-sdk/client-iotanalytics` calls it; spec §3).
//   POST   /pipelines                        CreatePipeline → 201 {pipelineName, pipelineArn}
//   GET    /pipelines?nextToken&maxResults   ListPipelines → {pipelineSummaries, nextToken?}
//   GET    /pipelines/{name}                 DescribePipeline → {pipeline}
//   PUT    /pipelines/{name}                 UpdatePipeline {pipelineActivities} → 200
//   DELETE /pipelines/{name}                 DeletePipeline → 204
//   POST   /pipelines/{name}/reprocessing    StartPipelineReprocessing {startTime?, endTime?, channelMessages?} → {reprocessingId}
//   DELETE /pipelines/{name}/reprocessing/{id}  CancelPipelineReprocessing → 200 {}
import type { Analytics, PipelineDefinition, PipelineDescription } from '../../../analytics/index.js';
import { BrokerError } from '../../errors.js';
import type { Query } from '../aws-params.js';
import type { Http } from '../server.js';
import { listBody, pageRequest, seconds, requestBody } from './iotanalytics-wire.js';

interface NameParams { pipelineName: string }
interface RunParams { pipelineName: string; reprocessingId: string }

export function iotAnalyticsPipelineRoutes(analytics: Analytics) {
  return (app: Http) => {
    app.post('/pipelines', async (req, reply) => {
      const p = await analytics.createPipeline(requestBody<PipelineDefinition>(req.body));
      return reply.status(201).send({ pipelineName: p.name, pipelineArn: p.arn });
    });
    app.get<{ Querystring: Query }>('/pipelines', async (req) =>
      listBody('pipelineSummaries', analytics.listPipelineDescriptions(pageRequest(req.query)), summary));
    app.get<{ Params: NameParams }>('/pipelines/:pipelineName', async (req) => ({ pipeline: description(analytics.describePipeline(req.params.pipelineName)) }));
    app.put<{ Params: NameParams }>('/pipelines/:pipelineName', async (req, reply) => {
      await analytics.updatePipeline({ ...requestBody<PipelineDefinition>(req.body), pipelineName: req.params.pipelineName });
      return reply.status(200).send();
    });
    app.delete<{ Params: NameParams }>('/pipelines/:pipelineName', async (req, reply) => {
      await analytics.deletePipeline(req.params.pipelineName);
      return reply.status(204).send();
    });
    app.post<{ Params: NameParams }>('/pipelines/:pipelineName/reprocessing', async (req) => {
      const body = requestBody<Record<string, unknown>>(req.body);
      const reprocessingId = await analytics.startPipelineReprocessing(req.params.pipelineName, {
        startTime: bodyTime(body.startTime, 'startTime'),
        endTime: bodyTime(body.endTime, 'endTime'),
        channelMessages: body.channelMessages as { s3Paths: string[] } | undefined,
      });
      return { reprocessingId };
    });
    app.delete<{ Params: RunParams }>('/pipelines/:pipelineName/reprocessing/:reprocessingId', async (req) => {
      await analytics.cancelPipelineReprocessing(req.params.pipelineName, req.params.reprocessingId);
      return {};
    });
  };
}

/** A body timestamp as epoch ms: restJson1 sends epoch seconds (with a fraction); an ISO-8601
 * string is accepted too. */
function bodyTime(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'number' ? Math.round(v * 1000) : typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) throw new BrokerError('InvalidRequestException', `${name} must be a timestamp (epoch seconds or ISO-8601), got ${JSON.stringify(v)}`);
  return ms;
}

function description(p: PipelineDescription) {
  return {
    name: p.name,
    arn: p.arn,
    activities: p.activities,
    reprocessingSummaries: p.reprocessingSummaries.map((r) => ({ ...r, creationTime: seconds(r.creationTime) })),
    creationTime: seconds(p.creationTime),
    lastUpdateTime: seconds(p.lastUpdateTime),
  };
}

function summary(p: PipelineDescription) {
  return {
    pipelineName: p.name,
    reprocessingSummaries: p.reprocessingSummaries.map((r) => ({ ...r, creationTime: seconds(r.creationTime) })),
    creationTime: seconds(p.creationTime),
    lastUpdateTime: seconds(p.lastUpdateTime),
  };
}
