// The datastore writer on a full disk: DuckDB rolls a commit whose WAL write failed back, so the
// writer keeps the batch and tries it again instead of dropping its rows; the sink here fails the
// way DuckDB does ("Could not write file ...: No space left on device") as long as it is told to.
import { BatchingWriter } from '../../../../analytics/datastore/writer.js';
import { TableSchema, DT_COLUMN } from '../../../../analytics/datastore/schema.js';
import type { Column } from '../../../../analytics/datastore/schema.js';
import type { SourceOffset, TableSink } from '../../../../analytics/datastore/duckdb.js';
import { AnalyticsError } from '../../../../analytics/errors.js';

const NO_SPACE = 'TransactionContext Error: Failed to commit: Could not write file "/data/iotcore.duckdb.wal": No space left on device';

class FullDiskSink implements TableSink {
  full = false;
  failure = NO_SPACE;
  attempts = 0;
  committed: { rows: unknown[][]; offsets: SourceOffset[] }[] = [];
  async addColumns(_columns: readonly Column[]): Promise<void> {
    this.attempts++; // ALTER TABLE writes the WAL too
    if (this.full) throw new AnalyticsError('InternalFailureException', `DuckDB refused ALTER TABLE: ${this.failure}`);
  }
  async appendRows(_columns: readonly Column[], rows: readonly (readonly unknown[])[], offsets: readonly SourceOffset[] = []): Promise<void> {
    this.attempts++;
    if (this.full) throw new AnalyticsError('InternalFailureException', `committing ${rows.length} rows to store failed: ${this.failure}`);
    this.committed.push({ rows: rows.map((r) => [...r]), offsets: [...offsets] });
  }
  close(): void {}
}

function setup(opts: { diskFullRetryMs?: number } = {}) {
  const sink = new FullDiskSink();
  const writer = new BatchingWriter('store', new TableSchema([{ name: DT_COLUMN, type: 'TIMESTAMP' }]), sink, { batchRows: 2, flushDelayMs: 1, ...opts });
  return { sink, writer };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; !check() && i < 500; i++) await sleep(5);
  expect(check()).toBe(true);
}

describe('batching datastore writer on a full disk', () => {
  it('keeps a batch DuckDB refused for lack of space and commits it, with its offset, once there is room', async () => {
    const { sink, writer } = setup();
    sink.full = true;
    let settled = false;
    const first = writer.append([{ v: 1 }], 1, { pipelineName: 'p', channelName: 'c', seq: 1 }).then(() => (settled = true));
    await until(() => sink.attempts >= 2);
    expect(settled).toBe(false); // not failed: the pipeline's watermark must not pass these rows
    expect(writer.counters()).toMatchObject({ rowsFailed: 0, diskFullHeldRows: 1 });
    expect(writer.counters().diskFullRetries).toBeGreaterThanOrEqual(1);

    const second = writer.append([{ v: 2 }], 2, { pipelineName: 'p', channelName: 'c', seq: 2 });
    sink.full = false;
    await Promise.all([first, second]);
    expect(sink.committed.map((c) => c.rows)).toEqual([[[1, 1]], [[2, 2]]]); // in order, once each
    expect(sink.committed[0].offsets).toEqual([{ pipelineName: 'p', channelName: 'c', seq: 1 }]);
    expect(writer.counters()).toMatchObject({ rowsWritten: 2, rowsFailed: 0, diskFullHeldRows: 0 });
  });

  it('counts type mismatches of a batch once however often it is tried', async () => {
    const { sink, writer } = setup();
    await writer.append([{ v: 1 }], 1); // v becomes a number column
    sink.full = true;
    const done = writer.append([{ v: 'text' }], 2);
    await until(() => sink.attempts >= 4);
    sink.full = false;
    await done;
    expect(writer.counters().typeMismatches).toBe(1);
  });

  it('gives up on a batch after diskFullRetryMs and fails it as any refused batch', async () => {
    const { sink, writer } = setup({ diskFullRetryMs: 50 });
    sink.full = true;
    await expect(writer.append([{ v: 1 }], 1)).rejects.toThrow(/No space left on device/);
    expect(writer.counters()).toMatchObject({ rowsFailed: 1, diskFullHeldRows: 0 });
  });

  it('gives a held batch one last attempt when closed instead of waiting for room', async () => {
    const { sink, writer } = setup();
    sink.full = true;
    const held = writer.append([{ v: 1 }], 1);
    held.catch(() => undefined);
    await until(() => sink.attempts >= 1);
    await writer.close();
    await expect(held).rejects.toThrow(/No space left on device/);
  });

  it('does not try again when DuckDB has invalidated the database (only a restart helps)', async () => {
    const { sink, writer } = setup();
    sink.full = true;
    sink.failure = 'FATAL Error: Failed: database has been invalidated because of a previous fatal error. Original error: "Could not write file: No space left on device"';
    await expect(writer.append([{ v: 1 }], 1)).rejects.toThrow(/invalidated/);
    expect(sink.attempts).toBe(1);
  });

  it('does not try again after a failure that is not a full disk', async () => {
    const { sink, writer } = setup();
    sink.full = true;
    sink.failure = 'Conversion Error: could not convert';
    await expect(writer.append([{ v: 1 }], 1)).rejects.toThrow(/Conversion Error/);
    expect(sink.attempts).toBe(1);
  });
});
