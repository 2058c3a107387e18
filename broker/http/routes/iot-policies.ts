// The AWS IoT policy API (control plane, restJson1, as `@aws-sdk/client-iot` calls it; spec §3.5).
// Registered in the AWS scope of http/server.ts. Paths, methods and query names are those of the
// SDK's operation schemas:
//   POST/GET/DELETE /policies/{policyName}                    CreatePolicy {policyDocument, tags?}, GetPolicy, DeletePolicy
//   GET    /policies?marker&pageSize&isAscendingOrder          ListPolicies
//   POST/GET /policies/{policyName}/version (?setAsDefault)    CreatePolicyVersion {policyDocument}, ListPolicyVersions
//   GET/PATCH/DELETE /policies/{policyName}/version/{id}       GetPolicyVersion, SetDefaultPolicyVersion, DeletePolicyVersion
//   PUT/POST /target-policies/{policyName} {target}            AttachPolicy, DetachPolicy
//   POST   /attached-policies/{target}?recursive&marker&pageSize  ListAttachedPolicies (the target ARN, URL-encoded)
//   POST   /policy-targets/{policyName}?marker&pageSize        ListTargetsForPolicy
import { jsonBody, queryBool, queryInt, queryString, type Query } from '../aws-params.js';
import type { PolicyStore } from '../../identity/policies.js';
import type { Http } from '../server.js';

interface NameParams { policyName: string }
interface VersionParams { policyName: string; policyVersionId: string }
interface TargetParams { '*': string }
export function iotPolicyRoutes(policies: PolicyStore) {
  return (app: Http) => {
    app.post<{ Params: NameParams }>('/policies/:policyName', async (req) => {
      const b = jsonBody(req.body);
      return policies.createPolicy(req.params.policyName, { policyDocument: b.policyDocument, tags: b.tags });
    });
    app.get<{ Params: NameParams }>('/policies/:policyName', async (req) => policies.getPolicy(req.params.policyName));
    app.delete<{ Params: NameParams }>('/policies/:policyName', async (req) => policies.deletePolicy(req.params.policyName));
    app.get<{ Querystring: Query }>('/policies', async (req) => policies.listPolicies(defined({
      ...paging(req.query), ascendingOrder: queryBool(req.query, 'isAscendingOrder'),
    })));

    app.post<{ Params: NameParams; Querystring: Query }>('/policies/:policyName/version', async (req) =>
      policies.createPolicyVersion(req.params.policyName, { policyDocument: jsonBody(req.body).policyDocument, setAsDefault: queryBool(req.query, 'setAsDefault') === true }));
    app.get<{ Params: NameParams }>('/policies/:policyName/version', async (req) => policies.listPolicyVersions(req.params.policyName));
    app.get<{ Params: VersionParams }>('/policies/:policyName/version/:policyVersionId', async (req) => policies.getPolicyVersion(req.params.policyName, req.params.policyVersionId));
    app.patch<{ Params: VersionParams }>('/policies/:policyName/version/:policyVersionId', async (req) => policies.setDefaultPolicyVersion(req.params.policyName, req.params.policyVersionId));
    app.delete<{ Params: VersionParams }>('/policies/:policyName/version/:policyVersionId', async (req) => policies.deletePolicyVersion(req.params.policyName, req.params.policyVersionId));

    app.put<{ Params: NameParams }>('/target-policies/:policyName', async (req) => policies.attachPolicy(req.params.policyName, jsonBody(req.body).target));
    app.post<{ Params: NameParams }>('/target-policies/:policyName', async (req) => policies.detachPolicy(req.params.policyName, jsonBody(req.body).target));
    // a wildcard, not a :target parameter: a certificate ARN is longer than fastify's 100-character
    // parameter limit once URL-encoded (the wildcard is decoded the same way and has no limit)
    app.post<{ Params: TargetParams; Querystring: Query }>('/attached-policies/*', async (req) =>
      policies.listAttachedPolicies(req.params['*'], defined({ ...paging(req.query), recursive: queryBool(req.query, 'recursive') })));
    app.post<{ Params: NameParams; Querystring: Query }>('/policy-targets/:policyName', async (req) => policies.listTargetsForPolicy(req.params.policyName, defined(paging(req.query))));
  };
}

function paging(q: Query) {
  return { marker: queryString(q, 'marker'), pageSize: queryInt(q, 'pageSize') };
}

/** Drops undefined members, so the store sees only what the request sent. */
function defined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}
