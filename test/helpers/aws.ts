// Configuration for the real AWS SDK clients against a test server: only the endpoint and the
// credentials differ from talking to AWS. `signedFetch` is for requests the SDK cannot make
// (odd content types, oversized or malformed bodies): it signs them the way the SDK does.
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { RunningServer } from '../../broker/index.js';

export function awsClientConfig(server: RunningServer) {
  return {
    endpoint: `http://127.0.0.1:${server.httpPort}`,
    region: 'us-east-1',
    credentials: server.adminCredentials,
  };
}

export interface SignOptions {
  headers?: Record<string, string>;
  /** signing name in the credential scope (default 'iot') */
  service?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  signingDate?: Date;
  /** send this body instead of the signed one (tests of tampering) */
  sendBody?: string;
}

/** fetch() with a SigV4 Authorization header made by the SDK's signer. `path` may carry a query. */
export async function signedFetch(server: RunningServer, method: string, path: string, body?: string, options: SignOptions = {}): Promise<Response> {
  const url = new URL(path, `http://127.0.0.1:${server.httpPort}`);
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const signer = new SignatureV4({
    credentials: options.credentials ?? server.adminCredentials,
    region: 'us-east-1',
    service: options.service ?? 'iot',
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign(
    { method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers: { host: url.host, ...options.headers }, body },
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  const headers = { ...signed.headers };
  delete headers.host; // fetch sets it (the same value)
  const sent = options.sendBody ?? body;
  return fetch(url, { method, headers, ...(sent !== undefined ? { body: sent } : {}) });
}

/** The error an SDK call fails with (its name is the AWS exception, `$metadata` has the status). */
export async function caught(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number; attempts?: number } }> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}
