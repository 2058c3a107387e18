// What /metrics reports: each source reads counters owned by another module at scrape time.
import type { RulesEngine } from '../rules/index.js';
import type { Analytics } from '../analytics/index.js';
import type { HistogramSource, MetricSource, Sample } from './metrics.js';
import type { Ingest } from './mqtt/ingest.js';
import type { MqttServer } from './mqtt/server.js';
import type { LiveFeed } from './live.js';
import type { HttpDelivery } from './actions/http.js';
import type { AuthCounters } from './mqtt/auth.js';
import type { PublisherCounters } from './mqtt/lifecycle.js';
import type { FleetActivityCounters } from './fleet-activity.js';

interface Parts {
  ingest: Ingest;
  mqtt: MqttServer;
  rules: RulesEngine;
  analytics: Analytics;
  live: LiveFeed;
  http: HttpDelivery;
  auth?: AuthCounters;
  /** alert events published on iotcore/alerts/... */
  alertPublish?: PublisherCounters;
  /** the per-client activity table behind GET /api/fleet */
  fleet?: () => FleetActivityCounters;
}

export function metricSources({ ingest, mqtt, rules, analytics, live, http, auth, alertPublish, fleet }: Parts): MetricSource[] {
  return [
    ...(fleet
      ? [{
          name: 'iotcore_fleet_activity',
          help: 'clients the fleet activity table remembers: tracked, connected, evicted (disconnected ones forgotten to stay within its bound), untracked (not remembered: the table was full of connected clients)',
          labelNames: ['counter'],
          read: () => Object.entries(fleet()).map(([counter, value]) => ({ labels: { counter }, value })),
        }]
      : []),
    ...(auth ? authSources(auth) : []),
    ...(alertPublish
      ? [{
          name: 'iotcore_alert_publish_total',
          help: 'alert events published on iotcore/alerts/<source>/<deviceId>: published, dropped (queue full or stopping), failed',
          labelNames: ['counter'],
          read: () => Object.entries(alertPublish).map(([counter, value]) => ({ labels: { counter }, value })),
        }]
      : []),
    { name: 'iotcore_mqtt_connected_clients', help: 'MQTT clients connected now', read: () => [{ value: mqtt.connectedClients() }] },
    {
      name: 'iotcore_mqtt_fanout',
      help: 'messages in the broker\'s fan-out to subscribers now: delivering (at most 1000 at once), queued (waiting for a delivery slot; a growing queue means delivery falls behind publishing)',
      labelNames: ['state'],
      read: () => Object.entries(mqtt.fanout()).map(([state, value]) => ({ labels: { state }, value })),
    },
    {
      name: 'iotcore_mqtt_sessions_total',
      help: 'QoS 1 messages kept for clean=false sessions (journaled, survive a restart): queued, acknowledged, dropped (beyond 1000 per client), compactions, diskFull (session changes refused: the disk was full)',
      labelNames: ['counter'],
      read: () => Object.entries(mqtt.sessionCounters).map(([counter, value]) => ({ labels: { counter }, value })),
    },
    {
      name: 'iotcore_mqtt_retained_total',
      help: 'retained messages: stored, deleted, refused, expired at start-up, compactions, diskFull (refused: the disk was full)',
      labelNames: ['counter'],
      read: () => Object.entries(mqtt.retainedCounters).map(([counter, value]) => ({ labels: { counter }, value })),
    },
    {
      name: 'iotcore_lifecycle_events_total',
      help: 'lifecycle events ($aws/events/...): published, dropped (queue full or broker stopping), failed',
      labelNames: ['counter'],
      read: () => Object.entries(mqtt.lifecycleCounters).map(([counter, value]) => ({ labels: { counter }, value })),
    },
    {
      name: 'iotcore_ingest_total',
      help: 'device publishes by outcome: received, receivedBytes, unmatched (no rule), oversized, reserved, failed (not acknowledged), diskFull (of failed: a channel archive\'s disk was full)',
      labelNames: ['counter'],
      read: () => Object.entries(ingest.counters).map(([counter, value]) => ({ labels: { counter }, value })),
    },
    {
      name: 'iotcore_rule_total',
      help: 'per-rule counters: matched, fired, noResult, failed, actionsOk, actionsFailed',
      labelNames: ['rule', 'counter'],
      read: () =>
        rules.counters().flatMap(({ ruleName, ...counts }) =>
          Object.entries(counts).map(([counter, value]) => ({ labels: { rule: ruleName, counter }, value: Number(value) })),
        ),
    },
    {
      name: 'iotcore_analytics',
      help: 'channel, pipeline, activity and datastore counters (messages, drops, backlog, rows written, diskFull and diskFullRefusals of channels, diskFullRetries of datastores, ...)',
      labelNames: ['path', 'counter'],
      read: () => flatten(analytics.counters()),
    },
    {
      name: 'iotcore_http_action_total',
      help: 'http rule action deliveries: inFlight, queued, delivered, failed, retries, dropped (queue full)',
      labelNames: ['counter'],
      read: () => Object.entries(http.counters()).map(([counter, value]) => ({ labels: { counter }, value })),
    },
    {
      name: 'iotcore_live_total',
      help: 'live feed: clients, framesSent, rowsSent, rowsDropped (slow dashboards), decimated (left out by maxRowsPerFrame), framesShared (sent as another client\'s identical frame), alertsSent, alertsDropped, datasetsSent, datasetsDropped',
      labelNames: ['counter'],
      read: () => Object.entries(live.counters()).map(([counter, value]) => ({ labels: { counter }, value })),
    },
  ];
}

/** The datastores' freshness: how long a message took from the broker to a queryable row. */
export function rowLagSource(analytics: Analytics): HistogramSource {
  return {
    name: 'iotcore_datastore_row_lag_seconds',
    help: 'seconds from the broker receiving a message to the commit that made its row queryable, per datastore (rows pipelines wrote; reprocessing is left out)',
    labelNames: ['datastore'],
    read: () =>
      Object.entries(analytics.rowLag()).map(([datastore, lag]) => ({
        labels: { datastore },
        bounds: lag.bucketsS,
        cumulative: lag.cumulative,
        count: lag.count,
        sum: lag.sumS,
      })),
  };
}

function authSources(auth: AuthCounters): MetricSource[] {
  return [
    {
      name: 'iotcore_mqtt_auth_refused_total',
      help: 'MQTT connections refused at CONNECT, by reason (unknown or inactive certificate, bad password, anonymous, Connect not allowed)',
      labelNames: ['reason'],
      read: () => Object.entries(auth.refused).map(([reason, value]) => ({ labels: { reason }, value })),
    },
    {
      name: 'iotcore_mqtt_denied_total',
      help: 'MQTT actions the policies denied: iot:Publish and iot:Subscribe close the connection, iot:Receive skips the delivery',
      labelNames: ['action'],
      read: () => Object.entries(auth.denied).map(([action, value]) => ({ labels: { action }, value })),
    },
  ];
}

/** Nested counter objects → samples labelled with the path to the leaf (e.g. channels/telemetry). */
function flatten(value: unknown, path: string[] = []): Sample[] {
  if (typeof value === 'number') {
    const counter = path.at(-1) ?? 'value';
    return [{ labels: { path: path.slice(0, -1).join('/'), counter }, value }];
  }
  if (value && typeof value === 'object') {
    // a pipeline's lastError is a message and a time, not a counter (GET /api/pipelines has it)
    return Object.entries(value).flatMap(([k, v]) => (k === 'lastError' ? [] : flatten(v, [...path, k])));
  }
  return [];
}
