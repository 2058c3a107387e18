// The AWS IoT Analytics operations that are not about one resource kind (restJson1, as
// `@aws-sdk/client-iotanalytics` calls them; spec §1.1, §2.2, §3.5).
//   POST   /messages/batch          BatchPutMessage {channelName, messages[{messageId, payload(base64)}]} → {batchPutMessageErrorEntries}
//   POST   /pipelineactivities/run  RunPipelineActivity {pipelineActivity, payloads[base64 1..10]} → {payloads, logResult}
//   GET    /tags?resourceArn        ListTagsForResource → {tags}
//   POST   /tags?resourceArn        TagResource {tags} → 204
//   DELETE /tags?resourceArn&tagKeys=..&tagKeys=..   UntagResource → 204
//   GET    /logging                 DescribeLoggingOptions → {loggingOptions} (404 until set)
//   PUT    /logging                 PutLoggingOptions {loggingOptions} → 200; stored and echoed, our logging is unchanged
// `/tags` serves IoT Analytics ARNs only (arn:aws:iotanalytics:...); the IoT control plane uses
// the same paths for its own tagging API, which this server does not serve: other ARNs are
// refused with InvalidRequestException.
import { AnalyticsError, type Analytics, type LoggingOptions, type PipelineActivity, type Tag } from '../../../analytics/index.js';
import { BrokerError } from '../../errors.js';
import { jsonBody, queryString, type Query } from '../aws-params.js';
import type { Http } from '../server.js';

/** 100 messages of 128 KB, base64 (4/3) plus JSON framing */
const BATCH_BODY_LIMIT = 100 * (Math.ceil((128 * 1024) / 3) * 4 + 512) + 4096;
/** 10 payloads of 128 KB, base64, plus the activity */
const RUN_BODY_LIMIT = 10 * (Math.ceil((128 * 1024) / 3) * 4 + 64) + 64 * 1024;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function iotAnalyticsMiscRoutes(analytics: Analytics) {
  return (app: Http) => {
    app.post('/messages/batch', { bodyLimit: BATCH_BODY_LIMIT }, async (req) => {
      const body = jsonBody(req.body) as { channelName?: unknown; messages?: unknown };
      if (typeof body.channelName !== 'string') throw new BrokerError('InvalidRequestException', 'channelName is required');
      return { batchPutMessageErrorEntries: await analytics.batchPutMessage(body.channelName, body.messages) };
    });

    app.post('/pipelineactivities/run', { bodyLimit: RUN_BODY_LIMIT }, async (req) => {
      const body = jsonBody(req.body) as { pipelineActivity?: unknown; payloads?: unknown };
      if (typeof body.pipelineActivity !== 'object' || body.pipelineActivity === null) {
        throw new BrokerError('InvalidRequestException', 'pipelineActivity is required: one activity object such as {"math": {...}}');
      }
      if (!Array.isArray(body.payloads)) throw new BrokerError('InvalidRequestException', 'payloads must be a list of 1..10 base64 payloads');
      const payloads = body.payloads.map((p, i) => {
        if (typeof p !== 'string' || !BASE64.test(p)) throw new BrokerError('InvalidRequestException', `payloads[${i}] must be base64 text`);
        return Buffer.from(p, 'base64');
      });
      const r = await analytics.runPipelineActivity(body.pipelineActivity as PipelineActivity, payloads);
      return { payloads: r.payloads.map((p) => p.toString('base64')), logResult: r.logResult };
    });

    app.get<{ Querystring: Query }>('/tags', async (req) => ({ tags: analytics.listTagsForResource(resourceArn(req.query)) }));
    app.post<{ Querystring: Query }>('/tags', async (req, reply) => {
      await analytics.tagResource(resourceArn(req.query), (jsonBody(req.body) as { tags?: Tag[] }).tags as Tag[]);
      return reply.status(204).send();
    });
    app.delete<{ Querystring: Query }>('/tags', async (req, reply) => {
      const raw = req.query.tagKeys;
      const keys = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
      if (!keys.every((k): k is string => typeof k === 'string')) throw new BrokerError('InvalidRequestException', 'tagKeys must be strings');
      await analytics.untagResource(resourceArn(req.query), keys);
      return reply.status(204).send();
    });

    app.get('/logging', async () => {
      const loggingOptions = analytics.getLoggingOptions();
      if (!loggingOptions) throw new AnalyticsError('ResourceNotFoundException', 'no logging options have been set (PutLoggingOptions)');
      return { loggingOptions };
    });
    app.put('/logging', async (req, reply) => {
      await analytics.putLoggingOptions((jsonBody(req.body) as { loggingOptions?: LoggingOptions }).loggingOptions as LoggingOptions);
      return reply.status(200).send();
    });
  };
}

function resourceArn(q: Query): string {
  const arn = queryString(q, 'resourceArn');
  if (arn === undefined) throw new BrokerError('InvalidRequestException', 'resourceArn is required');
  return arn;
}
