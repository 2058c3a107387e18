import { formatSeconds, progressFields, progressFormat } from '../../../devices-sim/progress.js';

const counters = { sent: 1234, acknowledged: 1200, errors: 2, skipped: 0, reconnects: 0, connected: 9, inflight: 3 };

describe('the progress bar', () => {
  it('shows elapsed of duration, sent, acked, the recent rate, errors and connected of all devices', () => {
    expect(progressFields(counters, { devices: 10, qos: 1, durationS: 90 }, 65_400, 249.96)).toEqual({
      elapsed: '1m05s',
      limit: '1m30s',
      sent: 1234,
      acked: '1200',
      rate: '250.0',
      errors: 2,
      connected: '9/10',
    });
  });

  it('says acked is not applicable for QoS 0 and has no limit for a run until Ctrl-C', () => {
    const fields = progressFields(counters, { devices: 10, qos: 0, durationS: 0 }, 3000, 0);
    expect(fields.acked).toBe('n/a');
    expect(fields.limit).toBe('∞');
    expect(progressFormat(0)).not.toContain('{bar}');
    expect(progressFormat(30)).toContain('{bar}');
  });

  it('formats seconds compactly with hours and minutes when needed', () => {
    expect(formatSeconds(7.9)).toBe('7s');
    expect(formatSeconds(3723)).toBe('1h02m03s');
    expect(formatSeconds(-1)).toBe('0s');
  });
});
