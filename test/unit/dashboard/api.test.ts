import { ApiError, errorFromResponse, listDatasets, runDataset, type FetchLike } from '../../../dashboard/src/api.js';

function fakeFetch(status: number, body: string, calls: { url: string; method?: string }[] = []): FetchLike {
  return async (url, init) => {
    calls.push({ url, method: init?.method });
    return { ok: status >= 200 && status < 300, status, statusText: status === 200 ? 'OK' : 'Error', text: async () => body };
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
  it('turns an ApiErrorBody into an error with its code, message and status', async () => {
    const error = await rejection(
      runDataset(fakeFetch(404, JSON.stringify({ code: 'ResourceNotFoundException', message: 'no dataset "x"' })), 'x'),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'ResourceNotFoundException', message: 'no dataset "x"', status: 404 });
  });

  it('describes a failed response that is not an ApiErrorBody by its status and body', () => {
    expect(errorFromResponse(502, 'Bad Gateway', '<html>upstream down</html>')).toMatchObject({
      code: 'Http502',
      message: '502 Bad Gateway: <html>upstream down</html>',
    });
    expect(errorFromResponse(500, 'Internal Server Error', '').message).toBe('500 Internal Server Error');
  });

  it('lists datasets from GET /api/datasets', async () => {
    const calls: { url: string; method?: string }[] = [];
    expect(await listDatasets(fakeFetch(200, '{"datasets":["a","b"]}', calls))).toEqual(['a', 'b']);
    expect(calls).toEqual([{ url: '/api/datasets', method: 'GET' }]);
  });

  it('runs a dataset with POST, escaping its name in the path', async () => {
    const calls: { url: string; method?: string }[] = [];
    const result = { datasetName: 'a b', columns: [{ name: 'n', type: 'BIGINT' }], rows: [[1]], ranAt: 5 };
    expect(await runDataset(fakeFetch(200, JSON.stringify(result), calls), 'a b')).toEqual(result);
    expect(calls).toEqual([{ url: '/api/datasets/a%20b/run', method: 'POST' }]);
  });

  it('rejects a success response whose body is not what the panel needs', async () => {
    expect((await rejection(listDatasets(fakeFetch(200, '{"items":[]}')))).code).toBe('InvalidResponse');
    expect((await rejection(runDataset(fakeFetch(200, 'ok'), 'a'))).code).toBe('InvalidResponse');
  });

  it('reports an unreachable server as a NetworkError', async () => {
    const failing: FetchLike = async () => {
      throw new TypeError('Failed to fetch');
    };
    expect(await rejection(listDatasets(failing))).toMatchObject({ code: 'NetworkError', status: 0 });
  });
});
