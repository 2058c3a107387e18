// The HTTP port: health, metrics, our own /api/ routes and the dashboard, the AWS-compatible
// routes (in their own fastify scope: AWS error shape, lenient bodies, their own body limit),
// plus the WebSocket upgrades (see websocket.ts). The only file that imports fastify.
import { createHash, randomUUID } from 'node:crypto';
import { pipeline, Transform } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { ApiErrorBody } from '../contract.js';
import { BrokerError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SignedRequest } from '../identity/sigv4.js';
import { awsErrorResponse, toErrorOutcome } from './aws-errors.js';

export type Http = FastifyInstance;
export type RouteModule = (app: Http) => void;
export type { FastifyReply as Reply } from 'fastify';

export interface AwsRoutes {
  routes: RouteModule[];
  /** body limit of every AWS route, bytes (a topic rule may be 256 KB) */
  bodyLimit: number;
  /** SigV4: required on every AWS route; checked on the other routes when a request is signed */
  auth: RequestAuth;
}

export interface RequestAuth {
  /** true when the request claims SigV4 credentials (header or query) */
  isSigned(request: Pick<SignedRequest, 'url' | 'headers'>): boolean;
  /** rejects with a coded error (403 InvalidSignatureException, ...) unless the signature holds */
  verify(request: SignedRequest): Promise<unknown>;
}

const EMPTY_SHA256 = createHash('sha256').digest('hex');
/** SHA-256 of each signed request's body bytes exactly as received (before any parser). */
const bodyHashes = new WeakMap<FastifyRequest, ReturnType<typeof createHash>>();
/** JSON errors of AWS bodies, reported only after the signature is checked. */
const deferredBodyErrors = new WeakMap<FastifyRequest, Error>();

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
  if (aws) verifySignedRequests(app, aws.auth);
  for (const route of routes) route(app);
  if (aws) void app.register(async (scope) => awsScope(scope, aws, log));
  return app;
}

/** The AWS routes' scope. The SDKs send JSON as application/json, but a bodiless POST (Enable/
 * DisableTopicRule) may come with or without a content type, and other clients (curl) send
 * anything: every body is read as JSON text, an empty one as no body. */
function awsScope(scope: Http, aws: AwsRoutes, log: Logger): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'string' }, (request, text, done) => {
    const body = String(text);
    if (body.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body));
    } catch (err) {
      deferredBodyErrors.set(request, new BrokerError('InvalidRequestException', `the request body is not valid JSON: ${(err as Error).message}`));
      done(null, undefined);
    }
  });
  // a route may still set its own limit
  scope.addHook('onRoute', (route) => {
    route.bodyLimit ??= aws.bodyLimit;
  });
  scope.addHook('onRequest', async (_request, reply) => {
    void reply.header('x-amzn-RequestId', randomUUID());
  });
  // Unsigned requests are refused before their body is read; signed ones were verified by the
  // root scope's preValidation hook, which runs before this scope's.
  scope.addHook('onRequest', async (request) => {
    if (!aws.auth.isSigned(signedParts(request))) throw new BrokerError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  });
  scope.addHook('preValidation', async (request) => {
    const bodyError = deferredBodyErrors.get(request);
    if (bodyError) throw bodyError;
  });
  scope.setErrorHandler((err, request, reply) => {
    const outcome = toErrorOutcome(err);
    if (outcome.status >= 500) log.error({ err: String(err), stack: (err as Error).stack, url: request.url }, 'request failed');
    const { status, headers, body } = awsErrorResponse(outcome);
    void reply.status(status).headers(headers).send(body);
  });
  for (const route of aws.routes) route(scope);
}

/** Every signed request is verified before validation and handlers, on any route: the AWS scope
 * additionally refuses unsigned ones. The body is hashed as it streams to the parser, so the hash
 * covers the exact bytes the client signed whatever the parser does with them. */
function verifySignedRequests(app: Http, auth: RequestAuth): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    if (!auth.isSigned(signedParts(request))) return payload;
    const hash = createHash('sha256');
    bodyHashes.set(request, hash);
    const tee = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    pipeline(payload, tee, () => {}); // an aborted upload errors `tee`, which the parser reports
    return tee;
  });
  app.addHook('preValidation', async (request) => {
    if (!auth.isSigned(signedParts(request))) return;
    const hash = bodyHashes.get(request);
    await auth.verify({
      ...signedParts(request),
      method: request.raw.method ?? request.method,
      // a request without a body never reaches the parser: nothing went through the hash
      bodySha256: hash ? hash.digest('hex') : EMPTY_SHA256,
    });
  });
}

/** The request target and headers exactly as they arrived (fastify may rewrite `request.url`). */
function signedParts(request: FastifyRequest): Pick<SignedRequest, 'url' | 'headers'> {
  return { url: request.raw.url ?? request.url, headers: request.raw.headers };
}
