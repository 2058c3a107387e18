// Parquet datastores (typed schema), partitions and the hive-partitioned Parquet export, against
// a real DuckDB file; the export is read back with DuckDB's read_parquet(hive_partitioning).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../../analytics/datastore/index.js';
import type { Database } from '../../../../analytics/datastore/index.js';
import { parseGlueType, sqlOfType, convertTyped, NO_FIT } from '../../../../analytics/datastore/glue-types.js';
import { planPartitions, strptimeFormat } from '../../../../analytics/datastore/partitions.js';
import { checkFileFormat, checkPartitions, checkPartitionsFit } from '../../../../analytics/resources.js';

let dir: string;
let exportsDir: string;
let db: Database | null = null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iotcore-export-'));
  exportsDir = join(dir, 'exports');
  mkdirSync(exportsDir);
});

afterEach(async () => {
  await db?.close();
  db = null;
  rmSync(dir, { recursive: true, force: true });
});

const DAY1 = Date.UTC(2024, 0, 15, 10, 0, 0);
const DAY2 = Date.UTC(2024, 0, 16, 11, 30, 0);

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('Glue schema types', () => {
  it('maps the Hive/Glue types AWS accepts to DuckDB types', () => {
    const sql = (t: string) => sqlOfType(parseGlueType(t, 't'));
    expect(sql('string')).toBe('VARCHAR');
    expect(sql('varchar(20)')).toBe('VARCHAR');
    expect(sql('INT')).toBe('INTEGER');
    expect(sql('bigint')).toBe('BIGINT');
    expect(sql('double')).toBe('DOUBLE');
    expect(sql('float')).toBe('FLOAT');
    expect(sql('boolean')).toBe('BOOLEAN');
    expect(sql('timestamp')).toBe('TIMESTAMP');
    expect(sql('date')).toBe('DATE');
    expect(sql('decimal')).toBe('DECIMAL(38,18)');
    expect(sql('array<struct<a:int, b:array<string>>>')).toBe('STRUCT("a" INTEGER, "b" VARCHAR[])[]');
    expect(sql('map<string,double>')).toBe('MAP(VARCHAR, DOUBLE)');
  });

  it('refuses unknown types, decimal with a precision and malformed nesting with InvalidRequestException', () => {
    for (const t of ['uuid', 'decimal(10,2)', 'array<int', 'struct<a int>', 'map<array<int>,int>', 'int extra', 'binary']) {
      expect(code(() => parseGlueType(t, 't'))).toBe('InvalidRequestException');
    }
    expect(code(() => checkFileFormat({ parquetConfiguration: { schemaDefinition: { columns: [{ name: 'a', type: 'money' }] } } }))).toBe('InvalidRequestException');
    expect(code(() => checkFileFormat({ parquetConfiguration: { schemaDefinition: { columns: [{ name: 'a', type: 'int' }, { name: 'A', type: 'int' }] } } }))).toBe('InvalidRequestException');
  });

  it('converts values strictly: what does not fit is a mismatch, never a silent change', () => {
    const t = (s: string) => parseGlueType(s, 't');
    expect(convertTyped(21, t('int'))).toBe(21);
    expect(convertTyped(21.5, t('int'))).toBe(NO_FIT);
    expect(convertTyped(3_000_000_000, t('int'))).toBe(NO_FIT);
    expect(convertTyped(3_000_000_000, t('bigint'))).toBe(3_000_000_000n);
    expect(convertTyped('2024-01-15 10:00:00', t('timestamp'))).toBe(DAY1);
    expect(convertTyped('2024-01-15T11:00:00+01:00', t('timestamp'))).toBe(DAY1);
    expect(convertTyped('2024-02-31', t('date'))).toBe(NO_FIT);
    expect(convertTyped('2024-01-15', t('date'))).toBe(Math.floor(DAY1 / 86_400_000));
    expect(convertTyped(0.1, t('decimal'))).toBe('0.1');
    expect(convertTyped([1, 'x'], t('array<int>'))).toBe(NO_FIT);
    expect(convertTyped({ A: 1, extra: true }, t('struct<a:int,b:string>'))).toEqual({ a: 1, b: null });
    expect(convertTyped({ '7': 'x' }, t('map<int,string>'))).toEqual([{ key: 7, value: 'x' }]);
  });
});

