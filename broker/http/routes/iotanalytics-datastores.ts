// AWS IoT Analytics datastores (restJson1, as `@aws-sdk/client-iotanalytics` calls it; spec §4).
// A datastore is a DuckDB table; the AWS storage/format/partition members are validated and
// echoed (customer-managed S3 is refused: there is no S3 here).
//   POST   /datastores                          CreateDatastore → 201 {datastoreName, datastoreArn, retentionPeriod}
//   GET    /datastores?nextToken&maxResults     ListDatastores → {datastoreSummaries, nextToken?}
//   GET    /datastores/{name}?includeStatistics DescribeDatastore → {datastore, statistics?}
//   PUT    /datastores/{name}                   UpdateDatastore {retentionPeriod?, datastoreStorage?, fileFormatConfiguration?} → 200
//   DELETE /datastores/{name}                   DeleteDatastore → 204
import type { Analytics, DatastoreDefinition, DatastoreDescription } from '../../../analytics/index.js';
import { queryBool, type Query } from '../aws-params.js';
import type { Http } from '../server.js';
import { listBody, pageRequest, seconds, requestBody } from './iotanalytics-wire.js';

interface NameParams { datastoreName: string }

export function iotAnalyticsDatastoreRoutes(analytics: Analytics) {
  return (app: Http) => {
    app.post('/datastores', async (req, reply) => {
      const d = await analytics.createDatastore(requestBody<DatastoreDefinition>(req.body));
      return reply.status(201).send({ datastoreName: d.name, datastoreArn: d.arn, retentionPeriod: d.retentionPeriod });
    });
    app.get<{ Querystring: Query }>('/datastores', async (req) =>
      listBody('datastoreSummaries', analytics.listDatastoreDescriptions(pageRequest(req.query)), summary));
    app.get<{ Params: NameParams; Querystring: Query }>('/datastores/:datastoreName', async (req) => {
      const { datastore, statistics } = await analytics.describeDatastore(req.params.datastoreName, queryBool(req.query, 'includeStatistics') === true);
      const body: Record<string, unknown> = { datastore: description(datastore) };
      if (statistics) body.statistics = { size: { estimatedSizeInBytes: statistics.size.estimatedSizeInBytes, estimatedOn: seconds(statistics.size.estimatedOn) } };
      return body;
    });
    app.put<{ Params: NameParams }>('/datastores/:datastoreName', async (req, reply) => {
      await analytics.updateDatastore({ ...requestBody<Partial<DatastoreDefinition>>(req.body), datastoreName: req.params.datastoreName });
      return reply.status(200).send();
    });
    app.delete<{ Params: NameParams }>('/datastores/:datastoreName', async (req, reply) => {
      await analytics.deleteDatastore(req.params.datastoreName);
      return reply.status(204).send();
    });
  };
}

function description(d: DatastoreDescription) {
  return {
    name: d.name,
    storage: d.storage,
    arn: d.arn,
    status: d.status,
    retentionPeriod: d.retentionPeriod,
    creationTime: seconds(d.creationTime),
    lastUpdateTime: seconds(d.lastUpdateTime),
    lastMessageArrivalTime: seconds(d.lastMessageArrivalTime),
    fileFormatConfiguration: d.fileFormatConfiguration,
    datastorePartitions: d.datastorePartitions,
  };
}

function summary(d: DatastoreDescription) {
  return {
    datastoreName: d.name,
    datastoreStorage: d.storage,
    status: d.status,
    creationTime: seconds(d.creationTime),
    lastUpdateTime: seconds(d.lastUpdateTime),
    lastMessageArrivalTime: seconds(d.lastMessageArrivalTime),
    fileFormatType: d.fileFormatConfiguration.parquetConfiguration ? 'PARQUET' : 'JSON',
    datastorePartitions: d.datastorePartitions,
  };
}
