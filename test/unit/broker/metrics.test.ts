// The /metrics renderer alone: histograms kept as bucket counts by their owner come out in the
// Prometheus text format a scraper (and the simulator) reads.
import { createMetrics } from '../../../broker/metrics.js';

describe('metrics rendering', () => {
  it('renders a histogram source as cumulative buckets, +Inf, sum and count per label set, read at each scrape', async () => {
    let count = 6;
    const metrics = createMetrics([], [{
      name: 'test_lag_seconds',
      help: 'a test histogram',
      labelNames: ['datastore'],
      read: () => [
        { labels: { datastore: 'a' }, bounds: [0.1, 1], cumulative: [3, 5], count, sum: 2.5 },
        { labels: { datastore: 'b' }, bounds: [0.1, 1], cumulative: [0, 0], count: 0, sum: 0 },
      ],
    }]);
    const lines = async () => (await metrics.render()).body.split('\n').filter((l) => l.includes('test_lag_seconds'));
    expect(await lines()).toEqual([
      '# HELP test_lag_seconds a test histogram',
      '# TYPE test_lag_seconds histogram',
      'test_lag_seconds_bucket{datastore="a",le="0.1"} 3',
      'test_lag_seconds_bucket{datastore="a",le="1"} 5',
      'test_lag_seconds_bucket{datastore="a",le="+Inf"} 6',
      'test_lag_seconds_sum{datastore="a"} 2.5',
      'test_lag_seconds_count{datastore="a"} 6',
      'test_lag_seconds_bucket{datastore="b",le="0.1"} 0',
      'test_lag_seconds_bucket{datastore="b",le="1"} 0',
      'test_lag_seconds_bucket{datastore="b",le="+Inf"} 0',
      'test_lag_seconds_sum{datastore="b"} 0',
      'test_lag_seconds_count{datastore="b"} 0',
    ]);
    count = 7;
    expect(await lines()).toContain('test_lag_seconds_count{datastore="a"} 7');
  });

  it('keeps rendering gauge sources beside histograms', async () => {
    const metrics = createMetrics([{ name: 'test_gauge', help: 'g', read: () => [{ value: 4 }] }], []);
    expect((await metrics.render()).body).toContain('test_gauge 4');
  });
});
