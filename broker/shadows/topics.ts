// Shadow topic names (spec §4.2). Parsed once per publish on `$aws/things/...`; nothing else
// reaches this code (ingest checks the prefix first).
export type ShadowOperation = 'update' | 'get' | 'delete';
export type ShadowResponse = 'accepted' | 'rejected' | 'delta' | 'documents';

export interface ShadowTopic {
  thingName: string;
  /** '' = the classic shadow */
  shadowName: string;
  operation: ShadowOperation;
  /** set when the topic is one the service publishes (devices may only subscribe to those) */
  response?: ShadowResponse;
}

const OPERATIONS = new Set(['update', 'get', 'delete']);
const RESPONSES: Record<ShadowOperation, ReadonlySet<string>> = {
  update: new Set(['accepted', 'rejected', 'delta', 'documents']),
  get: new Set(['accepted', 'rejected']),
  delete: new Set(['accepted', 'rejected']),
};

export const SHADOW_TOPIC_PREFIX = '$aws/things/';

/** `$aws/things/<thing>/shadow[/name/<shadow>]/<operation>[/<response>]`, or undefined. */
export function parseShadowTopic(topic: string): ShadowTopic | undefined {
  if (!topic.startsWith(SHADOW_TOPIC_PREFIX)) return undefined;
  const parts = topic.slice(SHADOW_TOPIC_PREFIX.length).split('/');
  const thingName = parts[0];
  if (!thingName || parts[1] !== 'shadow') return undefined;
  let i = 2;
  let shadowName = '';
  if (parts[i] === 'name') {
    shadowName = parts[i + 1] ?? '';
    if (shadowName === '') return undefined;
    i += 2;
  }
  const operation = parts[i];
  if (operation === undefined || !OPERATIONS.has(operation)) return undefined;
  const op = operation as ShadowOperation;
  const rest = parts.slice(i + 1);
  if (rest.length === 0) return { thingName, shadowName, operation: op };
  if (rest.length === 1 && RESPONSES[op].has(rest[0]!)) return { thingName, shadowName, operation: op, response: rest[0] as ShadowResponse };
  return undefined;
}

export function shadowTopic(thingName: string, shadowName: string, operation: ShadowOperation, response?: ShadowResponse): string {
  const prefix = shadowName === '' ? `$aws/things/${thingName}/shadow` : `$aws/things/${thingName}/shadow/name/${shadowName}`;
  return response ? `${prefix}/${operation}/${response}` : `${prefix}/${operation}`;
}