describe('datastore partitions', () => {
  it('translates Java DateTimeFormatter patterns and refuses ones it cannot read', () => {
    expect(strptimeFormat('yyyy-MM-dd HH:mm:ss')).toBe('%Y-%m-%d %H:%M:%S');
    expect(strptimeFormat("yyyy-MM-dd'T'HH:mm:ss.SSSXXX")).toBe('%Y-%m-%dT%H:%M:%S.%g%z');
    for (const bad of ['yyyy-MM-dd QQQ', "yyyy-MM-dd'T", 'yyyy[-MM]', '---']) expect(code(() => strptimeFormat(bad))).toBe('InvalidRequestException');
  });

  it('refuses duplicate and reserved partition attributes but, as AWS, accepts one a schema does not declare', () => {
    const parts = (...names: string[]) => checkPartitions({ partitions: names.map((attributeName) => ({ attributePartition: { attributeName } })) });
    expect(code(() => planPartitions(parts('device', 'DEVICE')))).toBe('InvalidRequestException');
    expect(code(() => planPartitions(parts('__dt')))).toBe('InvalidRequestException');
    const format = checkFileFormat({ parquetConfiguration: { schemaDefinition: { columns: [{ name: 'device', type: 'string' }] } } });
    expect(format.parquetConfiguration?.schemaDefinition?.columns).toHaveLength(1);
    expect(code(() => checkPartitionsFit(parts('site')))).toBeUndefined();
    expect(code(() => checkPartitions({ partitions: [{ timestampPartition: { attributeName: 'a' } }, { timestampPartition: { attributeName: 'b' } }] }))).toBe('InvalidRequestException');
  });
});

