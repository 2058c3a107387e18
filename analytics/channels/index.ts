// Public surface of analytics/channels.
export { Channel, checkRetention } from './channel.js';
export type { ChannelOptions, ChannelCounters, ArchivedListener } from './channel.js';
export { dayPartition, channelDir } from './layout.js';
