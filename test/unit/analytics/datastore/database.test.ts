// The datastore database against real DuckDB files in a temp directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../../../analytics/datastore/index.js';
import type { Database } from '../../../../analytics/datastore/index.js';

let dir: string;
let file: string;
let db: Database | null = null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iotcore-datastore-'));
  file = join(dir, 'analytics.duckdb');
});

afterEach(async () => {
  await db?.close();
  db = null;
  rmSync(dir, { recursive: true, force: true });
});

const T0 = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

async function count(d: Database, table: string): Promise<number> {
  const r = await d.query(`SELECT count(*) AS n FROM ${table}`);
  return r.rows[0][0] as number;
}

describe('DuckDB datastore database', () => {
  it('makes appended rows queryable by the time the append promise resolves, and not before', async () => {
    db = await openDatabase(file, { flushDelayMs: 300, batchRows: 1000 });
    await db.ensureDatastore({ datastoreName: 'telemetry' });
    const w = db.writer('telemetry');
    const appended = w.append([{ device: 'd1', temperature: 21.5 }], T0);
    expect(await count(db, 'telemetry')).toBe(0);
    await appended;
    const r = await db.query('SELECT __dt, device, temperature FROM telemetry');
    expect(r.columns).toEqual([
      { name: '__dt', type: 'TIMESTAMP' },
      { name: 'device', type: 'VARCHAR' },
      { name: 'temperature', type: 'DOUBLE' },
    ]);
    expect(r.rows).toEqual([['2024-01-02T03:04:05.678Z', 'd1', 21.5]]);
  });

  it('writes one batch per batchRows rows', async () => {
    db = await openDatabase(file, { flushDelayMs: 60_000, batchRows: 100 });
    await db.ensureDatastore({ datastoreName: 's' });
    const w = db.writer('s');
    const rows = Array.from({ length: 250 }, (_, i) => ({ i }));
    const pending = [];
    for (let k = 0; k < 250; k += 50) pending.push(w.append(rows.slice(k, k + 50), T0));
    await Promise.all(pending.slice(0, 4)); // 200 rows: two full batches, no timer needed
    expect(w.counters()).toMatchObject({ batches: 2, rowsWritten: 200, pendingRows: 50 });
    await w.flush();
    expect(await count(db, 's')).toBe(250);
  });

  it('extends the table when a new attribute arrives and keeps older rows NULL in it', async () => {
    db = await openDatabase(file, { flushDelayMs: 5 });
    await db.ensureDatastore({ datastoreName: 's' });
    const w = db.writer('s');
    await w.append([{ a: 1 }], T0);
    await w.append([{ a: 2, b: 'new' }], T0);
    const r = await db.query('SELECT a, b FROM s ORDER BY a');
    expect(r.rows).toEqual([
      [1, null],
      [2, 'new'],
    ]);
    expect(w.counters().columnsAdded).toBe(2);
  });

  it('keeps rows and columns across close and reopen, and continues with the same schema', async () => {
    db = await openDatabase(file, { flushDelayMs: 5 });
    await db.ensureDatastore({ datastoreName: 'Plant' });
    await db.writer('Plant').append([{ t: 20, site: 'x', meta: { k: [1] } }], T0);
    await db.close();
    db = await openDatabase(file, { flushDelayMs: 5 });
    expect(db.listDatastores()).toEqual(['Plant']);
    await db.ensureDatastore({ datastoreName: 'Plant' }); // idempotent after a restart
    const w = db.writer('plant');
    await w.append([{ t: 'warm', site: 7 }], T0 + 1);
    expect(w.counters()).toMatchObject({ columnsAdded: 0, typeMismatches: 1 });
    const r = await db.query('SELECT t, site, meta FROM Plant ORDER BY __dt');
    expect(r.columns.map((c) => `${c.name}:${c.type}`)).toEqual(['t:DOUBLE', 'site:VARCHAR', 'meta:JSON']);
    expect(r.rows).toEqual([
      [20, 'x', { k: [1] }],
      [null, '7', null],
    ]);
  });

  it('flushes buffered rows on close so a reopen sees every row', async () => {
    db = await openDatabase(file, { flushDelayMs: 60_000, batchRows: 10_000 });
    await db.ensureDatastore({ datastoreName: 's' });
    const p = db.writer('s').append([{ v: 1 }, { v: 2 }, { v: 3 }], T0);
    await db.close();
    await p;
    db = await openDatabase(file);
    expect(await count(db, 's')).toBe(3);
  });

  it('stores a value that does not fit its column as NULL and counts it', async () => {
    db = await openDatabase(file, { flushDelayMs: 5 });
    await db.ensureDatastore({ datastoreName: 's' });
    const w = db.writer('s');
    await w.append([{ temp: 20, ok: true }], T0);
    await w.append([{ temp: 'hot', ok: 'yes' }, { temp: 21, ok: false }], T0);
    expect(w.counters().typeMismatches).toBe(2);
    const r = await db.query('SELECT temp, ok FROM s ORDER BY rowid');
    expect(r.rows).toEqual([
      [20, true],
      [null, null],
      [21, false],
    ]);
  });

  it('treats attribute names differing only in case as one column', async () => {
    db = await openDatabase(file, { flushDelayMs: 5 });
    await db.ensureDatastore({ datastoreName: 's' });
    const w = db.writer('S');
    await w.append([{ Temp: 1 }, { temp: 2 }, { TEMP: 3 }], T0);
    const r = await db.query('SELECT * FROM s');
    expect(r.columns.map((c) => c.name)).toEqual(['__dt', 'Temp']);
    expect(r.rows.map((row) => row[1])).toEqual([1, 2, 3]);
  });

  it('stores nested objects and arrays as JSON that queries return parsed and JSON functions can read', async () => {
    db = await openDatabase(file, { flushDelayMs: 5 });
    await db.ensureDatastore({ datastoreName: 's' });
    await db.writer('s').append([{ pos: { lat: 48.1, lon: 11.5, tags: ['a', 'b'] }, list: [1, { x: 2 }] }], T0);
    const r = await db.query(`SELECT pos, list, json_extract_string(pos, '$.tags[1]') AS tag, (pos->>'lat')::DOUBLE AS lat FROM s`);
    expect(r.rows).toEqual([[{ lat: 48.1, lon: 11.5, tags: ['a', 'b'] }, [1, { x: 2 }], 'b', 48.1]]);
  });

  it('reports rows to commit listeners as stored, with __dt', async () => {
    db = await openDatabase(file, { flushDelayMs: 5 });
    await db.ensureDatastore({ datastoreName: 's' });
    const w = db.writer('s');
    const seen: unknown[] = [];
    w.onCommit((rows) => seen.push(...rows));
    await w.append([{ v: 1, __dt: 5 }], T0);
    expect(seen).toEqual([{ __dt: T0, v: 1 }]);
    expect(w.counters().droppedAttributes).toBe(1);
  });

  it('refuses a writer for an unknown datastore with ResourceNotFoundException', async () => {
    db = await openDatabase(file);
    expect(() => db!.writer('missing')).toThrow(expect.objectContaining({ code: 'ResourceNotFoundException', statusCode: 404 }));
  });

  it('refuses an invalid datastore name with InvalidRequestException', async () => {
    db = await openDatabase(file);
    await expect(db.ensureDatastore({ datastoreName: 'bad name"; DROP' })).rejects.toMatchObject({ code: 'InvalidRequestException' });
    await expect(db.ensureDatastore({ datastoreName: '__reserved' })).rejects.toMatchObject({ code: 'InvalidRequestException' });
  });

  it('hands out one cached writer per datastore', async () => {
    db = await openDatabase(file);
    await db.ensureDatastore({ datastoreName: 's' });
    expect(db.writer('s')).toBe(db.writer('S'));
  });
});

