// Public surface of analytics/channels.
export { Channel, checkRetention } from './channel.js';
export type { ChannelOptions, ChannelCounters, ArchivedListener } from './channel.js';
export { dayPartition, channelDir } from './layout.js';
export { prepareBatch, MAX_BATCH_MESSAGES, MAX_MESSAGE_BYTES } from './batch.js';
export type { BatchPutMessageErrorEntry, PreparedBatch } from './batch.js';
