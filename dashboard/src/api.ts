// Calls to our own HTTP API (`/api/...`). Non-2xx responses carry an ApiErrorBody
// `{code, message}`; they become an ApiError the panels can show. No DOM here.

import type { ApiErrorBody, DatasetListBody, DatasetResult } from '../../broker/contract.js';

export type { DatasetResult };

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The error a failed response stands for, whatever its body (JSON error, HTML page, nothing). */
export function errorFromResponse(status: number, statusText: string, bodyText: string): ApiError {
  try {
    const body = JSON.parse(bodyText) as Partial<ApiErrorBody>;
    if (body && typeof body.code === 'string' && typeof body.message === 'string') {
      return new ApiError(body.code, body.message, status);
    }
  } catch {
    // not JSON: fall through to the generic error
  }
  const detail = bodyText.trim().slice(0, 200);
  return new ApiError(`Http${status}`, `${status} ${statusText}${detail ? `: ${detail}` : ''}`, status);
}

export type FetchLike = (url: string, init?: { method?: string; headers?: Record<string, string> }) => Promise<{
  ok: boolean;
  status: number;
  statusText: string;
  text(): Promise<string>;
}>;

export async function requestJson<T>(fetchFn: FetchLike, method: 'GET' | 'POST', path: string): Promise<T> {
  let response;
  try {
    response = await fetchFn(path, { method, headers: { accept: 'application/json' } });
  } catch (error) {
    throw new ApiError('NetworkError', `cannot reach the server: ${(error as Error).message}`, 0);
  }
  const text = await response.text();
  if (!response.ok) throw errorFromResponse(response.status, response.statusText, text);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError('InvalidResponse', `${method} ${path} returned a body that is not JSON`, response.status);
  }
}

export function listDatasets(fetchFn: FetchLike): Promise<string[]> {
  return requestJson<DatasetListBody>(fetchFn, 'GET', '/api/datasets').then((body) => {
    if (!body || !Array.isArray(body.datasets)) throw new ApiError('InvalidResponse', 'GET /api/datasets: no "datasets" array', 200);
    return body.datasets.filter((name): name is string => typeof name === 'string');
  });
}

export function runDataset(fetchFn: FetchLike, name: string): Promise<DatasetResult> {
  return requestJson<DatasetResult>(fetchFn, 'POST', `/api/datasets/${encodeURIComponent(name)}/run`).then((result) => {
    if (!result || !Array.isArray(result.columns) || !Array.isArray(result.rows)) {
      throw new ApiError('InvalidResponse', `POST /api/datasets/${name}/run: not a dataset result`, 200);
    }
    return result;
  });
}
