// Datasets: saved SQL over datastores, run read-only.
export { runDataset, validateDataset } from './dataset.js';
