// AWS IoT Analytics pipelines (restJson1, as `@aws-sdk/client-iotanalytics` calls it; spec §3).
//   POST   /pipelines                        CreatePipeline → 201 {pipelineName, pipelineArn}
//   GET    /pipelines?nextToken&maxResults   ListPipelines → {pipelineSummaries, nextToken?}
//   GET    /pipelines/{name}                 DescribePipeline → {pipeline}
//   PUT    /pipelines/{name}                 UpdatePipeline {pipelineActivities} → 200
//   DELETE /pipelines/{name}                 DeletePipeline → 204
// Reprocessing (StartPipelineReprocessing / CancelPipelineReprocessing) is not served yet.
import type { Analytics, PipelineDefinition, PipelineDescription } from '../../../analytics/index.js';
import type { Query } from '../aws-params.js';
import type { Http } from '../server.js';
import { listBody, pageRequest, seconds, requestBody } from './iotanalytics-wire.js';

interface NameParams { pipelineName: string }

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
  };
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
