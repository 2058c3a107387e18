import { ApiError, createApi, errorFromResponse, type FetchInit, type FetchLike } from '../../../dashboard/src/api.js';

interface Call {
  url: string;
  init?: FetchInit;
}

function fakeFetch(status: number, body: string, headers: Record<string, string> = {}, calls: Call[] = []): FetchLike {
  return async (url, init) => {
    calls.push({ url, init });
    return {
      ok: status >= 200 && status < 300,
      status,
      statusText: status === 200 ? 'OK' : 'Error',
      headers: { get: (name: string) => headers[name.toLowerCase()] ?? null },
      text: async () => body,
    };
  };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    return error as ApiError;
  }
  throw new Error('expected a rejection');
}

describe('dashboard API client', () => {
  it('sends a JSON body with its content type and the session cookie, and parses the JSON answer', async () => {
    const calls: Call[] = [];
    const api = createApi({ fetch: fakeFetch(200, '{"username":"admin","expiresAt":5}', {}, calls) });
    await expect(api.request('POST', '/api/session', { username: 'admin', password: 'pw' })).resolves.toEqual({ username: 'admin', expiresAt: 5 });
    expect(calls[0].url).toBe('/api/session');
    expect(calls[0].init).toMatchObject({
      method: 'POST',
      credentials: 'same-origin',
      body: '{"username":"admin","password":"pw"}',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
    });
  });

  it('sends no body and no content type on a GET', async () => {
    const calls: Call[] = [];
    await createApi({ fetch: fakeFetch(200, '{}', {}, calls) }).request('GET', '/api/fleet');
    expect(calls[0].init?.body).toBeUndefined();
    expect(calls[0].init?.headers?.['content-type']).toBeUndefined();
  });

  it('resolves an empty success (204 of a sign-out) to undefined', async () => {
    await expect(createApi({ fetch: fakeFetch(204, '') }).request('DELETE', '/api/session')).resolves.toBeUndefined();
  });

  it('takes the error code from an ApiErrorBody of our own routes', async () => {
    const api = createApi({ fetch: fakeFetch(404, JSON.stringify({ code: 'ResourceNotFoundException', message: 'no dataset "x"' })) });
    expect(await rejection(api.request('GET', '/api/datasets/x'))).toMatchObject({ code: 'ResourceNotFoundException', message: 'no dataset "x"', status: 404 });
  });

  it('takes the error code from x-amzn-ErrorType on AWS routes, whose body has only a message', async () => {
    const api = createApi({
      fetch: fakeFetch(404, '{"message":"No shadow exists with name: \'sensor-1\'"}', { 'x-amzn-errortype': 'ResourceNotFoundException:http://internal.amazon.com/' }),
    });
    const error = await rejection(api.request('GET', '/things/sensor-1/shadow'));
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'ResourceNotFoundException', status: 404, message: "No shadow exists with name: 'sensor-1'" });
  });

  it('describes a failed response without a code by its status and body', () => {
    expect(errorFromResponse(502, 'Bad Gateway', '<html>upstream down</html>')).toMatchObject({ code: 'Http502', message: '502 Bad Gateway: <html>upstream down</html>' });
    expect(errorFromResponse(500, 'Internal Server Error', '').message).toBe('500 Internal Server Error');
  });

  it('tells the shell about every 401, then still rejects the request', async () => {
    const told: ApiError[] = [];
    const api = createApi({ fetch: fakeFetch(401, '{"code":"NotSignedIn","message":"sign in first"}'), onUnauthorized: (e) => told.push(e) });
    const error = await rejection(api.request('GET', '/api/fleet'));
    expect(error.code).toBe('NotSignedIn');
    expect(told).toEqual([error]);
  });

  it('does not tell the shell about other failures', async () => {
    const told: ApiError[] = [];
    const api = createApi({ fetch: fakeFetch(403, '{"code":"AccessDenied","message":"no"}'), onUnauthorized: (e) => told.push(e) });
    await rejection(api.request('GET', '/api/fleet'));
    expect(told).toEqual([]);
  });

  it('rejects a success whose body is not JSON', async () => {
    expect((await rejection(createApi({ fetch: fakeFetch(200, 'ok') }).request('GET', '/api/fleet'))).code).toBe('InvalidResponse');
  });

  it('reports an unreachable server as a NetworkError', async () => {
    const failing: FetchLike = async () => {
      throw new TypeError('Failed to fetch');
    };
    expect(await rejection(createApi({ fetch: failing }).request('GET', '/api/fleet'))).toMatchObject({ code: 'NetworkError', status: 0 });
  });
});
