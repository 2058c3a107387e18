// Date functions over Joda/java.time patterns (spec §1.8), both 2016-03-23 only.
import type { FunctionTable } from './registry.js';
import { formatTime, parseTime } from '../datetime.js';
import { toNumber, toStr } from '../values.js';

export const timeFunctions: FunctionTable = {
  parse_time: {
    min: 2, max: 3, v2: true,
    call([pattern, epoch, zone]) {
      const p = toStr(pattern);
      const t = toNumber(epoch);
      const z = zone === undefined ? 'UTC' : toStr(zone);
      if (p === undefined || typeof t !== 'number' || z === undefined) return undefined;
      return formatTime(p, Math.trunc(t), z);
    },
  },
  time_to_epoch: {
    min: 2, max: 2, v2: true,
    call([text, pattern]) {
      const s = toStr(text);
      const p = toStr(pattern);
      return s === undefined || p === undefined ? undefined : parseTime(s, p);
    },
  },
};
