// Operator sign-in through a real server: nothing but the open routes answers without a session
// cookie or a SigV4 signature; the cookie works on our routes, the AWS-compatible routes and the
// live WebSocket; another site's page cannot use it; failed sign-ins are limited per address;
// sessions survive a restart and end with sign-out or their operator.
import { WebSocket } from 'ws';
import type { RunningServer } from '../../broker/index.js';
import type { ApiErrorBody, LiveServerFrame, OperatorListBody, SessionBody } from '../../broker/contract.js';
import { signedFetch } from '../helpers/aws.js';
import { signIn, TEST_OPERATOR } from '../helpers/operator.js';
import { startTestServer, tempDataDir } from '../helpers/server.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
/** a state-changing request of our own: POST /api/rules/test runs a statement on one message */
const RULE_TEST = JSON.stringify({ sql: "SELECT t FROM 'a/b'", topic: 'a/b', payload: { t: 1 } });

interface LiveResult { status: number; frames: LiveServerFrame[]; closed: Promise<{ code: number; reason: string }>; ws: WebSocket }

/** Opens /api/live; answers the HTTP status the upgrade got (101 once the hello frame arrived). */
function openLive(port: number, headers: Record<string, string>): Promise<LiveResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/live`, { headers });
    const frames: LiveServerFrame[] = [];
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: String(reason) })));
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      ws.on('error', () => {}); // terminating a refused handshake reports it as an error
      ws.terminate();
      resolve({ status: res.statusCode ?? 0, frames, closed, ws });
    });
    ws.on('message', (d) => {
      frames.push(JSON.parse(String(d)) as LiveServerFrame);
      if (frames[0]?.type === 'hello') resolve({ status: 101, frames, closed, ws });
    });
    ws.on('error', reject);
  });
}

async function errorOf(res: Response): Promise<{ status: number; code: string | null }> {
  const body = (await res.json()) as Partial<ApiErrorBody>;
  return { status: res.status, code: res.headers.get('x-amzn-errortype') ?? body.code ?? null };
}

describe('operator sign-in', () => {
  const data = tempDataDir('iotcore-sign-in-');
  let server: RunningServer;
  let base: string;
  const sockets: WebSocket[] = [];
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });

  beforeAll(async () => {
    server = await startTestServer(data.dir);
    base = `http://127.0.0.1:${server.httpPort}`;
  });
  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    await server?.stop();
    data.remove();
  });

  it('leaves only health, metrics, the dashboard files, the CA certificate and the session routes open', async () => {
    expect((await get('/health')).status).toBe(200);
    expect((await get('/metrics')).status).toBe(200);
    expect((await get('/')).status).toBe(200);
    expect((await get('/index.html')).status).toBe(200);
    expect((await get('/api/ca-certificate.pem')).status).toBe(200);
    expect(await errorOf(await get('/api/session'))).toEqual({ status: 401, code: 'NotSignedIn' });
    expect(await errorOf(await get('/api/datasets'))).toEqual({ status: 401, code: 'NotSignedIn' });
    expect(await errorOf(await get('/api/operators'))).toEqual({ status: 401, code: 'NotSignedIn' });
    expect(await errorOf(await get('/api/no-such-route'))).toEqual({ status: 401, code: 'NotSignedIn' });
    const rulesTest = await fetch(`${base}/api/rules/test`, { method: 'POST', headers: JSON_HEADERS, body: '{}' });
    expect(await errorOf(rulesTest)).toEqual({ status: 401, code: 'NotSignedIn' });
    // refused before the body is read: a body over the limit would otherwise be 413
    const big = await fetch(`${base}/api/datasets/fleet_summary/run`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ pad: 'x'.repeat(2 << 20) }) });
    expect(big.status).toBe(401);
    // the AWS-compatible routes keep AWS's answer
    expect(await errorOf(await get('/things'))).toEqual({ status: 403, code: 'MissingAuthenticationTokenException' });
    expect(await errorOf(await get('/api/alerts'))).toEqual({ status: 403, code: 'MissingAuthenticationTokenException' });
  });

  it('answers a wrong password and an unknown operator alike, and malformed sign-ins with 400', async () => {
    const attempt = (body: unknown) => fetch(`${base}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
    const wrong = await attempt({ username: 'admin', password: 'not the password' });
    const unknown = await attempt({ username: 'nobody', password: 'not the password' });
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const wrongBody = (await wrong.json()) as ApiErrorBody;
    expect({ status: wrong.status, ...wrongBody }).toEqual({ status: 401, code: 'InvalidCredentials', message: expect.any(String) });
    expect({ status: unknown.status, ...((await unknown.json()) as ApiErrorBody) }).toEqual({ status: 401, ...wrongBody });
    expect(await errorOf(await attempt({ username: 'admin', password: 42 }))).toEqual({ status: 400, code: 'InvalidRequestException' });
    // a member we do not know (a misspelt "password", say) is named rather than ignored
    const extra = await attempt({ username: 'admin', password: 'not the password', remember: true });
    expect({ status: extra.status, ...((await extra.json()) as ApiErrorBody) }).toEqual({ status: 400, code: 'InvalidRequestException', message: expect.stringContaining('"remember"') });
    const badJson = await fetch(`${base}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: '{"username":' });
    expect(await errorOf(badJson)).toEqual({ status: 400, code: 'InvalidRequestException' });
  });

  it('signs in with an HttpOnly, SameSite=Strict cookie that opens our routes and the AWS-compatible ones', async () => {
    const res = await fetch(`${base}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(TEST_OPERATOR) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as SessionBody;
    expect(body).toEqual({ username: 'admin', expiresAt: expect.any(Number) });
    expect(body.expiresAt).toBeGreaterThan(Date.now() + 7 * 3600_000);
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^iotcore_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=604800$/);
    const cookie = setCookie.split(';')[0]!;

    expect(await (await get('/api/session', { cookie })).json()).toEqual({ username: 'admin', expiresAt: expect.any(Number) });
    expect(await (await get('/api/datasets', { cookie })).json()).toEqual({ datasets: expect.arrayContaining(['fleet_summary']) });
    const alerts = await get('/api/alerts', { cookie });
    expect(alerts.status).toBe(200);
    expect(await alerts.json()).toEqual({ alerts: [] });
    const things = await get('/things', { cookie });
    expect(things.status).toBe(200);
    expect(await things.json()).toMatchObject({ things: expect.any(Array) });
    // a state-changing request with the cookie from a tool that sends no Origin
    const run = await fetch(`${base}/api/rules/test`, { method: 'POST', headers: { cookie, ...JSON_HEADERS }, body: RULE_TEST });
    expect(await run.json()).toEqual({ matched: true, fired: true, output: { t: 1 } });
    // a forged or unknown token is no session
    expect((await get('/api/datasets', { cookie: `iotcore_session=${'A'.repeat(43)}` })).status).toBe(401);
  });

  it('marks the cookie Secure when the request came through an HTTPS proxy', async () => {
    const res = await fetch(`${base}/api/session`, { method: 'POST', headers: { ...JSON_HEADERS, 'x-forwarded-proto': 'https' }, body: JSON.stringify(TEST_OPERATOR) });
    expect(res.headers.get('set-cookie')).toMatch(/; Secure$/);
  });

  it('refuses a state-changing request with the cookie from another site\'s page, on both kinds of route', async () => {
    const cookie = await signIn(base);
    const evil = { cookie, origin: 'https://evil.example' };
    const ours = { cookie, origin: base };
    const ownRoute = (headers: Record<string, string>) => fetch(`${base}/api/rules/test`, { method: 'POST', headers: { ...headers, ...JSON_HEADERS }, body: RULE_TEST });
    expect(await errorOf(await ownRoute(evil))).toEqual({ status: 403, code: 'CrossOriginRequestRefused' });
    expect((await ownRoute(ours)).status).toBe(200);
    // same host and port, another scheme: a TLS proxy in front
    expect((await ownRoute({ cookie, origin: `https://127.0.0.1:${server.httpPort}` })).status).toBe(200);
    const awsRoute = (headers: Record<string, string>) => fetch(`${base}/api/alerts/no-such-id/acknowledge`, { method: 'POST', headers: { ...headers, ...JSON_HEADERS }, body: '{}' });
    expect(await errorOf(await awsRoute(evil))).toEqual({ status: 403, code: 'CrossOriginRequestRefused' });
    expect(await errorOf(await awsRoute(ours))).toEqual({ status: 404, code: 'ResourceNotFoundException' });
    // signing in from another site's page is refused too
    const crossSignIn = await fetch(`${base}/api/session`, { method: 'POST', headers: { ...JSON_HEADERS, origin: 'https://evil.example' }, body: JSON.stringify(TEST_OPERATOR) });
    expect(await errorOf(crossSignIn)).toEqual({ status: 403, code: 'CrossOriginRequestRefused' });
  });

  it('opens the live WebSocket only with a session cookie from our own pages, and closes it at sign-out', async () => {
    const cookie = await signIn(base);
    expect((await openLive(server.httpPort, {})).status).toBe(401);
    expect((await openLive(server.httpPort, { cookie, origin: 'https://evil.example' })).status).toBe(403);
    const live = await openLive(server.httpPort, { cookie, origin: base });
    sockets.push(live.ws);
    expect(live.status).toBe(101);
    expect(live.frames[0]).toMatchObject({ type: 'hello' });

    const out = await fetch(`${base}/api/session`, { method: 'DELETE', headers: { cookie } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^iotcore_session=; HttpOnly; SameSite=Strict; Path=\/; Max-Age=0$/);
    expect(await live.closed).toEqual({ code: 4401, reason: expect.stringContaining('signed-out') });
    expect((await get('/api/datasets', { cookie })).status).toBe(401);
    expect((await openLive(server.httpPort, { cookie })).status).toBe(401);
  });

  it('manages operators (also with SigV4); a removed operator or a changed password ends that operator\'s sessions', async () => {
    const admin = await signIn(base);
    const adminJson = (method: string, path: string, body?: unknown) =>
      fetch(`${base}${path}`, { method, headers: { cookie: admin, ...(body === undefined ? {} : JSON_HEADERS) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const bob = { username: 'bob', password: 'bob-has-a-long-password' };
    const created = await adminJson('POST', '/api/operators', bob);
    expect(created.status).toBe(200);
    expect(await created.json()).toEqual({ username: 'bob', createdAt: expect.any(Number) });
    expect(await errorOf(await adminJson('POST', '/api/operators', bob))).toEqual({ status: 409, code: 'ResourceAlreadyExistsException' });
    expect(await errorOf(await adminJson('POST', '/api/operators', { username: 'carol', password: 'short' }))).toEqual({ status: 400, code: 'InvalidRequestException' });
    const listed = (await (await signedFetch(server, 'GET', '/api/operators')).json()) as OperatorListBody;
    expect(listed.operators.map((o) => o.username)).toEqual(['admin', 'bob']);

    let bobCookie = await signIn(base, bob);
    let bobLive = await openLive(server.httpPort, { cookie: bobCookie });
    sockets.push(bobLive.ws);
    expect((await adminJson('PUT', '/api/operators/bob/password', { password: 'bob-has-a-new-password' })).status).toBe(204);
    expect(await bobLive.closed).toEqual({ code: 4401, reason: expect.stringContaining('password-changed') });
    expect((await get('/api/session', { cookie: bobCookie })).status).toBe(401);
    expect((await get('/api/session', { cookie: admin })).status).toBe(200);

    bobCookie = await signIn(base, { username: 'bob', password: 'bob-has-a-new-password' });
    bobLive = await openLive(server.httpPort, { cookie: bobCookie });
    sockets.push(bobLive.ws);
    expect((await adminJson('DELETE', '/api/operators/bob')).status).toBe(204);
    expect(await bobLive.closed).toEqual({ code: 4401, reason: expect.stringContaining('operator-removed') });
    expect((await get('/api/session', { cookie: bobCookie })).status).toBe(401);
    expect(await errorOf(await adminJson('DELETE', '/api/operators/bob'))).toEqual({ status: 404, code: 'ResourceNotFoundException' });
    expect(await errorOf(await adminJson('DELETE', '/api/operators/admin'))).toEqual({ status: 409, code: 'LastOperator' });
  });

  it('keeps sessions across a restart', async () => {
    const cookie = await signIn(base);
    await server.stop();
    server = await startTestServer(data.dir);
    base = `http://127.0.0.1:${server.httpPort}`;
    expect(await (await get('/api/session', { cookie })).json()).toMatchObject({ username: 'admin' });
  });

  it('refuses an address after 10 failed sign-ins in 10 minutes, the right password included, with Retry-After', async () => {
    const attempt = (password: string) => fetch(`${base}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ username: 'admin', password }) });
    for (let i = 0; i < 10; i++) expect((await attempt(`wrong password ${i}`)).status).toBe(401);
    const refused = await attempt(TEST_OPERATOR.password);
    expect(await errorOf(refused.clone())).toEqual({ status: 429, code: 'TooManyRequestsException' });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/iotcore_operator_sign_in\{counter="refused"\} 1\b/);
  });
});
