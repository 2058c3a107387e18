// Operator sign-in (README "Operators and sign-in"; wire shapes in broker/contract.ts):
//   POST   /api/session {username, password} → SessionBody and the session cookie;
//          401 InvalidCredentials (the same answer for an unknown name and a wrong password);
//          429 TooManyRequestsException with Retry-After after 10 failures in 10 minutes from one address
//   GET    /api/session → SessionBody of the cookie's session, or 401 NotSignedIn
//   DELETE /api/session → 204, the session ended and the cookie cleared (also when signed out)
// These routes are open (the gate in ../server.ts lets them through without a session).
import { BrokerError } from '../../errors.js';
import type { ApiErrorBody, SessionBody } from '../../contract.js';
import type { OperatorStore } from '../../identity/operators.js';
import type { SessionStore } from '../../identity/sessions.js';
import type { FailureLimit } from '../../identity/failure-limit.js';
import { jsonBody, onlyMembers } from '../aws-params.js';
import { cameOverHttps, clearedSessionCookie, sessionCookie } from '../session-cookie.js';
import { clientAddress, noteActor, sessionOf, socketEncrypted, type Http } from '../server.js';

export interface SessionRouteDeps {
  operators: Pick<OperatorStore, 'verify'>;
  sessions: Pick<SessionStore, 'create' | 'signOut' | 'absoluteMs'>;
  limit: Pick<FailureLimit, 'admit'>;
}

export function sessionRoutes(deps: SessionRouteDeps) {
  const maxAgeSeconds = Math.floor(deps.sessions.absoluteMs / 1000);
  return (app: Http) => {
    app.post('/api/session', async (req, reply) => {
      const address = clientAddress(req);
      const fields = jsonBody(req.body);
      onlyMembers(fields, ['username', 'password'], 'POST /api/session');
      const { username, password } = fields as { username?: unknown; password?: unknown };
      if (typeof username !== 'string' || typeof password !== 'string') throw new BrokerError('InvalidRequestException', 'the body must be {"username": "...", "password": "..."}');
      // admitted attempts count until verified, so parallel guesses cannot outrun the limit
      const attempt = deps.limit.admit(address);
      if ('retryAfterSeconds' in attempt) {
        const retryAfter = attempt.retryAfterSeconds;
        const body: ApiErrorBody = { code: 'TooManyRequestsException', message: `too many failed sign-ins from ${address}; try again in ${retryAfter} s` };
        return reply.status(429).header('retry-after', String(retryAfter)).send(body);
      }
      let ok = false;
      try {
        ok = await deps.operators.verify(username, password);
      } finally {
        if (ok) attempt.succeeded();
        else attempt.failed();
      }
      if (!ok) throw new BrokerError('InvalidCredentials', 'wrong username or password');
      noteActor(req, { kind: 'operator', name: username });
      const { token, session } = deps.sessions.create(username);
      const secure = cameOverHttps(req.headers, socketEncrypted(req));
      const body: SessionBody = { username, expiresAt: session.expiresAt };
      return reply.header('set-cookie', sessionCookie(token, maxAgeSeconds, secure)).header('cache-control', 'no-store').send(body);
    });

    app.get('/api/session', async (req): Promise<SessionBody> => {
      const current = sessionOf(req);
      if (!current) throw new BrokerError('NotSignedIn', 'not signed in: POST /api/session with {"username", "password"}');
      return { username: current.session.username, expiresAt: current.session.expiresAt };
    });

    app.delete('/api/session', async (req, reply) => {
      const current = sessionOf(req);
      if (current) deps.sessions.signOut(current.token);
      return reply.status(204).header('set-cookie', clearedSessionCookie(cameOverHttps(req.headers, socketEncrypted(req)))).send();
    });
  };
}
