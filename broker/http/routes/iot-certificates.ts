// The AWS IoT certificate and thing-principal API (control plane, restJson1, as
// `@aws-sdk/client-iot` calls it; spec §3.5). Registered in the AWS scope of http/server.ts.
//   POST   /keys-and-certificate?setAsActive                 CreateKeysAndCertificate
//   GET/PUT/DELETE /certificates/{certificateId}             DescribeCertificate, UpdateCertificate (?newStatus), DeleteCertificate
//   GET    /certificates?pageSize&marker&isAscendingOrder    ListCertificates
//   POST   /cacertificate?setAsActive                        RegisterCACertificate {caCertificate, verificationCertificate?}
//   GET/PUT /cacertificate/{certificateId}                   DescribeCACertificate, UpdateCACertificate (?newStatus)
//   POST   /certificate/register?setAsActive                 RegisterCertificate {certificatePem, caCertificatePem?, status?}
//   POST   /certificate/register-no-ca                       RegisterCertificateWithoutCA {certificatePem, status?}
//   PUT/DELETE/GET /things/{thingName}/principals            AttachThingPrincipal, DetachThingPrincipal, ListThingPrincipals
//   GET    /principals/things?maxResults&nextToken           ListPrincipalThings
// The principal travels in the x-amzn-principal header.
import { BrokerError } from '../../errors.js';
import type { CertificateService } from '../../identity/certificates.js';
import type { Http } from '../server.js';

interface IdParams { certificateId: string }
interface ThingParams { thingName: string }
type Query = Record<string, unknown>;

export function iotCertificateRoutes(certs: CertificateService) {
  return (app: Http) => {
    app.post<{ Querystring: Query }>('/keys-and-certificate', async (req) => certs.createKeysAndCertificate({ setAsActive: bool(req.query, 'setAsActive') === true }));
    app.get<{ Params: IdParams }>('/certificates/:certificateId', async (req) => certs.describeCertificate(req.params.certificateId));
    app.put<{ Params: IdParams; Querystring: Query }>('/certificates/:certificateId', async (req) => certs.updateCertificate(req.params.certificateId, str(req.query, 'newStatus')));
    app.delete<{ Params: IdParams; Querystring: Query }>('/certificates/:certificateId', async (req) => {
      if (bool(req.query, 'forceDelete') === true) throw new BrokerError('InvalidRequestException', 'forceDelete is not supported: policies are not attached to certificates on this server');
      return certs.deleteCertificate(req.params.certificateId);
    });
    app.get<{ Querystring: Query }>('/certificates', async (req) => {
      const q = req.query;
      const r: { pageSize?: number; marker?: string; ascendingOrder?: boolean } = {};
      const pageSize = int(q, 'pageSize');
      const marker = str(q, 'marker');
      const ascending = bool(q, 'isAscendingOrder');
      if (pageSize !== undefined) r.pageSize = pageSize;
      if (marker !== undefined) r.marker = marker;
      if (ascending !== undefined) r.ascendingOrder = ascending;
      return certs.listCertificates(r);
    });

    app.post<{ Querystring: Query }>('/cacertificate', async (req) => {
      const b = body(req.body);
      return certs.registerCaCertificate({ caCertificate: b.caCertificate, verificationCertificate: b.verificationCertificate, setAsActive: bool(req.query, 'setAsActive') });
    });
    app.get<{ Params: IdParams }>('/cacertificate/:certificateId', async (req) => certs.describeCaCertificate(req.params.certificateId));
    app.put<{ Params: IdParams; Querystring: Query }>('/cacertificate/:certificateId', async (req) => certs.updateCaCertificate(req.params.certificateId, str(req.query, 'newStatus')));
    app.post<{ Querystring: Query }>('/certificate/register', async (req) => {
      const b = body(req.body);
      return certs.registerCertificate({ certificatePem: b.certificatePem, caCertificatePem: b.caCertificatePem, status: b.status, setAsActive: bool(req.query, 'setAsActive') });
    });
    app.post('/certificate/register-no-ca', async (req) => {
      const b = body(req.body);
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

function body(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BrokerError('InvalidRequestException', 'the request body must be a JSON object');
  return raw as Record<string, unknown>;
}

function str(q: Query, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BrokerError('InvalidRequestException', `${name} must be given once`);
  return v;
}

function int(q: Query, name: string): number | undefined {
  const s = str(q, name);
  if (s === undefined) return undefined;
  if (!/^\d{1,15}$/.test(s)) throw new BrokerError('InvalidRequestException', `${name} must be a whole number, got '${s}'`);
  return Number(s);
}

function bool(q: Query, name: string): boolean | undefined {
  const s = str(q, name);
  if (s === undefined) return undefined;
  if (s !== 'true' && s !== 'false') throw new BrokerError('InvalidRequestException', `${name} must be true or false, got '${s}'`);
  return s === 'true';
}

function paging(q: Query): { maxResults?: number; nextToken?: string } {
  const out: { maxResults?: number; nextToken?: string } = {};
  const max = int(q, 'maxResults');
  const token = str(q, 'nextToken');
  if (max !== undefined) out.maxResults = max;
  if (token !== undefined) out.nextToken = token;
  return out;
}
