// Retained messages on the AWS IoT data plane (restJson1, `@aws-sdk/client-iot-data-plane`; spec §5.2).
// Registered in the AWS scope of http/server.ts (SigV4, AWS error shape).
//   GET /retainedMessage?maxResults=(1..200)&nextToken=   ListRetainedMessages
//       → {retainedTopics: [{topic, payloadSize, qos, lastModifiedTime}], nextToken?}
//   GET /retainedMessage/{topic}                           GetRetainedMessage
//       → {topic, payload (base64), qos, lastModifiedTime}; 404 ResourceNotFoundException
// lastModifiedTime is epoch milliseconds of the publish that stored the message (kept across
// restarts by the journal, broker/mqtt/retained-store.ts).
import { BrokerError } from '../../errors.js';
import type { RetainedReader } from '../../mqtt/retained.js';
import type { Http } from '../server.js';

interface ListQuery { maxResults?: unknown; nextToken?: unknown }

const MAX_RESULTS = 200;

export function iotRetainedRoutes(retained: () => RetainedReader) {
  return (app: Http) => {
    app.get<{ Querystring: ListQuery }>('/retainedMessage', async (req) => {
      const maxResults = pageSize(req.query.maxResults);
      const after = tokenTopic(req.query.nextToken);
      // the token is the last topic sent: a page stays correct when topics come and go between calls
      const { retainedTopics, more } = retained().list(after, maxResults);
      const body: { retainedTopics: typeof retainedTopics; nextToken?: string } = { retainedTopics };
      if (more) body.nextToken = Buffer.from(retainedTopics[retainedTopics.length - 1]!.topic).toString('base64url');
      return body;
    });
    // `*`: the SDK sends the topic as one encoded segment (%2F), curl sends raw slashes
    app.get<{ Params: { '*': string } }>('/retainedMessage/*', async (req) => {
      const topic = req.params['*'];
      if (topic === '' || /[+#]/.test(topic)) {
        throw new BrokerError('InvalidRequestException', `'${topic}' is not a topic (no wildcards)`);
      }
      const message = retained().get(topic);
      if (!message) throw new BrokerError('ResourceNotFoundException', `no retained message on topic ${topic}`);
      return { topic: message.topic, payload: message.payload.toString('base64'), qos: message.qos, lastModifiedTime: message.lastModifiedTime };
    });
  };
}

function single(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BrokerError('InvalidRequestException', `${name} must be given once`);
  return v;
}

function pageSize(v: unknown): number {
  const s = single(v, 'maxResults');
  if (s === undefined) return MAX_RESULTS;
  const n = /^\d{1,3}$/.test(s) ? Number(s) : NaN;
  if (!(n >= 1 && n <= MAX_RESULTS)) throw new BrokerError('InvalidRequestException', `maxResults must be 1 to ${MAX_RESULTS}, got '${s}'`);
  return n;
}

function tokenTopic(v: unknown): string | undefined {
  const s = single(v, 'nextToken');
  if (s === undefined || s === '') return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(s)) throw new BrokerError('InvalidRequestException', 'nextToken is not one this server issued');
  return Buffer.from(s, 'base64url').toString();
}
