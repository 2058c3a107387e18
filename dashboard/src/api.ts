// Requests to the server: our `/api/...` routes answer errors with `{code, message}`; the
// AWS-compatible routes (`/api/alerts`, `/things/...`) put the code in the `x-amzn-ErrorType`
// header and only `{message}` in the body. Both become an ApiError the views can show.
// fetch is injected, so this runs (and is tested) outside a browser. No DOM here.

import type { ApiErrorBody } from '../../broker/contract.js';
import type { Api, HttpMethod } from './view.js';

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

/**
 * The error a failed response stands for, whatever its body (JSON error, HTML page, nothing).
 * `errorType` is the `x-amzn-ErrorType` header, which AWS may suffix with `:<namespace url>`.
 */
export function errorFromResponse(status: number, statusText: string, bodyText: string, errorType?: string | null): ApiError {
  let body: Partial<ApiErrorBody> | undefined;
  try {
    const parsed = JSON.parse(bodyText) as unknown;
    if (parsed && typeof parsed === 'object') body = parsed as Partial<ApiErrorBody>;
  } catch {
    // not JSON: described by status and text below
  }
  const headerCode = errorType ? errorType.split(':')[0].trim() : '';
  const code = typeof body?.code === 'string' && body.code ? body.code : headerCode;
  if (code) {
    const message = typeof body?.message === 'string' ? body.message : `${status} ${statusText}`;
    return new ApiError(code, message, status);
  }
  const detail = bodyText.trim().slice(0, 200);
  return new ApiError(`Http${status}`, `${status} ${statusText}${detail ? `: ${detail}` : ''}`, status);
}

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  credentials?: 'same-origin' | 'include' | 'omit';
}

export interface FetchResponse {
  ok: boolean;
  status: number;
  statusText: string;
  headers?: { get(name: string): string | null };
  text(): Promise<string>;
}

export type FetchLike = (url: string, init?: FetchInit) => Promise<FetchResponse>;

export interface ApiClientOptions {
  fetch: FetchLike;
  /** a request was answered 401: the session ended (or never began) */
  onUnauthorized?(error: ApiError): void;
}

/** The Api of view.ts: JSON in and out, the session cookie sent, errors as ApiError. */
export function createApi(options: ApiClientOptions): Api {
  return {
    async request<T>(method: HttpMethod, path: string, body?: unknown): Promise<T> {
      const headers: Record<string, string> = { accept: 'application/json' };
      const init: FetchInit = { method, headers, credentials: 'same-origin' };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      let response: FetchResponse;
      try {
        response = await options.fetch(path, init);
      } catch (error) {
        throw new ApiError('NetworkError', `cannot reach the server: ${(error as Error).message}`, 0);
      }
      const text = await response.text().catch(() => '');
      if (!response.ok) {
        const error = errorFromResponse(response.status, response.statusText, text, response.headers?.get('x-amzn-ErrorType'));
        if (response.status === 401) options.onUnauthorized?.(error);
        throw error;
      }
      // 204 (sign-out, deletes) and other empty successes have no JSON to parse.
      if (text.trim() === '') return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new ApiError('InvalidResponse', `${method} ${path} returned a body that is not JSON`, response.status);
      }
    },
  };
}

/** A one-line description of any failure, for a view's error text. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
