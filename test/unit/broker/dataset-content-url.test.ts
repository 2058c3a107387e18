import { createContentUrlSigner, serverBaseUrl } from '../../../broker/http/routes/dataset-content.js';
import { tempDataDir } from '../../helpers/server.js';
import { statSync } from 'node:fs';
import { join } from 'node:path';

describe('dataset content URLs', () => {
  let tmp: ReturnType<typeof tempDataDir>;
  beforeEach(() => (tmp = tempDataDir()));
  afterEach(() => tmp.remove());

  const parts = (url: string) => {
    const u = new URL(url);
    return [u.searchParams.get('expires') ?? undefined, u.searchParams.get('signature') ?? undefined] as const;
  };

  test('a URL is valid for two hours, then refused as expired', () => {
    let now = 1_700_000_000_000;
    const signer = createContentUrlSigner(tmp.dir, { baseUrl: () => 'http://127.0.0.1:8080', now: () => now });
    const url = signer.url('ds', 'v1');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:8080\/api\/dataset-content\/ds\/v1\.csv\?expires=1700007200&signature=[0-9a-f]{64}$/);
    const [expires, signature] = parts(url);
    expect(() => signer.verify('ds', 'v1', expires, signature)).not.toThrow();
    expect(() => signer.verify('ds', 'v2', expires, signature)).toThrow(expect.objectContaining({ code: 'DatasetContentUrlInvalid', statusCode: 403 }));
    now += 2 * 3600 * 1000;
    expect(() => signer.verify('ds', 'v1', expires, signature)).toThrow(/expired/);
  });

  test('the secret is kept in the data directory with mode 0600, so URLs survive a restart', () => {
    const a = createContentUrlSigner(tmp.dir, { baseUrl: () => 'http://h:1', now: () => 0 });
    const [expires, signature] = parts(a.url('ds', 'v'));
    const b = createContentUrlSigner(tmp.dir, { baseUrl: () => 'http://h:1', now: () => 0 });
    expect(() => b.verify('ds', 'v', expires, signature)).not.toThrow();
    expect(statSync(join(tmp.dir, 'dataset-url-secret')).mode & 0o777).toBe(0o600);
  });

  test('the base URL is the listening address, or the client Host when listening on a wildcard', () => {
    expect(serverBaseUrl('127.0.0.1', 8080, 'evil:1')).toBe('http://127.0.0.1:8080');
    expect(serverBaseUrl('0.0.0.0', 8080, 'iot.example:8080')).toBe('http://iot.example:8080');
    expect(serverBaseUrl('0.0.0.0', 8080)).toBe('http://127.0.0.1:8080');
    expect(serverBaseUrl('::1', 8080)).toBe('http://[::1]:8080');
  });
});
