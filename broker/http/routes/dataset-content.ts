// Dataset content downloads behind expiring URLs (the `dataURI` of GetDatasetContent; AWS hands
// out presigned S3 URLs valid for a few hours, spec §5.3). Not an AWS route and unauthenticated:
// the signature is the credential.
//   GET /api/dataset-content/{datasetName}/{versionId}.csv?expires=<epoch s>&signature=<hex>
//     → 200 text/csv | 403 DatasetContentUrlInvalid (expired, tampered) | 404 NotFound (version gone)
// signature = HMAC-SHA256(secret, "<datasetName>/<versionId>/<expires>"), the secret 32 random
// bytes in <dataDir>/dataset-url-secret (0600), made on first start, so URLs survive a restart.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatasetService } from '../../../analytics/index.js';
import { BrokerError } from '../../errors.js';
import type { Http } from '../server.js';

/** AWS's presigned URLs in the examples say X-Amz-Expires=7200. */
export const CONTENT_URL_TTL_MS = 2 * 3600 * 1000;
const SECRET_FILE = 'dataset-url-secret';

export interface ContentUrlSigner {
  /** an absolute URL valid for CONTENT_URL_TTL_MS; `requestHost` = the Host header of the asking request */
  url(datasetName: string, versionId: string, requestHost?: string): string;
  /** throws DatasetContentUrlInvalid unless the signature holds and has not expired */
  verify(datasetName: string, versionId: string, expires: unknown, signature: unknown): void;
}

export interface ContentUrlOptions {
  /** http://host:port of the running server; gets the asking request's Host header */
  baseUrl(requestHost?: string): string;
  now?: () => number;
  ttlMs?: number;
}

export function createContentUrlSigner(dataDir: string, options: ContentUrlOptions): ContentUrlSigner {
  const secret = loadOrCreateSecret(dataDir);
  const now = options.now ?? Date.now;
  const ttl = options.ttlMs ?? CONTENT_URL_TTL_MS;
  const sign = (name: string, versionId: string, expires: number) => createHmac('sha256', secret).update(`${name}/${versionId}/${expires}`).digest('hex');
  return {
    url(name, versionId, requestHost) {
      const expires = Math.floor((now() + ttl) / 1000);
      const path = `/api/dataset-content/${encodeURIComponent(name)}/${encodeURIComponent(versionId)}.csv`;
      return `${options.baseUrl(requestHost)}${path}?expires=${expires}&signature=${sign(name, versionId, expires)}`;
    },
    verify(name, versionId, expires, signature) {
      if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires) || typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) {
        throw new BrokerError('DatasetContentUrlInvalid', 'the URL needs the expires and signature parameters GetDatasetContent put in it');
      }
      const expected = Buffer.from(sign(name, versionId, Number(expires)), 'hex');
      if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
        throw new BrokerError('DatasetContentUrlInvalid', 'the URL signature does not match; use the dataURI exactly as GetDatasetContent returned it');
      }
      if (Number(expires) * 1000 <= now()) {
        throw new BrokerError('DatasetContentUrlInvalid', 'the URL has expired; call GetDatasetContent again for a fresh one');
      }
    },
  };
}

function loadOrCreateSecret(dataDir: string): Buffer {
  const file = join(dataDir, SECRET_FILE);
  if (existsSync(file)) {
    const hex = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(hex)) return Buffer.from(hex, 'hex');
  }
  const secret = randomBytes(32);
  writeFileSync(file, secret.toString('hex') + '\n', { mode: 0o600 });
  return secret;
}

interface Params { datasetName: string; file: string }

export function datasetContentRoutes(datasets: () => DatasetService, signer: ContentUrlSigner) {
  return (app: Http) => {
    app.get<{ Params: Params; Querystring: Record<string, unknown> }>('/api/dataset-content/:datasetName/:file', async (req, reply) => {
      const { datasetName, file } = req.params;
      const versionId = file.endsWith('.csv') ? file.slice(0, -4) : file;
      signer.verify(datasetName, versionId, req.query.expires, req.query.signature);
      const path = datasets().contentFile(datasetName, versionId);
      const size = path === undefined ? undefined : await stat(path).then((s) => s.size, () => undefined);
      if (path === undefined || size === undefined) throw new BrokerError('NotFound', `dataset ${datasetName} has no content version ${versionId} (deleted or pruned)`);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-length', size)
        .header('content-disposition', `attachment; filename="${datasetName}-${versionId}.csv"`)
        .send(createReadStream(path));
    });
  };
}

/** The base of content URLs: the address the server listens on; when that is a wildcard
 * (0.0.0.0, ::), the Host the client used to reach us. */
export function serverBaseUrl(host: string, port: number, requestHost?: string): string {
  const wildcard = host === '' || host === '0.0.0.0' || host === '::';
  if (wildcard && requestHost && /^[A-Za-z0-9.\-:[\]]+$/.test(requestHost)) return `http://${requestHost}`;
  const h = wildcard ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}
