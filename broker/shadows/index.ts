// The Device Shadow service (spec §4): document model, persistence, MQTT topics, data-plane operations.
export { openShadowService, errorDocument } from './service.js';
export type { ShadowService, ShadowServiceOptions, ShadowCounters, ListNamedShadowsResult, ShadowOffer } from './service.js';
export { DEFAULT_LIMITS } from './document.js';
export type { ShadowLimits, JsonObject } from './document.js';
export { SHADOW_REJECTIONS } from './errors.js';
export { SHADOWS_DIR } from './store.js';
export { parseShadowTopic, shadowTopic, SHADOW_TOPIC_PREFIX } from './topics.js';
