// The AWS IoT certificate and thing-principal API (control plane, restJson1, as
// `@aws-sdk/client-iot` calls it; spec §3.5). Registered in the AWS scope of http/server.ts.
//   POST   /keys-and-certificate?setAsActive                 CreateKeysAndCertificate
//   GET/PUT/DELETE /certificates/{certificateId}             DescribeCertificate, UpdateCertificate (?newStatus), DeleteCertificate (?forceDelete)
//   GET    /certificates?pageSize&marker&isAscendingOrder    ListCertificates
//   POST   /cacertificate?setAsActive                        RegisterCACertificate {caCertificate, verificationCertificate?}
//   GET/PUT /cacertificate/{certificateId}                   DescribeCACertificate, UpdateCACertificate (?newStatus)
//   POST   /certificate/register?setAsActive                 RegisterCertificate {certificatePem, caCertificatePem?, status?}
//   POST   /certificate/register-no-ca                       RegisterCertificateWithoutCA {certificatePem, status?}
//   PUT/DELETE/GET /things/{thingName}/principals            AttachThingPrincipal, DetachThingPrincipal, ListThingPrincipals
//   GET    /principals/things?maxResults&nextToken           ListPrincipalThings
// The principal travels in the x-amzn-principal header.
import { BrokerError } from '../../errors.js';
import { jsonBody, queryBool, queryInt, queryString, type Query } from '../aws-params.js';
import type { CertificateService } from '../../identity/certificates.js';
import type { PolicyStore } from '../../identity/policies.js';
import type { Http } from '../server.js';

interface IdParams { certificateId: string }
interface ThingParams { thingName: string }
/** `policies` answers which policies a certificate has, for DeleteCertificate's conflict check and forceDelete. */
export function iotCertificateRoutes(certs: CertificateService, policies: Pick<PolicyStore, 'policiesOf' | 'detachPolicy'>) {
  return (app: Http) => {
    app.post<{ Querystring: Query }>('/keys-and-certificate', async (req) => certs.createKeysAndCertificate({ setAsActive: queryBool(req.query, 'setAsActive') === true }));
    app.get<{ Params: IdParams }>('/certificates/:certificateId', async (req) => certs.describeCertificate(req.params.certificateId));
    app.put<{ Params: IdParams; Querystring: Query }>('/certificates/:certificateId', async (req) => certs.updateCertificate(req.params.certificateId, queryString(req.query, 'newStatus')));
    app.delete<{ Params: IdParams; Querystring: Query }>('/certificates/:certificateId', async (req) => {
      const id = req.params.certificateId;
      const arn = certs.certificateArn(id);
      const attachedPolicies = [...policies.policiesOf(arn)];
      const result = certs.deleteCertificate(id, { attachedPolicies, forceDelete: queryBool(req.query, 'forceDelete') === true });
      // forceDelete: the policies no longer have this target
      for (const name of attachedPolicies) policies.detachPolicy(name, arn);
      return result;
    });
    app.get<{ Querystring: Query }>('/certificates', async (req) => {
      const q = req.query;
      const r: { pageSize?: number; marker?: string; ascendingOrder?: boolean } = {};
      const pageSize = queryInt(q, 'pageSize');
      const marker = queryString(q, 'marker');
      const ascending = queryBool(q, 'isAscendingOrder');
      if (pageSize !== undefined) r.pageSize = pageSize;
      if (marker !== undefined) r.marker = marker;
      if (ascending !== undefined) r.ascendingOrder = ascending;
      return certs.listCertificates(r);
    });

    app.post<{ Querystring: Query }>('/cacertificate', async (req) => {
      const b = jsonBody(req.body);
      return certs.registerCaCertificate({ caCertificate: b.caCertificate, verificationCertificate: b.verificationCertificate, setAsActive: queryBool(req.query, 'setAsActive') });
    });
    app.get<{ Params: IdParams }>('/cacertificate/:certificateId', async (req) => certs.describeCaCertificate(req.params.certificateId));
    app.put<{ Params: IdParams; Querystring: Query }>('/cacertificate/:certificateId', async (req) => certs.updateCaCertificate(req.params.certificateId, queryString(req.query, 'newStatus')));
    app.post<{ Querystring: Query }>('/certificate/register', async (req) => {
      const b = jsonBody(req.body);
      return certs.registerCertificate({ certificatePem: b.certificatePem, caCertificatePem: b.caCertificatePem, status: b.status, setAsActive: queryBool(req.query, 'setAsActive') });
    });
    app.post('/certificate/register-no-ca', async (req) => {
      const b = jsonBody(req.body);
      return certs.registerCertificateWithoutCa({ certificatePem: b.certificatePem, status: b.status });
    });

    app.put<{ Params: ThingParams }>('/things/:thingName/principals', async (req) => certs.attachThingPrincipal(req.params.thingName, principal(req.headers)));
    app.delete<{ Params: ThingParams }>('/things/:thingName/principals', async (req) => certs.detachThingPrincipal(req.params.thingName, principal(req.headers)));
    app.get<{ Params: ThingParams; Querystring: Query }>('/things/:thingName/principals', async (req) => certs.listThingPrincipals(req.params.thingName, paging(req.query)));
    app.get<{ Querystring: Query }>('/principals/things', async (req) => certs.listPrincipalThings(principal(req.headers), paging(req.query)));
  };
}

function principal(headers: Record<string, string | string[] | undefined>): string | undefined {
  const v = headers['x-amzn-principal'];
  return Array.isArray(v) ? v[0] : v;
}

function paging(q: Query): { maxResults?: number; nextToken?: string } {
  const out: { maxResults?: number; nextToken?: string } = {};
  const max = queryInt(q, 'maxResults');
  const token = queryString(q, 'nextToken');
  if (max !== undefined) out.maxResults = max;
  if (token !== undefined) out.nextToken = token;
  return out;
}
