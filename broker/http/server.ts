// The HTTP port: health, metrics, our own /api/ routes and the dashboard, the AWS-compatible
// routes (in their own fastify scope: AWS error shape, lenient bodies, their own body limit),
// plus the WebSocket upgrades (see websocket.ts). The only file that imports fastify.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ApiErrorBody } from '../contract.js';
import { BrokerError } from '../errors.js';
import type { Logger } from '../log.js';
import { awsErrorResponse, toErrorOutcome } from './aws-errors.js';

export type Http = FastifyInstance;
export type RouteModule = (app: Http) => void;
export type { FastifyReply as Reply } from 'fastify';

export interface AwsRoutes {
  routes: RouteModule[];
  /** body limit of every AWS route, bytes (a topic rule may be 256 KB) */
  bodyLimit: number;
}

export function createHttp(routes: RouteModule[], log: Logger, bodyLimit: number, aws?: AwsRoutes): Http {
  const app = Fastify({ logger: false, bodyLimit });

  app.setErrorHandler((err, request, reply) => {
    const { status, code, message } = toErrorOutcome(err);
    if (status >= 500) log.error({ err: String(err), stack: (err as Error).stack, url: request.url }, 'request failed');
    void reply.status(status).send({ code, message } satisfies ApiErrorBody);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ code: 'NotFound', message: `no route for ${request.method} ${request.url}` } satisfies ApiErrorBody);
  });
  for (const route of routes) route(app);
  if (aws) void app.register(async (scope) => awsScope(scope, aws, log));
  return app;
}

/** The AWS routes' scope. The SDKs send JSON as application/json, but a bodiless POST (Enable/
 * DisableTopicRule) may come with or without a content type, and other clients (curl) send
 * anything: every body is read as JSON text, an empty one as no body. */
function awsScope(scope: Http, aws: AwsRoutes, log: Logger): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, text, done) => {
    const body = String(text);
    if (body.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body));
    } catch (err) {
      done(new BrokerError('InvalidRequestException', `the request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });
  // a route may still set its own limit
  scope.addHook('onRoute', (route) => {
    route.bodyLimit ??= aws.bodyLimit;
  });
  scope.addHook('onRequest', async (_request, reply) => {
    void reply.header('x-amzn-RequestId', randomUUID());
  });
  scope.setErrorHandler((err, request, reply) => {
    const outcome = toErrorOutcome(err);
    if (outcome.status >= 500) log.error({ err: String(err), stack: (err as Error).stack, url: request.url }, 'request failed');
    const { status, headers, body } = awsErrorResponse(outcome);
    void reply.status(status).headers(headers).send(body);
  });
  for (const route of aws.routes) route(scope);
}
