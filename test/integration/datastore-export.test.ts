// Parquet datastores and their hive-partitioned Parquet export through the real server: the
// datastore is made with @aws-sdk/client-iotanalytics (typed schema + partitions), filled through
// a pipeline with BatchPutMessage, exported with a SigV4-signed POST /api/datastores/{name}/export
// and the files read back with DuckDB's read_parquet(hive_partitioning) from a separate database.
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  BatchPutMessageCommand, CreateChannelCommand, CreateDatastoreCommand, CreatePipelineCommand, DescribeDatastoreCommand,
  InvalidRequestException, IoTAnalyticsClient, UpdateDatastoreCommand,
} from '@aws-sdk/client-iotanalytics';
import type { RunningServer } from '../../broker/index.js';
import { openDatabase } from '../../analytics/datastore/index.js';
import { awsClientConfig, caught, signedFetch } from '../helpers/aws.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';

const CONFIG = { rules: [], channels: [], datastores: [], pipelines: [], datasets: [] };
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe('datastore export through the HTTP API', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let client: IoTAnalyticsClient;

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: CONFIG });
    client = new IoTAnalyticsClient(awsClientConfig(server));
  });
  afterAll(async () => {
    client?.destroy();
    await server?.stop();
    data.remove();
  });

  it('refuses an unknown schema type and a format change with InvalidRequestException', async () => {
    const bad = await caught(client.send(new CreateDatastoreCommand({
      datastoreName: 'bad_types',
      fileFormatConfiguration: { parquetConfiguration: { schemaDefinition: { columns: [{ name: 'a', type: 'money' }] } } },
    })));
    expect(bad).toBeInstanceOf(InvalidRequestException);
    await client.send(new CreateDatastoreCommand({ datastoreName: 'json_store' }));
    const change = await caught(client.send(new UpdateDatastoreCommand({
      datastoreName: 'json_store',
      fileFormatConfiguration: { parquetConfiguration: { schemaDefinition: { columns: [{ name: 'a', type: 'int' }] } } },
    })));
    expect(change).toBeInstanceOf(InvalidRequestException);
  });

  it('exports the rows a pipeline stored as hive-partitioned Parquet that reads back row for row', async () => {
    await client.send(new CreateChannelCommand({ channelName: 'raw' }));
    await client.send(new CreateDatastoreCommand({
      datastoreName: 'readings',
      fileFormatConfiguration: { parquetConfiguration: { schemaDefinition: { columns: [
        { name: 'device', type: 'string' }, { name: 'temp', type: 'double' }, { name: 'seq', type: 'bigint' },
      ] } } },
      datastorePartitions: { partitions: [{ attributePartition: { attributeName: 'device' } }] },
    }));
    await client.send(new CreatePipelineCommand({
      pipelineName: 'to_readings',
      pipelineActivities: [{ channel: { name: 'in', channelName: 'raw', next: 'out' } }, { datastore: { name: 'out', datastoreName: 'readings' } }],
    }));
    const messages = Array.from({ length: 30 }, (_, i) => ({ messageId: `m${i}`, payload: json({ device: `dev${i % 3}`, temp: 20 + i / 2, seq: i, extra: 'dropped' }) }));
    const put = await client.send(new BatchPutMessageCommand({ channelName: 'raw', messages }));
    expect(put.batchPutMessageErrorEntries).toEqual([]);

    const exported = await eventually(async () => {
      const res = await signedFetch(server, 'POST', '/api/datastores/readings/export', '{}', { headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { rowCount: number; directory: string; files: string[]; days: string[] };
      return body.rowCount === 30 ? body : undefined;
    }, 10_000, 'all 30 rows exported');
    expect(exported.directory).toBe(join(data.dir, 'exports', 'readings'));
    expect(exported.days).toHaveLength(1); // one ingestion day (whichever it was)
    const today = exported.days[0].slice('__dt='.length);
    expect(today).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(exported.files.map((f) => f.split('/').slice(0, 2).join('/')).sort()).toEqual(['dev0', 'dev1', 'dev2'].map((d) => `__dt=${today}/device=${d}`));

    // a separate DuckDB database, allowed to read the export directory, reads the files back
    const readerDir = mkdtempSync(join(tmpdir(), 'iotcore-reader-'));
    const reader = await openDatabase(join(readerDir, 'r.duckdb'), { exportDirectory: join(data.dir, 'exports') });
    try {
      const r = await reader.query(
        `SELECT device, count(*), sum(seq), min(temp), CAST(max("__dt") AS VARCHAR) FROM read_parquet('${exported.directory}/**/*.parquet', hive_partitioning = true) GROUP BY device ORDER BY device`,
      );
      expect(r.rows).toEqual([
        ['dev0', 10, 135, 20, today],
        ['dev1', 10, 145, 20.5, today],
        ['dev2', 10, 155, 21, today],
      ]);
      const cols = await reader.query(`SELECT * FROM read_parquet('${exported.directory}/**/*.parquet', hive_partitioning = true) LIMIT 0`);
      expect(cols.columns.map((c) => c.name).sort()).toEqual(['__dt', '__ingested_at', 'device', 'seq', 'temp']);
    } finally {
      await reader.close();
      rmSync(readerDir, { recursive: true, force: true });
    }

    const stats = await client.send(new DescribeDatastoreCommand({ datastoreName: 'readings', includeStatistics: true }));
    expect(stats.statistics?.size?.estimatedSizeInBytes).toBeGreaterThan(0);
    expect(stats.statistics?.size?.estimatedOn).toBeInstanceOf(Date);
  });

  it('answers unsigned export requests with 403 and unknown datastores with ResourceNotFoundException', async () => {
    const unsigned = await fetch(`http://127.0.0.1:${server.httpPort}/api/datastores/readings/export`, { method: 'POST', body: '{}' });
    expect(unsigned.status).toBe(403);
    const missing = await signedFetch(server, 'POST', '/api/datastores/nope/export', '{}');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-amzn-errortype')).toMatch(/^ResourceNotFoundException/);
    const badRange = await signedFetch(server, 'POST', '/api/datastores/readings/export', JSON.stringify({ startTime: 'yesterday' }));
    expect(badRange.status).toBe(400);
  });
});
