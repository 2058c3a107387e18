// What the anomaly folder offers the rest of analytics (analytics/index.ts re-exports from here).
export type { Detector, DetectorFactory, DetectorParams } from './detector.js';
export { DEFAULT_ANOMALY_THRESHOLD } from './detector.js';
export { DETECTORS, DEFAULT_DETECTOR_NAME, detectorFactory } from './registry.js';

// Alerts: the contract raisers use, and the store behind the API, MQTT topic and live feed.
export type { Alert, AlertKey, AlertRaise, AlertSeverity, AlertSink, AlertState } from './alert.js';
export type { AlertStore, AlertStoreOptions, AlertCounters, AlertEvent, AlertEventKind, AlertFilter } from './alerts.js';
export { openAlertStore, ALERT_STATES, ALERT_SEVERITIES, ALERTS_TABLE, MAX_ALERT_NOTE } from './alerts.js';
// Detector resources and data-quality alarms bound to datastore columns (detector-resources.ts).
export type { DetectorResourceDefinition, DetectorResourceType } from './resource-definition.js';
export { DETECTOR_RESOURCE_TYPES } from './resource-definition.js';
export type { DetectorDescription, DetectorResources } from './detector-resources.js';
export { MAX_DETECTOR_RESOURCES } from './detector-resources.js';
export type { MonitorCounters } from './monitors.js';
