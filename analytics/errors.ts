// The one table of coded errors for the whole analytics folder (channels, pipelines, datastores,
// datasets). Codes follow the AWS IoT Analytics exception names where one exists, so the HTTP
// layer can put `code` in `x-amzn-ErrorType` and `statusCode` on the response unchanged.
// Add new codes here (never a second table elsewhere); each entry carries a one-line description.

export const ANALYTICS_ERRORS = {
  InvalidRequestException: {
    statusCode: 400,
    description: 'The request or definition is malformed or violates a documented constraint.',
  },
  ResourceNotFoundException: {
    statusCode: 404,
    description: 'A named channel, pipeline, datastore or dataset does not exist (DescribeLoggingOptions: none were set).',
  },
  ResourceAlreadyExistsException: {
    statusCode: 409,
    description: 'A resource with that name already exists (or a run of it is already in progress).',
  },
  LimitExceededException: {
    statusCode: 410,
    description: 'A documented limit (activities per pipeline, messages per call, ...) was exceeded.',
  },
  ThrottlingException: {
    statusCode: 429,
    description: 'A bounded queue is full and the caller asked not to wait.',
  },
  InternalFailureException: {
    statusCode: 500,
    description: 'A disk or database operation failed (e.g. the channel archive write); nothing was acknowledged.',
  },
  ServiceUnavailableException: {
    statusCode: 503,
    description: 'The analytics service, a channel or the database is closed or closing.',
  },
  QueryTimeoutException: {
    statusCode: 400,
    description: 'A dataset query ran longer than its time limit and was interrupted; narrow it (WHERE on __dt, LIMIT).',
  },
  QueryMemoryExceededException: {
    statusCode: 400,
    description: 'A dataset query needed more memory than the database may use (the duckdbMemoryLimit setting) and was stopped; narrow it (WHERE on __dt, LIMIT, fewer columns).',
  },
  DatastoreLocked: {
    statusCode: 500,
    description: 'At start-up, the DuckDB database <dataDir>/iotcore.duckdb is held by another server (another process, whose PID DuckDB names, or this one): two servers cannot share a data directory; start-up is refused.',
  },
  DefinitionsFileInvalid: {
    statusCode: 500,
    description: 'At start-up, <dataDir>/analytics-definitions.json (channels, datastores, pipelines, datasets, detectors) cannot be read or is not JSON; start-up is refused and the message names the file.',
  },
  DatabaseUnreadable: {
    statusCode: 500,
    description: 'At start-up, the DuckDB database <dataDir>/iotcore.duckdb cannot be read or is not a DuckDB database (garbage, another format, a newer DuckDB version, no read permission); start-up is refused and the message names the file and DuckDB\'s reason.',
  },
  InvalidStateTransitionException: {
    statusCode: 409,
    description: 'An alert\'s state forbids the change: acknowledging or clearing an alert that is already CLEARED.',
  },
} as const satisfies Record<string, { statusCode: number; description: string }>;

export type AnalyticsErrorCode = keyof typeof ANALYTICS_ERRORS;

/** A coded error: `code` is the AWS-style exception name, `statusCode` its HTTP status. */
export class AnalyticsError extends Error {
  readonly code: AnalyticsErrorCode;
  readonly statusCode: number;
  /** extra members of the AWS error body (ResourceAlreadyExistsException: resourceId, resourceArn) */
  readonly details: Readonly<Record<string, string>> | undefined;

  constructor(code: AnalyticsErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, string> }) {
    super(message, options);
    this.name = 'AnalyticsError';
    this.code = code;
    this.statusCode = ANALYTICS_ERRORS[code].statusCode;
    this.details = options?.details;
  }
}

export function invalidRequest(message: string): AnalyticsError {
  return new AnalyticsError('InvalidRequestException', message);
}

export function notFound(message: string): AnalyticsError {
  return new AnalyticsError('ResourceNotFoundException', message);
}

export function isAnalyticsError(e: unknown): e is AnalyticsError {
  return e instanceof AnalyticsError;
}
