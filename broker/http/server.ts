// The HTTP port: health, metrics, our own /api/ routes and the dashboard, the AWS-compatible
// routes (in their own fastify scope: AWS error shape, lenient bodies, their own body limit),
// plus the WebSocket upgrades (see websocket.ts). The only file that imports fastify.
//
// The gate: a request is authenticated by an operator's session cookie or by a SigV4 signature
// (verified before validation, below). Only the routes in OPEN_ROUTES answer without either;
// every other route in the root scope answers 401 NotSignedIn, and the AWS scope keeps AWS's
// MissingAuthenticationTokenException, both before the body is read. A cookie-authenticated
// request that changes state must not come from another site's page (same-origin.ts).
import { createHash, randomUUID } from 'node:crypto';
import { pipeline, Transform } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { ApiErrorBody, AuditEntry } from '../contract.js';
import { BrokerError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SignedRequest } from '../identity/sigv4.js';
import { awsErrorResponse, toErrorOutcome } from './aws-errors.js';
import { sessionTokenOf } from './session-cookie.js';
import { originMatchesHost, UNSAFE_METHODS } from './same-origin.js';

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

/** Where the audit hook sends its entries (broker/audit-log.ts). */
export interface AuditSink {
  record(entry: Omit<AuditEntry, 'at'>): void;
}

/** Who a session cookie names (identity/sessions.ts). */
export interface OperatorSession {
  /** the token's hash: names the session, is no credential */
  id: string;
  username: string;
  /** epoch ms */
  expiresAt: number;
}

export interface OperatorGate {
  /** the live session a cookie's token names (its idle timer restarted), or undefined */
  authenticate(token: string): OperatorSession | undefined;
}

/**
 * What answers without a session or a signature, by method and route pattern (HEAD goes with
 * GET): nothing here shows or changes data. The dashboard's files are the app shell (its data
 * comes from gated routes), /api/ca-certificate.pem is public by nature, dataset content URLs
 * carry their own signature, and the session routes are how one signs in (GET answers 401 when
 * signed out). A route missing from this list is gated: the list fails closed.
 */
const OPEN_ROUTES: ReadonlySet<string> = new Set([
  'GET /health',
  'GET /metrics',
  'GET /',
  'GET /:file',
  'GET /api/ca-certificate.pem',
  'GET /api/dataset-content/:datasetName/:file',
  'POST /api/session',
  'GET /api/session',
  'DELETE /api/session',
]);

const EMPTY_SHA256 = createHash('sha256').digest('hex');
/** SHA-256 of each signed request's body bytes exactly as received (before any parser). */
const bodyHashes = new WeakMap<FastifyRequest, ReturnType<typeof createHash>>();
/** JSON errors of AWS bodies, reported only after the signature is checked. */
const deferredBodyErrors = new WeakMap<FastifyRequest, Error>();
/** The access key id a request's verified SigV4 signature was made with. */
const verifiedKeys = new WeakMap<FastifyRequest, string>();
/** Who a route found the caller to be when neither a cookie nor a signature says (sign-in). */
const actors = new WeakMap<FastifyRequest, AuditEntry['who']>();
/** The session (and its token) a request's cookie authenticated. */
const requestSessions = new WeakMap<FastifyRequest, { token: string; session: OperatorSession }>();

/** The operator session that authenticated this request, if a session cookie did. */
export function sessionOf(request: FastifyRequest): { token: string; session: OperatorSession } | undefined {
  return requestSessions.get(request);
}

/** Tells the audit log who acted, when the route authenticated the caller itself (sign-in). */
export function noteActor(request: FastifyRequest, who: AuditEntry['who']): void {
  actors.set(request, who);
}

/** The address the request came from (the socket's: X-Forwarded-For is not trusted). */
export function clientAddress(request: FastifyRequest): string {
  return request.ip;
}

/** Whether the request reached us over a TLS socket (a proxy's X-Forwarded-Proto is the caller's to read). */
export function socketEncrypted(request: FastifyRequest): boolean {
  return (request.raw.socket as { encrypted?: boolean }).encrypted === true;
}

