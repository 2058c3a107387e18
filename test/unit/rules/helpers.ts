// Shared helpers for the rules unit tests: a recording fake of the sinks and message builders.
import { RulesError, type RuleMessage, type RuleSinks } from '../../../rules/index.js';

export interface Recorded {
  kind: 'channel' | 'republish' | 'http';
  target: string;
  payloads: string[];
  qos?: 0 | 1;
  headers?: { key: string; value: string }[];
}

export function recordingSinks(fail: { channel?: string; republish?: string; http?: string } = {}): RuleSinks & { calls: Recorded[] } {
  const calls: Recorded[] = [];
  return {
    calls,
    async channel(channelName, payloads) {
      calls.push({ kind: 'channel', target: channelName, payloads: payloads.map((p) => p.toString('utf8')) });
      if (fail.channel !== undefined && channelName === fail.channel) throw new Error(`channel ${channelName} is full`);
    },
    async republish(topic, payload, qos) {
      calls.push({ kind: 'republish', target: topic, payloads: [payload.toString('utf8')], qos });
      if (fail.republish !== undefined && topic === fail.republish) throw new Error(`cannot publish to ${topic}`);
    },
    async http(request) {
      calls.push({ kind: 'http', target: request.url, payloads: [request.body.toString('utf8')], headers: request.headers });
      if (fail.http !== undefined && request.url === fail.http) throw new Error(`POST ${request.url} answered 503`);
    },
  };
}

export function jsonMessage(topic: string, payload: unknown, extra: Partial<RuleMessage> = {}): RuleMessage {
  return { topic, payload: Buffer.from(JSON.stringify(payload)), clientId: 'device-1', receivedAt: 1_700_000_000_000, ...extra };
}

/** The coded error a call throws; fails the test when it throws nothing or something else. */
export function refusal(f: () => unknown): RulesError {
  try {
    f();
  } catch (e) {
    if (e instanceof RulesError) return e;
    throw e;
  }
  throw new Error('expected a RulesError');
}
