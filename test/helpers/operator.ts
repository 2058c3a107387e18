// An operator for integration tests: the server gets its password from the environment
// (IOT_OPERATOR_PASSWORD, so startTestServer's default env has it), tests sign in over HTTP and
// send the session cookie, as the dashboard does.
import type { SessionBody } from '../../broker/index.js';

export const TEST_OPERATOR = { username: 'admin', password: 'operator-password-for-tests' } as const;

/** Environment variables that give the server TEST_OPERATOR (merge into startServer's `env`). */
export const OPERATOR_ENV = { IOT_OPERATOR_PASSWORD: TEST_OPERATOR.password } as const;

export interface Credentials { username: string; password: string }

/** Signs in and answers the `Cookie` header value (`iotcore_session=...`); throws unless 200. */
export async function signIn(baseUrl: string, credentials: Credentials = TEST_OPERATOR): Promise<string> {
  const res = await fetch(`${baseUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  if (res.status !== 200) throw new Error(`sign-in as ${credentials.username} failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as SessionBody;
  if (body.username !== credentials.username) throw new Error(`signed in as ${body.username}, not ${credentials.username}`);
  const setCookie = res.headers.get('set-cookie');
  if (!setCookie) throw new Error('sign-in answered without a cookie');
  return setCookie.split(';')[0]!;
}

const cookies = new Map<string, Promise<string>>();

/** fetch() as the signed-in TEST_OPERATOR (one sign-in per base URL, again after a 401). */
export async function operatorFetch(baseUrl: string, path: string, init: RequestInit = {}): Promise<Response> {
  const send = async () => {
    let cookie = cookies.get(baseUrl);
    if (!cookie) cookies.set(baseUrl, (cookie = signIn(baseUrl)));
    cookie.catch(() => cookies.delete(baseUrl));
    const headers = new Headers(init.headers);
    headers.set('cookie', await cookie);
    return fetch(`${baseUrl}${path}`, { ...init, headers });
  };
  const res = await send();
  if (res.status !== 401) return res;
  cookies.delete(baseUrl); // the server restarted on this port without the session, or it ended
  return send();
}

/** operatorFetch answering the status and the JSON body. */
export async function operatorJson<T = unknown>(baseUrl: string, path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await operatorFetch(baseUrl, path, init);
  return { status: res.status, body: (await res.json()) as T };
}
