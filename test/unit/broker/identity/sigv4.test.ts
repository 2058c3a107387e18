// The verifier against requests signed by the AWS SDK's own signer: what the client signed must
// be exactly what arrived, with the secret we issued, within 15 minutes of our clock.
import { createHash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { createSigV4Verifier, SIGNING_SERVICES, type SignedRequest } from '../../../../broker/identity/sigv4.js';

const KEY = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const MINUTE = 60_000;

interface SignInput {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  service?: string;
  credentials?: typeof KEY;
  signingDate?: Date;
  /** false: the client does not send x-amz-content-sha256 (non-SDK clients) */
  applyChecksum?: boolean;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
// the SDK's path-label and query encoding: encodeURIComponent plus !'()*
const escape = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Signs with the SDK's signer and returns the request as our HTTP server would see it. */
async function signed(input: SignInput = {}): Promise<SignedRequest> {
  const path = input.path ?? '/rules/myRule';
  const query = input.query ?? {};
  const signer = new SignatureV4({
    credentials: input.credentials ?? KEY,
    region: 'us-east-1',
    service: input.service ?? 'iot',
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: input.applyChecksum ?? true,
  });
  const request = await signer.sign(
    {
      method: input.method ?? 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 8080,
      path,
      query,
      headers: { host: '127.0.0.1:8080', 'content-type': 'application/json', ...input.headers },
      body: input.body,
    },
    { signingDate: input.signingDate ?? new Date(NOW) },
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  const search = Object.entries(query).map(([k, v]) => `${escape(k)}=${escape(v)}`).join('&');
  return {
    method: request.method,
    url: search ? `${path}?${search}` : path,
    headers,
    bodySha256: sha256(input.body ?? ''),
  };
}

const verifier = (now = NOW) => createSigV4Verifier({
  secretFor: (id) => (id === KEY.accessKeyId ? KEY.secretAccessKey : undefined),
  now: () => now,
});

async function rejection(request: SignedRequest, now = NOW): Promise<{ code: string; statusCode: number; message: string }> {
  try {
    await verifier(now).verify(request);
  } catch (err) {
    return err as { code: string; statusCode: number; message: string };
  }
  throw new Error('the request was accepted');
}

describe('SigV4 verification', () => {
  it('accepts a request signed by the SDK signer and names the signer', async () => {
    const request = await signed({ body: '{"sql":"SELECT * FROM \'a\'","actions":[]}', query: { maxResults: '5', topic: 'a/b c' } });
    await expect(verifier().verify(request)).resolves.toEqual({ accessKeyId: KEY.accessKeyId, region: 'us-east-1', service: 'iot' });
  });

  it('accepts each of the signing names iot, iotdata, iotdevicegateway and iotanalytics', async () => {
    for (const service of SIGNING_SERVICES) {
      await expect(verifier().verify(await signed({ service }))).resolves.toMatchObject({ service });
    }
  });

  it('accepts a path whose labels the SDK percent-encoded (signed double-encoded)', async () => {
    const request = await signed({ path: `/topics/${escape('$aws/things/t1/shadow/update')}`, service: 'iotdata' });
    expect(request.url).toContain('%24aws%2Fthings');
    await expect(verifier().verify(request)).resolves.toMatchObject({ service: 'iotdata' });
  });

  it('ignores headers the client added without signing them', async () => {
    const request = await signed();
    await expect(verifier().verify({ ...request, headers: { ...request.headers, 'user-agent': 'curl/8', 'x-extra': '1' } })).resolves.toBeDefined();
  });

  it('refuses a changed body whose declared x-amz-content-sha256 no longer matches', async () => {
    const request = await signed({ body: '{"a":1}' });
    const err = await rejection({ ...request, bodySha256: sha256('{"a":2}') });
    expect(err).toMatchObject({ code: 'InvalidSignatureException', statusCode: 403 });
  });

  it('refuses a changed body when the client did not send x-amz-content-sha256', async () => {
    const request = await signed({ body: '{"a":1}', applyChecksum: false });
    expect(request.headers['x-amz-content-sha256']).toBeUndefined();
    await expect(verifier().verify(request)).resolves.toBeDefined();
    expect(await rejection({ ...request, bodySha256: sha256('{"a":2}') })).toMatchObject({ code: 'InvalidSignatureException', statusCode: 403 });
  });

  it('refuses a changed path, query, method or signed header', async () => {
    const request = await signed({ query: { maxResults: '5' }, headers: { 'x-amz-tagging': 'k=v' } });
    const changes: SignedRequest[] = [
      { ...request, url: request.url.replace('/rules/myRule', '/rules/otherRule') },
      { ...request, url: request.url.replace('maxResults=5', 'maxResults=6') },
      { ...request, url: `${request.url}&extra=1` },
      { ...request, method: 'DELETE' },
      { ...request, headers: { ...request.headers, 'x-amz-tagging': 'k=w' } },
      { ...request, headers: { ...request.headers, host: 'evil.example:8080' } },
    ];
    for (const changed of changes) {
      expect(await rejection(changed)).toMatchObject({ code: 'InvalidSignatureException', statusCode: 403 });
    }
  });

  it('refuses a request signed with another secret for our key id', async () => {
    const request = await signed({ credentials: { ...KEY, secretAccessKey: 'not-the-secret-we-issued-at-all' } });
    expect(await rejection(request)).toMatchObject({ code: 'InvalidSignatureException', statusCode: 403, message: expect.stringContaining('does not match') });
  });

  it('refuses a key id we did not issue with UnrecognizedClientException', async () => {
    const request = await signed({ credentials: { ...KEY, accessKeyId: 'AKIAUNKNOWNKEY000000' } });
    expect(await rejection(request)).toMatchObject({ code: 'UnrecognizedClientException', statusCode: 403 });
  });

  it('refuses a credential scope naming another service', async () => {
    expect(await rejection(await signed({ service: 's3' }))).toMatchObject({ code: 'InvalidSignatureException', statusCode: 403, message: expect.stringContaining('service') });
  });

  it('refuses a signature more than 15 minutes from the server clock and accepts one within', async () => {
    for (const offset of [-16 * MINUTE, 16 * MINUTE]) {
      const err = await rejection(await signed({ signingDate: new Date(NOW + offset) }));
      expect(err).toMatchObject({ code: 'InvalidSignatureException', statusCode: 403, message: expect.stringMatching(/^Signature expired/) });
    }
    for (const offset of [-14 * MINUTE, 14 * MINUTE]) {
      await expect(verifier().verify(await signed({ signingDate: new Date(NOW + offset) }))).resolves.toBeDefined();
    }
  });

  it('answers MissingAuthenticationTokenException without an Authorization header', async () => {
    const request = await signed();
    const { authorization: _dropped, ...headers } = request.headers;
    expect(await rejection({ ...request, headers })).toMatchObject({ code: 'MissingAuthenticationTokenException', statusCode: 403 });
  });

  it('refuses presigned query authentication and malformed Authorization headers as incomplete', async () => {
    const request = await signed();
    const { authorization, ...unsigned } = request.headers;
    const presigned = { ...request, url: `${request.url}?X-Amz-Signature=${'0'.repeat(64)}`, headers: unsigned };
    expect(await rejection(presigned)).toMatchObject({ code: 'IncompleteSignatureException', statusCode: 400 });
    const malformed = [
      'Basic dXNlcjpwYXNz',
      String(authorization).replace(/SignedHeaders=[^,]+,/, ''),
      String(authorization).replace(/Credential=[^,]+/, 'Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1'),
      String(authorization).replace(/SignedHeaders=[^,]+/, 'SignedHeaders=content-type;x-amz-date'),
    ];
    for (const value of malformed) {
      expect(await rejection({ ...request, headers: { ...request.headers, authorization: value } })).toMatchObject({ code: 'IncompleteSignatureException', statusCode: 400 });
    }
  });

  it('refuses a credential scope date that differs from X-Amz-Date', async () => {
    const request = await signed();
    const authorization = String(request.headers.authorization).replace('/20261122/', '/20261121/');
    expect(await rejection({ ...request, headers: { ...request.headers, authorization } })).toMatchObject({ code: 'InvalidSignatureException' });
  });
});
