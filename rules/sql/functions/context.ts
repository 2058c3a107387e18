// Functions about the message and the rule run rather than about values (spec §1.8).
import type { FunctionTable } from './registry.js';
import { toInt } from '../values.js';

export const contextFunctions: FunctionTable = {
  topic: {
    min: 0, max: 1, impure: true,
    call([n], s) {
      if (n === undefined) return s.m.topic;
      const i = toInt(n);
      if (typeof i !== 'number' || i < 1) return undefined;
      return s.m.levels()[i - 1];
    },
  },
  clientid: { min: 0, max: 0, impure: true, call: (_a, s) => (s.m.msg.protocol === 'http' ? 'n/a' : s.m.msg.clientId ?? 'n/a') },
  principal: { min: 0, max: 0, impure: true, call: (_a, s) => s.m.msg.principal },
  timestamp: { min: 0, max: 0, impure: true, call: (_a, s) => s.m.now() },
  accountid: { min: 0, max: 0, impure: true, call: (_a, s) => s.m.env.accountId },
  newuuid: { min: 0, max: 0, impure: true, call: (_a, s) => s.m.env.newUuid() },
  traceid: { min: 0, max: 0, impure: true, call: (_a, s) => (s.m.msg.protocol === 'http' ? undefined : s.m.traceId()) },
  sql_version: { min: 0, max: 0, impure: true, call: (_a, s) => s.version },
};
