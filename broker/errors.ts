// The broker's coded errors: one table, so codes stay unique and documented (README.md, "Errors").
// Every error a client can see carries `code`, a message and an HTTP status; MQTT clients see the
// effect (CONNACK refusal or disconnect) and the log names the code.

export const BROKER_ERRORS = {
  ConfigInvalid: { statusCode: 400, description: 'The configuration file, an environment variable or a flag has an invalid value; the message names the source, the key and the reason.' },
  ConfigFileUnreadable: { statusCode: 400, description: 'The configuration file named by --config or IOT_CONFIG cannot be read or is not JSON.' },
  PayloadTooLarge: { statusCode: 413, description: 'An MQTT PUBLISH payload is larger than server.maxPayloadBytes (128 KB by default); the connection is closed without PUBACK, as AWS IoT does.' },
  ReservedTopic: { statusCode: 403, description: 'A client published to a reserved topic ($SYS/...).' },
  IngestFailed: { statusCode: 503, description: 'A rule action could not durably accept the message (e.g. the channel archive write failed); the message is not acknowledged and the client is disconnected so it redelivers.' },
  NotFound: { statusCode: 404, description: 'No route or resource with that name.' },
  InvalidRequestException: { statusCode: 400, description: 'The HTTP request is malformed (bad JSON, wrong types).' },
  InternalFailureException: { statusCode: 500, description: 'An unexpected server error; the log has the details.' },
  ServiceUnavailableException: { statusCode: 503, description: 'The server is starting or stopping, or the dashboard bundle has not been built.' },
  ResourceNotFoundException: { statusCode: 404, description: 'No topic rule of that name (GetTopicRule, ReplaceTopicRule, DeleteTopicRule, EnableTopicRule, DisableTopicRule).' },
  ResourceAlreadyExistsException: { statusCode: 409, description: 'CreateTopicRule for a name that already exists; the body also carries resourceId and resourceArn.' },
  RulesFileInvalid: { statusCode: 500, description: 'A rule persisted in <dataDir>/rules.json cannot be read or no longer compiles; start-up is refused and the message names the file, the rule and the reason.' },
} as const satisfies Record<string, { statusCode: number; description: string }>;

export type BrokerErrorCode = keyof typeof BROKER_ERRORS;

export class BrokerError extends Error {
  readonly code: BrokerErrorCode;
  readonly statusCode: number;
  /** extra members of the error body the API promises for this error (e.g. resourceArn) */
  readonly details: Readonly<Record<string, string>> | undefined;
  constructor(code: BrokerErrorCode, message: string, details?: Record<string, string>) {
    super(message);
    this.name = code;
    this.code = code;
    this.statusCode = BROKER_ERRORS[code].statusCode;
    this.details = details;
  }
}

/** Any error from our folders (rules, analytics, broker) that carries a code and an HTTP status. */
export interface CodedError {
  code: string;
  statusCode: number;
  message: string;
}

export function isCodedError(err: unknown): err is CodedError {
  return (
    typeof err === 'object' && err !== null &&
    typeof (err as CodedError).code === 'string' &&
    typeof (err as CodedError).statusCode === 'number'
  );
}