describe('Parquet datastore tables and their export', () => {
  const schemaDef = {
    datastoreName: 'telemetry',
    fileFormatConfiguration: {
      parquetConfiguration: {
        schemaDefinition: {
          columns: [
            { name: 'device', type: 'string' },
            { name: 'temperature', type: 'int' },
            { name: 'ts', type: 'string' },
            { name: 'tags', type: 'array<string>' },
            { name: 'pos', type: 'struct<lat:double,lon:double>' },
          ],
        },
      },
    },
    datastorePartitions: {
      partitions: [{ attributePartition: { attributeName: 'device' } }, { timestampPartition: { attributeName: 'ts', timestampFormat: 'yyyy-MM-dd HH:mm:ss' } }],
    },
  };

  async function fill(): Promise<Database> {
    db = await openDatabase(join(dir, 'a.duckdb'), { exportDirectory: exportsDir, flushDelayMs: 5 });
    await db.ensureDatastore(schemaDef);
    const w = db.writer('telemetry');
    await w.append(
      [
        { device: 'd/1 a=b', temperature: 20, ts: '2024-01-15 09:15:00', tags: ['x', 'y,"z"'], pos: { lat: 1.5, lon: 2 }, unknown: 1 },
        { device: 'd2', temperature: 21.5, ts: '2024-01-15 10:15:00' },
      ],
      DAY1,
    );
    await w.append([{ device: 'd2', temperature: 22, ts: 'not a time' }, { temperature: 23 }], DAY2);
    return db;
  }

  it('creates exactly the declared typed columns, drops undeclared attributes and counts both kinds of loss', async () => {
    const d = await fill();
    const r = await d.query('SELECT * FROM telemetry LIMIT 0');
    expect(r.columns).toEqual([
      { name: '__dt', type: 'TIMESTAMP' },
      { name: 'device', type: 'VARCHAR' },
      { name: 'temperature', type: 'INTEGER' },
      { name: 'ts', type: 'VARCHAR' },
      { name: 'tags', type: 'VARCHAR[]' },
      { name: 'pos', type: 'STRUCT("lat" DOUBLE, "lon" DOUBLE)' },
    ]);
    const rows = await d.query(`SELECT device, temperature, tags, pos FROM telemetry ORDER BY __dt, ts`);
    expect(rows.rows[0]).toEqual(['d/1 a=b', 20, ['x', 'y,"z"'], { lat: 1.5, lon: 2 }]);
    expect(rows.rows[1]).toEqual(['d2', null, null, null]); // 21.5 does not fit an int
    const counters = d.writer('telemetry').counters();
    expect(counters.droppedAttributes).toBe(1);
    expect(counters.typeMismatches).toBe(1);
    expect(counters.columnsAdded).toBe(0);
  });

  it('keeps the typed columns across a restart', async () => {
    await (await fill()).close();
    db = await openDatabase(join(dir, 'a.duckdb'), { exportDirectory: exportsDir });
    await db.ensureDatastore(schemaDef);
    await db.writer('telemetry').append([{ device: 'd3', temperature: 30, pos: { lat: 0, lon: 0 } }], DAY2);
    const r = await db.query(`SELECT temperature, pos FROM telemetry WHERE device = 'd3'`);
    expect(r.rows).toEqual([[30, { lat: 0, lon: 0 }]]);
  });

  it('exports hive-partitioned Parquet that reads back with the same rows, typed columns and partition values', async () => {
    const d = await fill();
    const result = await d.exportDatastore('telemetry');
    expect(result.rowCount).toBe(4);
    expect(result.directory).toBe(join(exportsDir, 'telemetry'));
    expect(result.days).toEqual(['__dt=2024-01-15', '__dt=2024-01-16']);
    expect(result.files).toContain('__dt=2024-01-15/device=d%2F1%20a%3Db/__year=2024/__month=1/__day=15/__hour=9/data_0.parquet');
    expect(result.files).toContain('__dt=2024-01-16/device=__HIVE_DEFAULT_PARTITION__/__year=__HIVE_DEFAULT_PARTITION__/__month=__HIVE_DEFAULT_PARTITION__/__day=__HIVE_DEFAULT_PARTITION__/__hour=__HIVE_DEFAULT_PARTITION__/data_0.parquet');
    expect(result.fileCount).toBe(result.files.length);
    const glob = `${result.directory}/**/*.parquet`;
    const back = await d.query(
      `SELECT CAST("__dt" AS VARCHAR), device, temperature, ts, tags, pos, __ingested_at, __hour FROM read_parquet('${glob}', hive_partitioning = true) ORDER BY __ingested_at, ts`,
    );
    expect(back.rows).toEqual([
      ['2024-01-15', 'd/1 a=b', 20, '2024-01-15 09:15:00', ['x', 'y,"z"'], { lat: 1.5, lon: 2 }, new Date(DAY1).toISOString(), 9],
      ['2024-01-15', 'd2', null, '2024-01-15 10:15:00', null, null, new Date(DAY1).toISOString(), 10],
      ['2024-01-16', 'd2', 22, 'not a time', null, null, new Date(DAY2).toISOString(), null],
      ['2024-01-16', null, 23, null, null, null, new Date(DAY2).toISOString(), null],
    ]);
    const counts = await d.query(`SELECT (SELECT count(*) FROM telemetry), (SELECT count(*) FROM read_parquet('${glob}', hive_partitioning = true))`);
    expect(counts.rows[0][0]).toBe(counts.rows[0][1]);
  });

  it('replaces the exported days on a re-export instead of adding duplicate rows, and exports only the days of a range', async () => {
    const d = await fill();
    await d.exportDatastore('telemetry');
    await d.writer('telemetry').append([{ device: 'd9', temperature: 1 }], DAY2 + 1000);
    const second = await d.exportDatastore('telemetry', { startTime: DAY2, endTime: DAY2 + 1 });
    expect(second.days).toEqual(['__dt=2024-01-16']);
    expect(second.rowCount).toBe(3);
    expect(second.startTime).toBe(Date.UTC(2024, 0, 16));
    expect(second.endTime).toBe(Date.UTC(2024, 0, 17));
    const total = await d.query(`SELECT count(*) FROM read_parquet('${second.directory}/**/*.parquet', hive_partitioning = true)`);
    expect(total.rows[0][0]).toBe(5);
    expect(existsSync(join(exportsDir, '.staging'))).toBe(true);
    expect(await d.query(`SELECT count(*) FROM glob('${exportsDir}/.staging/*')`)).toEqual({ columns: expect.any(Array), rows: [[0]] });
  });

  it('keeps dataset SQL away from host files and from writing, even into the export directory', async () => {
    const d = await fill();
    for (const sql of [
      `SELECT * FROM read_csv('/etc/passwd')`,
      `SELECT * FROM read_csv('${exportsDir}/../../../../etc/passwd')`,
      `COPY telemetry TO '${exportsDir}/x.parquet' (FORMAT PARQUET)`,
      `COPY telemetry TO '${dir}/x.parquet' (FORMAT PARQUET)`,
      `SET allowed_directories = ['/']`,
    ]) {
      await expect(d.query(sql)).rejects.toMatchObject({ code: 'InvalidRequestException' });
    }
    expect(existsSync(join(exportsDir, 'x.parquet'))).toBe(false);
  });

  it('estimates the size of a table in bytes from its rows', async () => {
    const d = await fill();
    const before = await d.estimatedSizeBytes('telemetry');
    expect(before).toBeGreaterThan(0);
    await d.writer('telemetry').append(Array.from({ length: 2000 }, (_, i) => ({ device: `dev-${i}`, temperature: i })), DAY2);
    expect(await d.estimatedSizeBytes('telemetry')).toBeGreaterThan(before);
  });
});
