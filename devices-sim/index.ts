// Public API of the simulator, for tests and benchmarks.
export { runFleet, startFleet, type FleetRun } from './fleet.js';
export { resolveFleetOptions, FLEET_DEFAULTS, PROVISION_DEFAULTS, type FleetOptions, type FleetOptionsInput, type ProvisionSettings } from './options.js';
export { formatSummary, type Summary, type LatencySummary } from './report.js';
export { SimError, SIM_ERRORS, type SimErrorCode } from './errors.js';
export { provisionFleet, provisionThings, fleetPolicyDocument, fleetPolicyName, type ProvisionedFleet, type DeviceCredentials } from './provision.js';
export { parseProvisionArgs, DEVICE_POLICY_NAME } from './provision-args.js';
export { readCredentialsFile, type AccessKey } from './credentials.js';
export { parseAnomalySpec, formatAnomalySpec, ANOMALY_KINDS, METRICS, type AnomalySpec, type AnomalyLabel, type AnomalyOptions, type AnomalyKind, type Metric } from './anomalies.js';
export type { AnomalySummary } from './report.js';
export { profileMetrics, type MetricName } from './anomalies.js';
export { PROFILES, PROFILE_NAMES, DEFAULT_PROFILE, profileNamed, type ProfileName, type ProfileDefinition, type DeviceProfile, type MetricSpec, type Reading, type ShadowHandler } from './profiles/index.js';
export { PlugRelay, PLUG_SHADOW_FIELD, plugReportedDocument, type PlugPower, type PlugReading } from './profiles/plug.js';
export { padPayload, checkPayloadBytes, PAYLOAD_BYTES_RANGE } from './payload.js';
export { telemetryTopic, shadowUpdateTopic, shadowDeltaTopic } from './topics.js';
export type { ShadowSummary } from './report.js';
export type { SimPayload } from './device.js';
export { buildRunReport, toCsv, urlWithoutCredentials, type RunReport, type RunOutcome } from './run-report.js';
