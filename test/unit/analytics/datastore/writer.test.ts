// Unit test of the batching writer alone: the DuckDB sink is replaced by an in-memory one.
import { BatchingWriter } from '../../../../analytics/datastore/writer.js';
import { TableSchema, DT_COLUMN } from '../../../../analytics/datastore/schema.js';
import type { Column } from '../../../../analytics/datastore/schema.js';
import type { TableSink } from '../../../../analytics/datastore/duckdb.js';
import { AnalyticsError } from '../../../../analytics/errors.js';

class MemorySink implements TableSink {
  batches: unknown[][][] = [];
  altered: Column[][] = [];
  gate: Promise<void> | null = null;
  failNext: Error | null = null;
  async addColumns(columns: readonly Column[]): Promise<void> {
    this.altered.push([...columns]);
  }
  async appendRows(_columns: readonly Column[], rows: readonly (readonly unknown[])[]): Promise<void> {
    if (this.gate) await this.gate;
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = null;
      throw e;
    }
    this.batches.push(rows.map((r) => [...r]));
  }
  close(): void {}
}

function setup(opts: { batchRows?: number; flushDelayMs?: number; maxPendingRows?: number }) {
  const sink = new MemorySink();
  const schema = new TableSchema([{ name: DT_COLUMN, type: 'TIMESTAMP' }]);
  const writer = new BatchingWriter('store', schema, sink, opts);
  return { sink, schema, writer };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('batching datastore writer', () => {
  it('writes a batch as soon as batchRows rows are buffered, without waiting for the delay', async () => {
    const { sink, writer } = setup({ batchRows: 3, flushDelayMs: 60_000 });
    const t0 = Date.now();
    await Promise.all([writer.append([{ v: 1 }, { v: 2 }], 1), writer.append([{ v: 3 }], 2)]);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(sink.batches).toHaveLength(1);
    expect(sink.batches[0]).toEqual([[1, 1], [1, 2], [2, 3]]);
  });

  it('writes a partial batch after the flush delay', async () => {
    const { sink, writer } = setup({ batchRows: 1000, flushDelayMs: 40 });
    const done = writer.append([{ v: 1 }], 1);
    await sleep(5);
    expect(sink.batches).toHaveLength(0);
    await done;
    expect(sink.batches).toHaveLength(1);
  });

  it('resolves an append only after its batch was committed by the sink', async () => {
    const { sink, writer } = setup({ batchRows: 1, flushDelayMs: 0 });
    let release!: () => void;
    sink.gate = new Promise((r) => (release = r));
    let resolved = false;
    const p = writer.append([{ v: 1 }], 1).then(() => (resolved = true));
    await sleep(20);
    expect(resolved).toBe(false);
    release();
    await p;
    expect(resolved).toBe(true);
    expect(writer.counters().rowsWritten).toBe(1);
  });

  it('makes append wait when the pending buffer is full and admits it once a batch commits', async () => {
    const { sink, writer } = setup({ batchRows: 2, flushDelayMs: 0, maxPendingRows: 2 });
    let release!: () => void;
    sink.gate = new Promise((r) => (release = r));
    const first = writer.append([{ v: 1 }, { v: 2 }], 1);
    let secondAdmittedAndDone = false;
    const second = writer.append([{ v: 3 }], 2).then(() => (secondAdmittedAndDone = true));
    await sleep(20);
    expect(writer.counters().pendingRows).toBe(2);
    expect(writer.counters().waitingAppends).toBe(1);
    expect(writer.counters().backpressureWaits).toBe(1);
    sink.gate = null;
    release();
    await Promise.all([first, second]);
    expect(secondAdmittedAndDone).toBe(true);
    expect(sink.batches.map((b) => b.map((r) => r[1]))).toEqual([[1, 2], [3]]);
  });

  it('rejects the appends of a failed batch with a coded error and counts the rows', async () => {
    const { sink, writer } = setup({ batchRows: 2, flushDelayMs: 0 });
    sink.failNext = new Error('disk full');
    await expect(writer.append([{ v: 1 }, { v: 2 }], 1)).rejects.toMatchObject({ code: 'InternalFailureException' });
    expect(writer.counters()).toMatchObject({ rowsFailed: 2, flushErrors: 1, pendingRows: 0 });
    await writer.append([{ v: 3 }], 2); // the writer keeps working
    expect(writer.counters().rowsWritten).toBe(1);
  });

  it('adds columns for new attributes before appending the batch that carries them', async () => {
    const { sink, writer, schema } = setup({ batchRows: 1, flushDelayMs: 0 });
    await writer.append([{ a: 1 }], 1);
    await writer.append([{ a: 2, B: 'x' }], 2);
    expect(sink.altered).toEqual([[{ name: 'a', type: 'DOUBLE' }], [{ name: 'B', type: 'VARCHAR' }]]);
    expect(schema.columns.map((c) => c.name)).toEqual([DT_COLUMN, 'a', 'B']);
    expect(sink.batches[1]).toEqual([[2, 2, 'x']]);
  });

  it('gives commit listeners the rows as stored, with __dt, and survives a throwing listener', async () => {
    const { writer } = setup({ batchRows: 1, flushDelayMs: 0 });
    const seen: unknown[] = [];
    writer.onCommit(() => {
      throw new Error('bad consumer');
    });
    writer.onCommit((rows) => seen.push(...rows));
    await writer.append([{ a: 1 }], 10);
    await writer.append([{ A: 'not a number', j: { k: 1 } }], 11);
    expect(seen).toEqual([{ __dt: 10, a: 1 }, { __dt: 11, a: null, j: { k: 1 } }]);
    expect(writer.counters()).toMatchObject({ typeMismatches: 1, listenerErrors: 2 });
  });

  it('flush() writes everything buffered and close() refuses later appends', async () => {
    const { sink, writer } = setup({ batchRows: 1000, flushDelayMs: 60_000 });
    const p = writer.append([{ v: 1 }], 1);
    await writer.flush();
    await p;
    expect(sink.batches).toHaveLength(1);
    await writer.close();
    await expect(writer.append([{ v: 2 }], 2)).rejects.toBeInstanceOf(AnalyticsError);
  });

  it('counts each pipeline row\'s receive-to-commit lag in its bucket, and leaves reprocessed rows out', async () => {
    const { writer } = setup({ batchRows: 1, flushDelayMs: 0 });
    const now = Date.now();
    const source = { pipelineName: 'p', channelName: 'c', seq: 1 };
    await writer.append([{ v: 1 }, { v: 2 }], now - 4_500, source); // 4.5 s late (plus the commit's few ms): bucket le=5
    await writer.append([{ v: 3 }], now + 60_000, { ...source, seq: 2 }); // a clock ahead counts as 0
    await writer.append([{ v: 4 }], now - 86_400_000); // reprocessing: no source, a day old
    const lag = writer.rowLag();
    expect(lag.count).toBe(3);
    const le = (bound: number) => lag.cumulative[lag.bucketsS.indexOf(bound)];
    expect(le(0.01)).toBe(1);
    expect(le(3)).toBe(1);
    expect(le(5)).toBe(3);
    expect(lag.cumulative.at(-1)).toBe(3);
    expect(lag.sumS).toBeGreaterThanOrEqual(9);
    expect(lag.sumS).toBeLessThan(10);
  });
});