export function createHttp(routes: RouteModule[], log: Logger, bodyLimit: number, aws: AwsRoutes | undefined, gate: OperatorGate, audit?: AuditSink): Http {
  const app = Fastify({ logger: false, bodyLimit });

  app.setErrorHandler((err, request, reply) => {
    const { status, code, message } = toErrorOutcome(err);
    if (status >= 500) log.error({ err: String(err), stack: (err as Error).stack, url: request.url }, 'request failed');
    void reply.status(status).send({ code, message } satisfies ApiErrorBody);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ code: 'NotFound', message: `no route for ${request.method} ${request.url}` } satisfies ApiErrorBody);
  });
  guard(app, gate, aws?.auth);
  if (aws) verifySignedRequests(app, aws.auth);
  if (audit) recordChanges(app, audit); // before the AWS scope is registered, so it inherits the hook
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
  // a route may still set its own limit; the mark tells the root scope's gate to leave the route to this scope
  scope.addHook('onRoute', (route) => {
    route.bodyLimit ??= aws.bodyLimit;
    route.config = { ...route.config, [AWS_SCOPE]: true };
  });
  scope.addHook('onRequest', async (_request, reply) => {
    void reply.header('x-amzn-RequestId', randomUUID());
  });
  // Requests neither signed nor from a signed-in operator are refused before their body is read;
  // signed ones were verified by the root scope's preValidation hook, which runs before this scope's.
  scope.addHook('onRequest', async (request) => {
    if (!aws.auth.isSigned(signedParts(request)) && !requestSessions.has(request)) throw new BrokerError('MissingAuthenticationTokenException', 'Missing Authentication Token');
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

const AWS_SCOPE = 'iotcoreAwsScope';

/** The gate (see the file's opening comment), run first on every request of both scopes. A
 * signed request is left to the signature check; a cookie is looked at only on unsigned ones. */
function guard(app: Http, gate: OperatorGate, signatures: RequestAuth | undefined): void {
  app.addHook('onRequest', async (request) => {
    const signed = signatures?.isSigned(signedParts(request)) === true;
    if (!signed) {
      const token = sessionTokenOf(request.headers);
      const session = token === undefined ? undefined : gate.authenticate(token);
      if (token !== undefined && session) requestSessions.set(request, { token, session });
      // sign-in included: a cross-site page must not sign a browser in to an account of its choosing either
      if (UNSAFE_METHODS.has(request.method) && !originMatchesHost(request.headers)) {
        throw new BrokerError('CrossOriginRequestRefused', `Origin ${String(request.headers.origin)} is not this server (${String(request.headers.host)}); state-changing requests must come from the dashboard's own pages`);
      }
    }
    if (signed || requestSessions.has(request)) return;
    const config = request.routeOptions.config as unknown as Record<string, unknown> | undefined;
    if (config?.[AWS_SCOPE] === true) return; // that scope answers in AWS's terms
    if (isOpen(request)) return;
    throw new BrokerError('NotSignedIn', 'sign in (POST /api/session) or sign the request with SigV4');
  });
}

function isOpen(request: FastifyRequest): boolean {
  const pattern = request.routeOptions.url;
  // no such route: a 404 tells nothing outside /api/; under /api/ it would list our routes
  if (pattern === undefined) return !request.url.startsWith('/api/') && request.url !== '/api';
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  return OPEN_ROUTES.has(`${method} ${pattern}`);
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
    const principal = await auth.verify({
      ...signedParts(request),
      method: request.raw.method ?? request.method,
      // a request without a body never reaches the parser: nothing went through the hash
      bodySha256: hash ? hash.digest('hex') : EMPTY_SHA256,
    });
    const accessKeyId = (principal as { accessKeyId?: unknown } | undefined)?.accessKeyId;
    if (typeof accessKeyId === 'string') verifiedKeys.set(request, accessKeyId);
  });
}

/** Longest path parameter value the audit log keeps (a name longer than any resource allows is a probe). */
const MAX_TARGET_CHARS = 256;

/**
 * The audit log's entry for each state-changing request (POST, PUT, PATCH, DELETE) on a route that
 * exists, once it is answered: who (the session's operator, the verified access key, the operator a
 * sign-in named), the route pattern and its path parameters, the status. Never a body, a query or a
 * header. Requests refused before anyone was authenticated are left out (counted elsewhere), so an
 * unauthenticated flood cannot rotate the log's real entries away; sign-ins are recorded when they
 * succeed or fail on the password, not when refused earlier (rate limit, bad body, other origin).
 */
function recordChanges(app: Http, audit: AuditSink): void {
  app.addHook('onResponse', async (request, reply) => {
    if (!UNSAFE_METHODS.has(request.method)) return;
    const route = request.routeOptions.url;
    if (route === undefined) return;
    const status = reply.statusCode;
    const base = { sourceIp: clientAddress(request), method: request.method, route };
    if (request.method === 'POST' && route === '/api/session') {
      const outcome = status === 200 ? 'succeeded' : status === 401 ? 'failed' : undefined;
      if (outcome === undefined) return;
      audit.record({ who: actors.get(request) ?? { kind: 'anonymous' }, action: 'signIn', outcome, ...base, status });
      return;
    }
    const session = requestSessions.get(request)?.session;
    const accessKeyId = verifiedKeys.get(request);
    const who: AuditEntry['who'] | undefined = session ? { kind: 'operator', name: session.username } : accessKeyId !== undefined ? { kind: 'accessKey', name: accessKeyId } : actors.get(request);
    if (!who) return;
    const target = targetOf(request.params);
    audit.record({ who, ...base, ...(target ? { target } : {}), status });
  });
}

function targetOf(params: unknown): Record<string, string> | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const entries = Object.entries(params as Record<string, unknown>).map(([k, v]) => [k, String(v).slice(0, MAX_TARGET_CHARS)] as const);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/** The request target and headers exactly as they arrived (fastify may rewrite `request.url`). */
function signedParts(request: FastifyRequest): Pick<SignedRequest, 'url' | 'headers'> {
  return { url: request.raw.url ?? request.url, headers: request.raw.headers };
}
