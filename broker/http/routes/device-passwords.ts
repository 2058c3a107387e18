// Device passwords (our extension, in the AWS scope: SigV4 and the AWS error shape), for devices
// that connect with username = thing name and a password instead of a client certificate.
//   PUT    /api/things/{thingName}/password   {} → a generated password, returned once;
//                                             {"password": "..."} (16–256 characters) → sets it
//   GET    /api/things/{thingName}/password   the credential's metadata, never the secret
//   DELETE /api/things/{thingName}/password   {} (live connections using it are closed)
// Answers {thingName, username, password?, principalArn, creationDate (epoch seconds)}.
import { jsonBody } from '../aws-params.js';
import type { PasswordStore } from '../../identity/passwords.js';
import type { Http } from '../server.js';

interface ThingParams { thingName: string }

export function devicePasswordRoutes(passwords: PasswordStore) {
  return (app: Http) => {
    app.put<{ Params: ThingParams }>('/api/things/:thingName/password', async (req) => passwords.set(req.params.thingName, jsonBody(req.body).password));
    app.get<{ Params: ThingParams }>('/api/things/:thingName/password', async (req) => passwords.get(req.params.thingName));
    app.delete<{ Params: ThingParams }>('/api/things/:thingName/password', async (req) => passwords.delete(req.params.thingName));
  };
}
