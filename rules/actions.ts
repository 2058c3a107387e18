// Rule actions compiled at rule creation: shape checked, templates compiled. Only the action
// types this engine can deliver are accepted; any other is refused by name, never ignored.
import type { IotAnalyticsAction, RepublishAction, RuleAction, RuleMessage, RuleSinks } from './types.js';
import { compileHttp } from './http-action.js';
import { invalidRequest } from './errors.js';
import type { Scope } from './sql/scope.js';
import { asExactJsonObject, serializeOutput, type Obj, type Value } from './sql/values.js';
import { compileTemplate, type TemplateCtx } from './templates.js';
import { invoke, requireObject } from './action-util.js';

export const SUPPORTED_ACTIONS = ['iotAnalytics', 'republish', 'http'] as const;

/** AWS's limit on the elements of an array output turned into messages by batchMode. */
export const MAX_BATCH_MESSAGES = 100;

export interface ActionFailure {
  failedAction: string;
  failedResource: string;
  errorMessage: string;
}

export interface CompiledAction {
  /** name used in error-action payloads, as AWS spells it (`RepublishAction`, ...) */
  failedActionName: 'IotAnalyticsAction' | 'RepublishAction' | 'HttpAction';
  /** true for durable writes (channel archive): only these hold the device's acknowledgement */
  durable: boolean;
  /** the target after template substitution, for failure reports */
  resource(s: Scope): string;
  /** Calls the sink synchronously (keeping per-client order); the promise settles with it. */
  run(output: Value, s: Scope, sinks: RuleSinks, msg: RuleMessage): Promise<void>;
}

export function compileAction(action: RuleAction, field: string, t: TemplateCtx): CompiledAction {
  if (typeof action !== 'object' || action === null || Array.isArray(action)) throw invalidRequest(`${field} must be an object with one action type`);
  const keys = Object.keys(action).filter((k) => action[k] !== undefined);
  if (keys.length !== 1) throw invalidRequest(`${field} must name exactly one action type, got ${keys.length ? keys.join(', ') : 'none'}`);
  const type = keys[0]!;
  switch (type) {
    case 'iotAnalytics':
      return compileIotAnalytics(action.iotAnalytics!, `${field}.iotAnalytics`, t);
    case 'republish':
      return compileRepublish(action.republish!, `${field}.republish`, t);
    case 'http':
      return compileHttp(action.http!, `${field}.http`, t);
    default:
      throw invalidRequest(`${field}: action type '${type}' is not supported (supported: ${SUPPORTED_ACTIONS.join(', ')})`);
  }
}

function compileIotAnalytics(raw: IotAnalyticsAction, field: string, t: TemplateCtx): CompiledAction {
  const a = requireObject(raw, field);
  let name = a.channelName;
  if (name === undefined && typeof a.channelArn === 'string') name = a.channelArn.split(':channel/')[1];
  if (typeof name !== 'string' || name.length === 0) throw invalidRequest(`${field}.channelName is required`);
  if (a.batchMode !== undefined && typeof a.batchMode !== 'boolean') throw invalidRequest(`${field}.batchMode must be a boolean`);
  const channel = compileTemplate(name, `${field}.channelName`, t);
  const batchMode = a.batchMode === true;
  return {
    failedActionName: 'IotAnalyticsAction',
    durable: true,
    resource: channel,
    run(output, s, sinks, msg) {
      let payloads: Buffer[];
      let objects: (Obj | undefined)[];
      if (batchMode && Array.isArray(output)) {
        if (output.length > MAX_BATCH_MESSAGES) {
          return Promise.reject(new Error(`batchMode output has ${output.length} elements, more than ${MAX_BATCH_MESSAGES}`));
        }
        payloads = output.map(serializeOutput);
        objects = output.map(asExactJsonObject);
      } else {
        payloads = [serializeOutput(output)];
        objects = [asExactJsonObject(output)];
      }
      return invoke(() => sinks.channel(channel(s), payloads, msg, objects));
    },
  };
}

function compileRepublish(raw: RepublishAction, field: string, t: TemplateCtx): CompiledAction {
  const a = requireObject(raw, field);
  if (typeof a.topic !== 'string' || a.topic.length === 0) throw invalidRequest(`${field}.topic is required`);
  if (a.qos !== undefined && a.qos !== 0 && a.qos !== 1) throw invalidRequest(`${field}.qos must be 0 or 1`);
  const qos = (a.qos ?? 0) as 0 | 1;
  const template = compileTemplate(a.topic, `${field}.topic`, t);
  // `$$aws/...` in the action means the reserved topic `$aws/...` (a single `$` is the template).
  const topicOf = (s: Scope): string => {
    const t = template(s);
    return t.startsWith('$$') ? t.slice(1) : t;
  };
  return {
    failedActionName: 'RepublishAction',
    durable: false,
    resource: topicOf,
    run(output, s, sinks, msg) {
      const topic = topicOf(s);
      if (topic.length === 0 || topic.includes('+') || topic.includes('#')) {
        return Promise.reject(new Error(`cannot republish to topic '${topic}'`));
      }
      return invoke(() => sinks.republish(topic, serializeOutput(output), qos, msg));
    },
  };
}
