// What /metrics says about operator sign-in: sessions (active, created, ended and why) and
// failed sign-ins (counted, refused with 429, addresses the bounded memory forgot).
import type { MetricSource } from '../metrics.js';
import type { SessionStore } from './sessions.js';
import { failureLimitMetricSource, type FailureLimit } from './failure-limit.js';

export function operatorMetricSources(sessions: Pick<SessionStore, 'counters'>, limit: Pick<FailureLimit, 'counters'>): MetricSource[] {
  return [
    {
      name: 'iotcore_operator_sessions',
      help: 'operator sessions: active now; created, ended, expired, evicted (the oldest of more than 1000) since start',
      labelNames: ['counter'],
      read: () => Object.entries(sessions.counters()).map(([counter, value]) => ({ labels: { counter }, value })),
    },
    failureLimitMetricSource('iotcore_operator_sign_in', 'failed operator sign-ins: failures, refused (429), addresses tracked now, forgotten (bounded memory)', limit),
  ];
}
