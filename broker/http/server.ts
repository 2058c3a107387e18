// The HTTP port: health, metrics, our own /api/ routes and the dashboard, plus the WebSocket
// upgrades (see websocket.ts). The only file that imports fastify.
import Fastify, { type FastifyInstance } from 'fastify';
import type { ApiErrorBody } from '../contract.js';
import { BROKER_ERRORS, isCodedError } from '../errors.js';
import type { Logger } from '../log.js';

export type Http = FastifyInstance;
export type RouteModule = (app: Http) => void;
export type { FastifyReply as Reply } from 'fastify';

export function createHttp(routes: RouteModule[], log: Logger, bodyLimit: number): Http {
  const app = Fastify({ logger: false, bodyLimit });

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toErrorBody(err);
    if (status >= 500) log.error({ err: String(err), stack: (err as Error).stack, url: request.url }, 'request failed');
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ code: 'NotFound', message: `no route for ${request.method} ${request.url}` } satisfies ApiErrorBody);
  });
  for (const route of routes) route(app);
  return app;
}

function toErrorBody(err: unknown): { status: number; body: ApiErrorBody } {
  const e = err as { code?: string; statusCode?: number; message?: string; validation?: unknown };
  // fastify's own request errors (bad JSON, body too large, wrong content type) are client errors
  if (typeof e.code === 'string' && e.code.startsWith('FST_') && e.statusCode && e.statusCode < 500) {
    return { status: e.statusCode, body: { code: e.statusCode === 413 ? 'PayloadTooLarge' : 'InvalidRequestException', message: e.message ?? 'bad request' } };
  }
  if (isCodedError(err)) return { status: err.statusCode, body: { code: err.code, message: err.message } };
  return { status: BROKER_ERRORS.InternalFailureException.statusCode, body: { code: 'InternalFailureException', message: 'internal error; see the server log' } };
}
