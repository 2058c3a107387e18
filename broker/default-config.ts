// The embedded default configuration: what `npm start` and `npm run demo` run when no
// configuration file is given. One data path, end to end: the demo fleet publishes on
// `devices/<id>/telemetry`; a rule sends every message to the `telemetry` channel; a pipeline
// converts Celsius to Fahrenheit, drops impossible battery readings and stores the rest in the
// `telemetry_store` datastore; the `fleet_summary` dataset summarises it per device.
import type { ResourcesConfig } from './config.js';

export const DEFAULT_RESOURCES: ResourcesConfig = {
  rules: [
    {
      ruleName: 'telemetry_to_analytics',
      topicRulePayload: {
        sql: "SELECT * FROM 'devices/+/telemetry'",
        awsIotSqlVersion: '2016-03-23',
        actions: [{ iotAnalytics: { channelName: 'telemetry' } }],
      },
    },
  ],
  channels: [{ channelName: 'telemetry', retentionPeriod: { numberOfDays: 30 } }],
  datastores: [{ datastoreName: 'telemetry_store', retentionPeriod: { unlimited: true } }],
  pipelines: [
    {
      pipelineName: 'telemetry_pipeline',
      pipelineActivities: [
        { channel: { name: 'from_channel', channelName: 'telemetry', next: 'plausible_battery' } },
        { filter: { name: 'plausible_battery', filter: 'battery >= 0 AND battery <= 100', next: 'fahrenheit' } },
        { math: { name: 'fahrenheit', attribute: 'temperature_f', math: 'temperature * 9 / 5 + 32', next: 'to_store' } },
        { datastore: { name: 'to_store', datastoreName: 'telemetry_store' } },
      ],
    },
  ],
  datasets: [
    {
      datasetName: 'fleet_summary',
      actions: [
        {
          actionName: 'per_device',
          queryAction: {
            sqlQuery:
              'SELECT deviceId, count(*) AS messages, round(avg(temperature), 2) AS avg_temperature, ' +
              'min(battery) AS min_battery, max(__dt) AS last_seen FROM telemetry_store GROUP BY deviceId ORDER BY deviceId',
          },
        },
      ],
    },
  ],
  // alerts out of the box: a sudden temperature change per device (ewma alerts on a spike within
  // milliseconds, see README "Alerting on injected anomalies") and a battery running low
  detectors: [
    { detectorName: 'temperature_anomalies', type: 'anomaly', datastoreName: 'telemetry_store', attribute: 'temperature', detector: 'ewma' },
    { detectorName: 'low_battery', type: 'range', datastoreName: 'telemetry_store', attribute: 'battery', min: 10, severity: 'WARNING' },
  ],
};
