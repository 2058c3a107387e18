// Verifies AWS Signature Version 4 (Authorization header form) on incoming requests. Rather than
// re-implementing the canonical request, the SDK's own signer computes the signature the client
// should have sent for this exact request (method, raw path, query, the headers it says it signed,
// the SHA-256 of the body bytes as received), and the two are compared in constant time.
// The only file that imports @smithy/signature-v4 and @smithy/hash-node.
import { timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import type { HttpRequest, QueryParameterBag } from '@smithy/types';
import { BrokerError } from '../errors.js';

/** Signing names accepted in the credential scope: the control plane signs `iot`, the data-plane
 * SDKs `iotdata` while the developer guide says `iotdevicegateway`, and IoT Analytics `iotanalytics`. */
export const SIGNING_SERVICES = ['iot', 'iotdata', 'iotdevicegateway', 'iotanalytics'] as const;
/** AWS refuses a request whose X-Amz-Date is more than 15 minutes from the server's clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** What the verifier needs of an HTTP request, exactly as it arrived. */
export interface SignedRequest {
  method: string;
  /** the request target as received: raw (still percent-encoded) path plus query */
  url: string;
  /** Node's header object (lower-case names) */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** hex SHA-256 of the body bytes as received (EMPTY_BODY_SHA256 without a body) */
  bodySha256: string;
}

/** Who signed a verified request. */
export interface Principal {
  accessKeyId: string;
  region: string;
  service: string;
}

export interface SigV4VerifierOptions {
  /** the secret of an access key id we issued, or undefined for an unknown one */
  secretFor(accessKeyId: string): string | undefined;
  services?: readonly string[];
  maxClockSkewMs?: number;
  /** the server's clock (tests move it) */
  now?: () => number;
}

export interface SigV4Verifier {
  /** resolves with the signer, or rejects with a coded error (403/400, AWS codes) */
  verify(request: SignedRequest): Promise<Principal>;
}

/** True when the request claims SigV4 credentials (an AWS4 Authorization header or a presigned
 * query). Other schemes (e.g. Basic from a reverse proxy in front of the dashboard) are not ours. */
export function carriesSigV4(request: Pick<SignedRequest, 'url' | 'headers'>): boolean {
  const auth = request.headers.authorization;
  return (typeof auth === 'string' && /^\s*AWS4-/i.test(auth)) || /[?&]X-Amz-Signature=/i.test(request.url);
}

const MISMATCH = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.';

export function createSigV4Verifier(options: SigV4VerifierOptions): SigV4Verifier {
  const services = new Set(options.services ?? SIGNING_SERVICES);
  const maxSkewMs = options.maxClockSkewMs ?? MAX_CLOCK_SKEW_MS;
  const now = options.now ?? Date.now;

  return {
    async verify(request) {
      const auth = parseAuthorization(request);
      const secret = options.secretFor(auth.accessKeyId);
      if (secret === undefined) throw new BrokerError('UnrecognizedClientException', 'The security token included in the request is invalid.');
      if (!services.has(auth.service)) {
        throw new BrokerError('InvalidSignatureException', `Credential should be scoped to correct service: one of ${[...services].map((s) => `'${s}'`).join(', ')}.`);
      }

      const amzDate = singleHeader(request, 'x-amz-date');
      const signingDate = amzDate === undefined ? undefined : parseAmzDate(amzDate);
      if (!signingDate) throw new BrokerError('IncompleteSignatureException', 'The request must carry an X-Amz-Date header in the form YYYYMMDDTHHMMSSZ.');
      if (amzDate!.slice(0, 8) !== auth.date) {
        throw new BrokerError('InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amzDate!.slice(0, 8)}'.`);
      }
      const skew = signingDate.getTime() - now();
      if (Math.abs(skew) > maxSkewMs) {
        const limit = new Date(now() + (skew < 0 ? -maxSkewMs : maxSkewMs));
        throw new BrokerError('InvalidSignatureException', `Signature expired: ${amzDate} is now ${skew < 0 ? 'earlier' : 'later'} than ${formatAmzDate(limit)} (${formatAmzDate(new Date(now()))} ${skew < 0 ? '-' : '+'} ${maxSkewMs / 60000} min.)`);
      }

      // The body hash the client committed to must be the body we received.
      const declaredHash = singleHeader(request, 'x-amz-content-sha256');
      if (declaredHash !== undefined && declaredHash !== request.bodySha256) {
        throw new BrokerError('InvalidSignatureException', 'The x-amz-content-sha256 header does not match the SHA-256 of the request body.');
      }

      const expected = await expectedSignature(request, auth, secret, signingDate);
      if (!constantTimeEqual(expected, auth.signature)) throw new BrokerError('InvalidSignatureException', MISMATCH);
      return { accessKeyId: auth.accessKeyId, region: auth.region, service: auth.service };
    },
  };
}

interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

function parseAuthorization(request: SignedRequest): ParsedAuthorization {
  const header = singleHeader(request, 'authorization');
  if (header === undefined) {
    if (carriesSigV4(request)) throw new BrokerError('IncompleteSignatureException', 'Presigned URLs (X-Amz-Signature in the query) are not supported; sign the request with an Authorization header.');
    throw new BrokerError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const match = /^AWS4-HMAC-SHA256\s+(.+)$/.exec(header.trim());
  if (!match) throw new BrokerError('IncompleteSignatureException', 'The Authorization header must use the AWS4-HMAC-SHA256 algorithm.');
  const params = new Map<string, string>();
  for (const part of match[1]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = params.get('Credential');
  const signedHeaders = params.get('SignedHeaders');
  const signature = params.get('Signature');
  const missing = [['Credential', credential], ['SignedHeaders', signedHeaders], ['Signature', signature]].filter(([, v]) => !v).map(([k]) => k);
  if (missing.length > 0) throw new BrokerError('IncompleteSignatureException', `Authorization header requires ${missing.map((m) => `'${m}'`).join(', ')} parameter(s).`);

  const scope = credential!.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request' || !/^\d{8}$/.test(scope[1]!) || scope.some((s) => s === '')) {
    throw new BrokerError('IncompleteSignatureException', "Credential must have the form '<accessKeyId>/<YYYYMMDD>/<region>/<service>/aws4_request'.");
  }
  const headers = signedHeaders!.split(';');
  if (!headers.includes('host') || !headers.includes('x-amz-date')) {
    throw new BrokerError('IncompleteSignatureException', "SignedHeaders must include 'host' and 'x-amz-date'.");
  }
  if (!/^[0-9a-f]{64}$/.test(signature!)) throw new BrokerError('InvalidSignatureException', MISMATCH);
  const [accessKeyId, date, region, service] = scope as [string, string, string, string, string];
  return { accessKeyId, date, region, service, signedHeaders: headers, signature: signature! };
}

/** The signature the SDK's signer produces for this request with the given secret. */
async function expectedSignature(request: SignedRequest, auth: ParsedAuthorization, secret: string, signingDate: Date): Promise<string> {
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) throw new BrokerError('InvalidSignatureException', `The signed header '${name}' is not in the request.`);
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  // The signer takes the payload hash from this header; when the client did not sign it, it is
  // marked unsignable so that it does not enter the canonical headers.
  headers['x-amz-content-sha256'] ??= request.bodySha256;
  const unsignableHeaders = new Set(auth.signedHeaders.includes('x-amz-content-sha256') ? [] : ['x-amz-content-sha256']);

  const queryStart = request.url.indexOf('?');
  const path = queryStart < 0 ? request.url : request.url.slice(0, queryStart);
  const toSign: HttpRequest = {
    method: request.method.toUpperCase(),
    protocol: 'http:',
    hostname: headers.host ?? '',
    // the raw path: the signer escapes it once more, as the SDK did when signing
    path,
    query: parseQuery(queryStart < 0 ? '' : request.url.slice(queryStart + 1)),
    headers,
  };
  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: secret },
    region: auth.region,
    service: auth.service,
    sha256: Hash.bind(null, 'sha256'),
    // never add headers of our own: only what the client signed may enter the canonical request
    applyChecksum: false,
  });
  const signed = await signer.sign(toSign, {
    signingDate,
    signingRegion: auth.region,
    signingService: auth.service,
    signableHeaders: new Set(auth.signedHeaders),
    unsignableHeaders,
  });
  const produced = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ''));
  if (!produced) throw new Error('the SigV4 signer produced no signature');
  return produced[1]!;
}

/** Query parameters decoded once (the signer encodes them again); '+' stays a plus, as SigV4's
 * canonical query treats it. Repeated names become lists. */
function parseQuery(query: string): QueryParameterBag {
  const out: Record<string, string | string[]> = {};
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decode(part.slice(eq + 1));
    const prior = out[key];
    out[key] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value];
  }
  return out;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new BrokerError('InvalidSignatureException', 'The query string is not valid percent-encoding.');
  }
}

function singleHeader(request: SignedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseAmzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const date = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
