// Public shapes of the rules engine. The field names follow the AWS IoT topic rules API
// (`TopicRulePayload`, `Action`) so the same objects come from the config file, from
// CreateTopicRule and from our own API without translation.

export type SqlVersion = '2015-10-08' | '2016-03-23' | 'beta';

/** The IoT Analytics action: the rule's output becomes one channel message (or, with
 * batchMode and an array output, one message per element). */
export interface IotAnalyticsAction {
  channelName: string;
  batchMode?: boolean;
  roleArn?: string;
}

export interface RepublishAction {
  topic: string;
  qos?: number;
  roleArn?: string;
}

/** The HTTP action (a webhook): the rule's output is POSTed to `url`. */
export interface HttpAction {
  url: string;
  confirmationUrl?: string;
  headers?: { key: string; value: string }[];
  [other: string]: unknown;
}

/** Exactly one member is set, as in the AWS API. Unknown members are refused at creation. */
export interface RuleAction {
  iotAnalytics?: IotAnalyticsAction;
  republish?: RepublishAction;
  http?: HttpAction;
  [other: string]: unknown;
}

export interface TopicRulePayload {
  sql: string;
  awsIotSqlVersion?: SqlVersion;
  description?: string;
  ruleDisabled?: boolean;
  actions: RuleAction[];
  errorAction?: RuleAction;
}

/** One inbound message as the broker hands it over. The payload is never parsed by the broker. */
export interface RuleMessage {
  topic: string;
  payload: Buffer;
  clientId?: string;
  principal?: string;
  /** epoch milliseconds when the broker received the message */
  receivedAt: number;
  protocol?: 'mqtt' | 'http';
}

/** Where actions deliver. Injected by the composition root (broker/wiring.ts); the rules folder
 * knows nothing of channels or sockets. A rejected promise is an action failure. */
export interface RuleSinks {
  /** Resolves once the channel has durably accepted every payload (archived). `objects[i]`, when
   * set, is the JSON object `payloads[i]` encodes, exactly (asExactJsonObject), so the receiver
   * need not parse it again; it may be shared with other actions, so nobody may modify it. */
  channel(channelName: string, payloads: Buffer[], source: RuleMessage, objects?: ReadonlyArray<Record<string, unknown> | undefined>): Promise<void>;
  republish(topic: string, payload: Buffer, qos: 0 | 1, source: RuleMessage): Promise<void>;
  /** POSTs one request (templates already substituted). Resolves on a 2xx answer, rejects with a
   * message naming the status or network error once the delivery policy gave up (retries,
   * timeout, full queue). Not awaited before the device's PUBACK: only channel writes are. */
  http(request: HttpRequest, source: RuleMessage): Promise<void>;
}

export interface HttpRequest {
  url: string;
  /** header entries in order; includes content-type (the action's entry, or the default:
   * application/json when the output is JSON, else application/octet-stream) */
  headers: { key: string; value: string }[];
  body: Buffer;
}

/** Synchronous read access to device state, injected by the composition root so that
 * get_thing_shadow() and get_registry_data() work without the rules folder knowing the registry.
 * Return undefined when the thing (or shadow) does not exist; the SQL function then gives
 * Undefined. Results must be JSON-like (objects, arrays, strings, numbers, booleans, null). */
export interface RuleLookups {
  /** the shadow document (`{state, metadata, version, timestamp}`); no shadowName = classic shadow */
  thingShadow(thingName: string, shadowName?: string): unknown | undefined;
  /** `DescribeThing`: the DescribeThing response; `ListThingGroupsForThing`: `{thingGroups: [...]}` */
  registryData(thingName: string, api: RegistryApi): unknown | undefined;
}

export type RegistryApi = 'DescribeThing' | 'ListThingGroupsForThing';

/** Per-rule counters, cumulative since the rule was (re)created. */
export interface RuleCounters {
  ruleName: string;
  matched: number; // topic matched the FROM filter
  fired: number; // WHERE true, actions started
  noResult: number; // WHERE not true
  failed: number; // evaluation threw (should be rare: invalid args yield Undefined)
  actionsOk: number;
  actionsFailed: number;
  errorActionsFailed: number; // the error action itself failed (the failure is then only counted)
}

export interface RuleInfo {
  ruleName: string;
  topicRulePayload: TopicRulePayload;
  createdAt: number;
  topicFilter: string;
}
