// Operator accounts (gated like every /api/ route: a signed-in operator or a SigV4 request):
//   GET    /api/operators                       → OperatorListBody
//   POST   /api/operators {username, password}  → 200 {username, createdAt}; 409 if it exists
//   DELETE /api/operators/{username}            → 204; its sessions end; 409 LastOperator for the only one
//   PUT    /api/operators/{username}/password {password} → 204; its sessions end (the caller's too
//          when it changes its own: it signs in again with the new password)
// Usernames are 1-64 letters, digits or _ . @ -; passwords 12-256 characters.
import type { OperatorListBody } from '../../contract.js';
import type { OperatorStore } from '../../identity/operators.js';
import { jsonBody, onlyMembers } from '../aws-params.js';
import type { Http } from '../server.js';

interface NameParams { username: string }

export function operatorRoutes(operators: OperatorStore) {
  return (app: Http) => {
    app.get('/api/operators', async (): Promise<OperatorListBody> => ({ operators: operators.list() }));
    app.post('/api/operators', async (req) => {
      const body = jsonBody(req.body) as { username?: unknown; password?: unknown };
      onlyMembers(body, ['username', 'password'], 'POST /api/operators');
      return operators.add(body.username, body.password);
    });
    app.delete<{ Params: NameParams }>('/api/operators/:username', async (req, reply) => {
      operators.remove(req.params.username);
      return reply.status(204).send();
    });
    app.put<{ Params: NameParams }>('/api/operators/:username/password', async (req, reply) => {
      const body = jsonBody(req.body) as { password?: unknown };
      onlyMembers(body, ['password'], 'PUT /api/operators/{username}/password');
      await operators.setPassword(req.params.username, body.password);
      return reply.status(204).send();
    });
  };
}
