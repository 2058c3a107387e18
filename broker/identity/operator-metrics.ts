// What /metrics says about operator sign-in: sessions (active, created, ended and why) and
// failed sign-ins (counted, refused with 429, addresses the bounded memory forgot).
import type { MetricSource } from '../metrics.js';
import type { SessionStore } from './sessions.js';
import type { SignInLimit } from './sign-in-limit.js';

export function operatorMetricSources(sessions: Pick<SessionStore, 'counters'>, limit: Pick<SignInLimit, 'counters'>): MetricSource[] {
  return [
    {
      name: 'iotcore_operator_sessions',
      help: 'operator sessions: active now; created, ended, expired, evicted (the oldest of more than 1000) since start',
      labelNames: ['counter'],
      read: () => Object.entries(sessions.counters()).map(([counter, value]) => ({ labels: { counter }, value })),
    },
    {
      name: 'iotcore_operator_sign_in',
      help: 'failed operator sign-ins: failures, refused (429), addresses tracked now, forgotten (bounded memory)',
      labelNames: ['counter'],
      read: () => Object.entries(limit.counters()).map(([counter, value]) => ({ labels: { counter }, value })),
    },
  ];
}
