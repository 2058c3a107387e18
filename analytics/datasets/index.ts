// Datasets: saved SQL over datastores, run read-only; contents, triggers, delivery.
export { runDataset, validateDataset, normaliseDataset } from './dataset.js';
export { DatasetService, deliveryPath } from './service.js';
export type { DatasetServiceOptions, DatasetCounters, DatasetDefinitionStore, ContentVersion, ContentState, VersionSelector, DatasetContentEvent, ContentTable } from './service.js';
export type { Clock } from './scheduler.js';
