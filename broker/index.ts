// What other folders (tests, benchmarks) may use of the broker.
export { startServer } from './server.js';
export type { StartOptions, RunningServer } from './server.js';
export { loadConfig, DEFAULT_SETTINGS, ENV_VARS } from './config.js';
export type { Config, ServerSettings, ResourcesConfig } from './config.js';
export { BROKER_ERRORS, BrokerError } from './errors.js';
export { DEFAULT_RESOURCES } from './default-config.js';
export type * from './contract.js';
