// The AWS IoT data plane (restJson1, as `@aws-sdk/client-iot-data-plane` calls it; spec §5).
// Registered in the AWS scope of http/server.ts (SigV4, AWS error shape).
//   GET    /things/{thingName}/shadow[?name=]       GetThingShadow     → the shadow document
//   POST   /things/{thingName}/shadow[?name=]       UpdateThingShadow  body = request document → accepted document
//   DELETE /things/{thingName}/shadow[?name=]       DeleteThingShadow  → {version, timestamp}
//   GET    /api/things/shadow/ListNamedShadowsForThing/{thingName}?nextToken=&pageSize=
//   POST   /topics/{topic}?qos=&retain=             Publish            body = raw payload → 200, empty
// retain=true stores the payload as the topic's retained message exactly as a device's retained
// PUBLISH does (journaled in <dataDir>/retained.jsonl, delivered to later subscribers; an empty
// payload deletes it); the message goes through the rules like any broker publish.
// Bodies are read as raw bytes here (not as the scope's JSON): a Publish payload can be anything,
// and a shadow update must answer a bad document with the shadow service's own `Invalid JSON`.
import { BrokerError } from '../../errors.js';
import type { ShadowService } from '../../shadows/index.js';
import type { Http } from '../server.js';
import { isAlertTopic } from '../../alert-topic.js';
import { AWS_TOPIC_LIMITS, topicLimitProblem, type TopicLimits } from '../../mqtt/topic-limits.js';

export interface IotDataOptions {
  /** the broker's publish; the message then goes through the rules like any publish */
  publish(topic: string, payload: Buffer, qos: 0 | 1, retain: boolean): Promise<void>;
  /** largest request body (Publish payload, shadow update document), bytes */
  bodyLimit: number;
  /** the same topic limits MQTT publishes keep (default AWS's) */
  topicLimits?: TopicLimits;
}

interface ThingParams { thingName: string }
interface ShadowQuery { name?: unknown }
interface ListQuery { nextToken?: unknown; pageSize?: unknown }
interface PublishQuery { qos?: unknown; retain?: unknown }

export function iotDataRoutes(shadows: ShadowService, options: IotDataOptions) {
  const { bodyLimit } = options;
  const topicLimits = options.topicLimits ?? AWS_TOPIC_LIMITS;
  return (app: Http) => {
    void app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

      scope.get<{ Params: ThingParams; Querystring: ShadowQuery }>('/things/:thingName/shadow', async (req, reply) => {
        return json(reply, shadows.get(req.params.thingName, shadowName(req.query)));
      });
      scope.post<{ Params: ThingParams; Querystring: ShadowQuery }>('/things/:thingName/shadow', { bodyLimit }, async (req, reply) => {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        return json(reply, shadows.update(req.params.thingName, shadowName(req.query), body));
      });
      scope.delete<{ Params: ThingParams; Querystring: ShadowQuery }>('/things/:thingName/shadow', async (req, reply) => {
        return json(reply, shadows.delete(req.params.thingName, shadowName(req.query)));
      });
      scope.get<{ Params: ThingParams; Querystring: ListQuery }>('/api/things/shadow/ListNamedShadowsForThing/:thingName', async (req) => {
        const page: { pageSize?: number; nextToken?: string } = {};
        const size = single(req.query.pageSize, 'pageSize');
        if (size !== undefined) page.pageSize = /^\d{1,4}$/.test(size) ? Number(size) : NaN;
        const token = single(req.query.nextToken, 'nextToken');
        if (token !== undefined) page.nextToken = token;
        return shadows.listNamedShadows(req.params.thingName, page);
      });
      // `*`: the SDK sends the topic as one encoded segment (%2F), curl and the docs' samples
      // send raw slashes; the router decodes both to the same topic.
      scope.post<{ Params: { '*': string }; Querystring: PublishQuery }>('/topics/*', { bodyLimit }, async (req, reply) => {
        const topic = publishTopic(req.params['*'], topicLimits);
        const payload = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const qos = qosOf(req.query.qos);
        const retain = booleanOf(req.query.retain, 'retain');
        // AWS: no retained messages on reserved topics (refused before a shadow request is applied)
        if (retain && topic.startsWith('$')) throw new BrokerError('ReservedTopic', `may not retain a message on ${topic}: reserved topics hold no retained messages`);
        if (topic.startsWith('$aws/things/') && shadows.offer(topic, payload) === 'refused') {
          throw new BrokerError('ReservedTopic', `may not publish to ${topic}: only the shadow service publishes on shadow response topics`);
        }
        await options.publish(topic, payload, qos, retain);
        return reply.status(200).header('content-type', 'application/json').send('{}');
      });
    });
  };
}

function json(reply: { header(k: string, v: string): unknown; send(body: string): unknown }, doc: unknown) {
  reply.header('content-type', 'application/json');
  return reply.send(JSON.stringify(doc));
}

function shadowName(query: ShadowQuery): string | undefined {
  return single(query.name, 'name');
}

function single(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BrokerError('InvalidRequestException', `${name} must be given once`);
  return v;
}

function qosOf(v: unknown): 0 | 1 {
  const s = single(v, 'qos');
  if (s === undefined || s === '0') return 0;
  if (s === '1') return 1;
  throw new BrokerError('InvalidRequestException', `qos must be 0 or 1, got '${s}'`);
}

function booleanOf(v: unknown, name: string): boolean {
  const s = single(v, name);
  if (s === undefined || s === 'false') return false;
  if (s === 'true') return true;
  throw new BrokerError('InvalidRequestException', `${name} must be true or false, got '${s}'`);
}

/** Topics of a publish: non-empty, no wildcards, not $SYS, within the topic limits (AWS's: 256 bytes, 7 slashes). */
function publishTopic(topic: string, limits: TopicLimits): string {
  // the router has already percent-decoded it (once: `%2525` stays `%25`)
  if (topic === '' || /[+#]/.test(topic)) {
    throw new BrokerError('InvalidRequestException', `'${topic}' is not a topic one can publish to (not empty, no + or #)`);
  }
  const tooLong = topicLimitProblem(topic, limits);
  if (tooLong !== undefined) throw new BrokerError('InvalidRequestException', `'${topic.slice(0, 300)}' is not a topic one can publish to: ${tooLong}`);
  if (topic.startsWith('$SYS')) throw new BrokerError('ReservedTopic', `may not publish to ${topic}: $SYS topics are reserved`);
  if (topic.startsWith('$aws/events/')) throw new BrokerError('ReservedTopic', `may not publish to ${topic}: only the broker publishes lifecycle events`);
  if (isAlertTopic(topic)) throw new BrokerError('ReservedTopic', `may not publish to ${topic}: only the broker publishes alerts`);
  return topic;
}