describe('datastore lifecycle extras', () => {
  it('drops a datastore after writing its buffered rows, and forgets it', async () => {
    db = await openDatabase(file, { flushDelayMs: 60_000 });
    await db.ensureDatastore({ datastoreName: 'gone' });
    const appended = db.writer('gone').append([{ v: 1 }], T0);
    await db.dropDatastore('gone');
    await appended;
    expect(db.listDatastores()).toEqual([]);
    expect(() => db!.writer('gone')).toThrow(expect.objectContaining({ code: 'ResourceNotFoundException' }));
    await expect(db.query('SELECT * FROM gone')).rejects.toMatchObject({ code: 'InvalidRequestException' });
  });

  it('deletes rows ingested before a cutoff for retention', async () => {
    db = await openDatabase(file, { flushDelayMs: 5 });
    await db.ensureDatastore({ datastoreName: 's' });
    await db.writer('s').append([{ v: 1 }], T0);
    await db.writer('s').append([{ v: 2 }], T0 + 86_400_000);
    expect(await db.deleteRowsBefore('s', T0 + 1)).toBe(1);
    expect((await db.query('SELECT v FROM s')).rows).toEqual([[2]]);
  });

  it('interrupts a running query on close instead of waiting for it', async () => {
    db = await openDatabase(file);
    const slow = db.query('SELECT count(*) FROM range(1000000000) a, range(1000000000) b', { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await db.close();
    db = null;
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(slow).rejects.toMatchObject({ code: 'ServiceUnavailableException' });
  });
});
