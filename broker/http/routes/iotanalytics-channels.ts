// AWS IoT Analytics channels (restJson1, as `@aws-sdk/client-iotanalytics` calls it; spec §2).
// Registered in the AWS scope of http/server.ts, which gives errors the AWS shape.
//   POST   /channels                          CreateChannel → 201 {channelName, channelArn, retentionPeriod}
//   GET    /channels?nextToken&maxResults     ListChannels → {channelSummaries, nextToken?}
//   GET    /channels/{name}?includeStatistics DescribeChannel → {channel, statistics?}
//   PUT    /channels/{name}                   UpdateChannel {channelStorage?, retentionPeriod?} → 200
//   DELETE /channels/{name}                   DeleteChannel → 204
//   GET    /channels/{name}/sample?maxMessages&startTime&endTime   SampleChannelData → {payloads}
import type { Analytics, ChannelDefinition, ChannelDescription } from '../../../analytics/index.js';
import { queryBool, queryInt, type Query } from '../aws-params.js';
import type { Http } from '../server.js';
import { listBody, pageRequest, queryTime, seconds, requestBody } from './iotanalytics-wire.js';

interface NameParams { channelName: string }

export function iotAnalyticsChannelRoutes(analytics: Analytics) {
  return (app: Http) => {
    app.post('/channels', async (req, reply) => {
      const c = await analytics.createChannel(requestBody<ChannelDefinition>(req.body));
      return reply.status(201).send({ channelName: c.name, channelArn: c.arn, retentionPeriod: c.retentionPeriod });
    });
    app.get<{ Querystring: Query }>('/channels', async (req) =>
      listBody('channelSummaries', analytics.listChannelDescriptions(pageRequest(req.query)), summary));
    app.get<{ Params: NameParams; Querystring: Query }>('/channels/:channelName', async (req) => {
      const { channel, statistics } = await analytics.describeChannel(req.params.channelName, queryBool(req.query, 'includeStatistics') === true);
      const body: Record<string, unknown> = { channel: description(channel) };
      if (statistics) body.statistics = { size: { estimatedSizeInBytes: statistics.size.estimatedSizeInBytes, estimatedOn: seconds(statistics.size.estimatedOn) } };
      return body;
    });
    app.put<{ Params: NameParams }>('/channels/:channelName', async (req, reply) => {
      await analytics.updateChannel({ ...requestBody<Partial<ChannelDefinition>>(req.body), channelName: req.params.channelName });
      return reply.status(200).send();
    });
    app.delete<{ Params: NameParams }>('/channels/:channelName', async (req, reply) => {
      await analytics.deleteChannel(req.params.channelName);
      return reply.status(204).send();
    });
    app.get<{ Params: NameParams; Querystring: Query }>('/channels/:channelName/sample', async (req) => {
      const q = req.query;
      const range: { startTime?: number; endTime?: number } = {};
      const startTime = queryTime(q, 'startTime');
      const endTime = queryTime(q, 'endTime');
      if (startTime !== undefined) range.startTime = startTime;
      if (endTime !== undefined) range.endTime = endTime;
      const messages = await analytics.sampleChannel(req.params.channelName, queryInt(q, 'maxMessages') ?? 10, range);
      // the raw bytes as ingested, base64 (restJson1 blobs)
      return { payloads: messages.map((m) => m.payload.toString('base64')) };
    });
  };
}

function description(c: ChannelDescription) {
  return {
    name: c.name,
    storage: c.storage,
    arn: c.arn,
    status: c.status,
    retentionPeriod: c.retentionPeriod,
    creationTime: seconds(c.creationTime),
    lastUpdateTime: seconds(c.lastUpdateTime),
    lastMessageArrivalTime: seconds(c.lastMessageArrivalTime),
  };
}

function summary(c: ChannelDescription) {
  return {
    channelName: c.name,
    channelStorage: c.storage,
    status: c.status,
    creationTime: seconds(c.creationTime),
    lastUpdateTime: seconds(c.lastUpdateTime),
    lastMessageArrivalTime: seconds(c.lastMessageArrivalTime),
  };
}
