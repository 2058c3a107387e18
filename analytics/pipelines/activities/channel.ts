// channel: the entry point of a pipeline; names the channel whose archived messages it reads.
import type { Members } from './common.js';
import { checkMembers, checkString } from './common.js';

export function compileChannelActivity(body: Members): { channelName: string } {
  checkMembers(body, 'channel', ['name', 'channelName', 'next']);
  return { channelName: checkString(body, 'channelName', 'channel', 1, 128) };
}
