// Error responses of the AWS-compatible routes. The AWS SDKs (restJson1) take the exception name
// from the `x-amzn-ErrorType` header first, then from a `code` or `__type` member of the body,
// and the message from `message`; so the name goes in the header and the body carries `message`
// plus the members the API documents for that error (e.g. resourceId, resourceArn). Our own
// `/api/` routes keep `{code, message}` (http/server.ts).
import { BROKER_ERRORS, isCodedError } from '../errors.js';

/** An error reduced to what a response needs. */
export interface ErrorOutcome {
  status: number;
  code: string;
  message: string;
  /** extra body members (only for codes whose AWS shape has them) */
  details?: Readonly<Record<string, string>>;
}

export interface AwsErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, string>;
}

/** Maps anything thrown by a route (our coded errors, fastify's request errors, bugs) to an
 * outcome. Fastify's own client errors keep their status: 413 → PayloadTooLarge, the rest
 * (bad JSON, bad content type) → InvalidRequestException. */
export function toErrorOutcome(err: unknown): ErrorOutcome {
  const e = err as { code?: string; statusCode?: number; message?: string; details?: unknown };
  if (typeof e.code === 'string' && e.code.startsWith('FST_') && e.statusCode && e.statusCode < 500) {
    return { status: e.statusCode, code: e.statusCode === 413 ? 'PayloadTooLarge' : 'InvalidRequestException', message: e.message ?? 'bad request' };
  }
  if (isCodedError(err)) {
    const outcome: ErrorOutcome = { status: err.statusCode, code: err.code, message: err.message };
    if (typeof e.details === 'object' && e.details !== null) outcome.details = e.details as Record<string, string>;
    return outcome;
  }
  return { status: BROKER_ERRORS.InternalFailureException.statusCode, code: 'InternalFailureException', message: 'internal error; see the server log' };
}

export function awsErrorResponse(outcome: ErrorOutcome): AwsErrorResponse {
  return {
    status: outcome.status,
    headers: { 'x-amzn-ErrorType': outcome.code, 'content-type': 'application/json' },
    // details first so they can never overwrite the message
    body: { ...outcome.details, message: outcome.message },
  };
}
