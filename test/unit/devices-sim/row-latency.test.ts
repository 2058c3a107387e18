// The simulator's reading of the server's row-lag histogram: parsing the Prometheus text, the
// difference over a run, several datastores as one, and percentiles interpolated in buckets.
import { lagQuantile, lagSince, mergeLag, parseRowLag, summarizeLag, type LagHistogram } from '../../../devices-sim/row-latency.js';
import { errorOf } from './sim-error.js';

const TEXT = `# HELP iotcore_datastore_row_lag_seconds lag
# TYPE iotcore_datastore_row_lag_seconds histogram
iotcore_datastore_row_lag_seconds_bucket{datastore="a",le="0.1"} 10
iotcore_datastore_row_lag_seconds_bucket{datastore="a",le="1"} 90
iotcore_datastore_row_lag_seconds_bucket{datastore="a",le="+Inf"} 100
iotcore_datastore_row_lag_seconds_sum{datastore="a"} 55.5
iotcore_datastore_row_lag_seconds_count{datastore="a"} 100
iotcore_datastore_row_lag_seconds_bucket{datastore="b\\"q",le="0.1"} 1
iotcore_datastore_row_lag_seconds_bucket{datastore="b\\"q",le="1"} 2
iotcore_datastore_row_lag_seconds_bucket{datastore="b\\"q",le="+Inf"} 2
iotcore_datastore_row_lag_seconds_sum{datastore="b\\"q"} 0.5
iotcore_datastore_row_lag_seconds_count{datastore="b\\"q"} 2
# HELP iotcore_other x
# TYPE iotcore_other gauge
iotcore_other{datastore="a"} 7
`;

const histogram = (cumulative: number[], count: number, sumS = 0, bounds = [0.1, 1]): LagHistogram => ({ bounds, cumulative, count, sumS });

describe('row latency from the server\'s /metrics', () => {
  it('parses each datastore\'s buckets, count and sum, and leaves other metrics alone', () => {
    const lag = parseRowLag(TEXT);
    expect([...lag.keys()]).toEqual(['a', 'b"q']);
    expect(lag.get('a')).toEqual(histogram([10, 90], 100, 55.5));
    expect(lag.get('b"q')).toEqual(histogram([1, 2], 2, 0.5));
  });

  it('counts only the rows committed since the first reading, a datastore new or restarted since then in full', () => {
    expect(lagSince(histogram([10, 90], 100, 55.5), histogram([4, 40], 50, 20))).toEqual(histogram([6, 50], 50, 35.5));
    expect(lagSince(histogram([1, 2], 2, 0.5), undefined)).toEqual(histogram([1, 2], 2, 0.5));
    // counts that went down started again (a restart, a recreated datastore): all of them are new
    expect(lagSince(histogram([1, 3], 3, 0.7), histogram([10, 90], 100, 55.5))).toEqual(histogram([1, 3], 3, 0.7));
  });

  it('adds datastores into one histogram and refuses to add different buckets', () => {
    expect(mergeLag([histogram([10, 90], 100, 55.5), histogram([1, 2], 2, 0.5)])).toEqual(histogram([11, 92], 102, 56));
    expect(mergeLag([])).toEqual(histogram([], 0, 0, []));
    expect(errorOf(() => mergeLag([histogram([1, 2], 2), histogram([1, 2], 2, 0, [0.1, 2])])).code).toBe('MetricsUnavailableException');
  });

  it('interpolates percentiles within their bucket, and gives the last bound for rows beyond it', () => {
    const h = histogram([10, 90], 100);
    expect(lagQuantile(h, 0.05)).toBeCloseTo(0.05); // half of the first bucket's 10 rows, from 0 to 0.1
    expect(lagQuantile(h, 0.5)).toBeCloseTo(0.1 + 0.9 * (40 / 80));
    expect(lagQuantile(h, 0.95)).toBe(1); // in +Inf: at least the last bound
    expect(lagQuantile(histogram([0, 0], 0), 0.5)).toBeNull();
    expect(lagQuantile(histogram([0, 4], 4), 0.5)).toBeCloseTo(0.55); // an empty first bucket is skipped
  });

  it('summarises in milliseconds with the rows counted, the datastores and whether the rows had settled', () => {
    expect(summarizeLag(histogram([10, 90], 100, 55.5), ['a'], true)).toEqual({ p50: 550, p90: 1000, p99: 1000, meanMs: 555, count: 100, datastores: ['a'], settled: true });
    expect(summarizeLag(histogram([0, 0], 0), ['a'], false)).toEqual({ p50: null, p90: null, p99: null, meanMs: null, count: 0, datastores: ['a'], settled: false });
  });
});
