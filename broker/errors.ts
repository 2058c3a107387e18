// The broker's coded errors: one table, so codes stay unique and documented (README.md, "Errors").
// Every error a client can see carries `code`, a message and an HTTP status; MQTT clients see the
// effect (CONNACK refusal or disconnect) and the log names the code.

export const BROKER_ERRORS = {
  ConfigInvalid: { statusCode: 400, description: 'The configuration file, an environment variable or a flag has an invalid value; the message names the source, the key and the reason.' },
  ConfigFileUnreadable: { statusCode: 400, description: 'The configuration file named by --config or IOT_CONFIG cannot be read or is not JSON.' },
  PayloadTooLarge: { statusCode: 413, description: 'An MQTT PUBLISH payload is larger than server.maxPayloadBytes (128 KB by default); the connection is closed without PUBACK, as AWS IoT does.' },
  TopicTooLong: { statusCode: 400, description: 'An MQTT PUBLISH topic is longer than server.maxTopicBytes (256 UTF-8 bytes, AWS\'s limit) or has more slashes than server.maxTopicSlashes (7), not counting a Basic Ingest prefix $aws/rules/<rule>/: the connection is closed without PUBACK. A SUBSCRIBE filter past the same limits gets the return code 0x80 for that filter.' },
  ReservedTopic: { statusCode: 403, description: 'A client published to a reserved topic ($SYS/..., a lifecycle event topic $aws/events/..., or a shadow response topic such as $aws/things/<thing>/shadow/update/accepted).' },
  IngestFailed: { statusCode: 503, description: 'A rule action could not durably accept the message (e.g. the channel archive write failed); the message is not acknowledged and the client is disconnected so it redelivers.' },
  DiskFull: { statusCode: 503, description: 'The disk holding the data directory is full (ENOSPC, or EDQUOT for a quota): a channel archive, a journal (retained messages, MQTT sessions) or a store could not be written; nothing was acknowledged or changed, the message names the path and the free bytes, and writes resume by themselves once space is freed.' },
  NotFound: { statusCode: 404, description: 'No route or resource with that name.' },
  DatasetContentUrlInvalid: { statusCode: 403, description: 'A dataset content URL (/api/dataset-content/...) has expired (URLs live 2 hours), lacks its expires/signature parameters or was altered; call GetDatasetContent again for a fresh dataURI.' },
  InvalidRequestException: { statusCode: 400, description: 'The HTTP request is malformed (bad JSON, wrong types).' },
  InternalFailureException: { statusCode: 500, description: 'An unexpected server error; the log has the details.' },
  ServiceUnavailableException: { statusCode: 503, description: 'The server is starting or stopping, or the dashboard bundle has not been built.' },
  ResourceNotFoundException: { statusCode: 404, description: 'No topic rule of that name (GetTopicRule, ReplaceTopicRule, DeleteTopicRule, EnableTopicRule, DisableTopicRule), or no thing, thing type or thing group of that name (device registry), or no policy, policy version or policy target of that name (policies), or no retained message on the topic (GetRetainedMessage), or no operator of that name (/api/operators).' },
  ResourceAlreadyExistsException: { statusCode: 409, description: 'CreateTopicRule for a name that already exists, or CreateThing/CreateThingType/CreateThingGroup for a name that exists with a different configuration (the body also carries resourceId and resourceArn), or POST /api/operators for a username that exists.' },
  VersionConflictException: { statusCode: 409, description: 'UpdateThing, DeleteThing, UpdateThingGroup or DeleteThingGroup gave an expectedVersion other than the current version.' },
  LimitExceededException: { statusCode: 410, description: 'A registry quota is reached: a thing in 10 groups, a group hierarchy 7 deep, a group with 100 child groups, 10 policies attached to one target (AWS IoT sends it with HTTP 410).' },
  RegistryFileInvalid: { statusCode: 500, description: 'The registry journal <dataDir>/registry.jsonl has an unreadable line before its last one; start-up is refused and the message names the file and the line.' },
  RulesFileInvalid: { statusCode: 500, description: 'A rule persisted in <dataDir>/rules.json cannot be read or no longer compiles; start-up is refused and the message names the file, the rule and the reason.' },
  ConflictException: { statusCode: 409, description: 'A shadow update named a version other than the current one (optimistic locking: "Version conflict").' },
  RequestEntityTooLargeException: { statusCode: 413, description: 'A shadow\'s desired + reported state would exceed 8 KB.' },
  MissingAuthenticationTokenException: { statusCode: 403, description: 'An AWS-compatible API request carries neither a SigV4 Authorization header nor a signed-in operator\'s session cookie.' },
  IncompleteSignatureException: { statusCode: 400, description: 'The Authorization header is malformed (no Credential/SignedHeaders/Signature, host or x-amz-date unsigned, no X-Amz-Date) or uses presigned query authentication, which is not supported.' },
  InvalidSignatureException: { statusCode: 403, description: 'The SigV4 signature does not match (wrong secret, changed request), the credential scope names another service, or X-Amz-Date is more than 15 minutes from the server clock ("Signature expired").' },
  UnrecognizedClientException: { statusCode: 403, description: 'The SigV4 access key id is not one this server issued.' },
  DataDirLocked: { statusCode: 500, description: 'Another server (in this process or another one, named by its PID) holds the data directory\'s lock <dataDir>/server.lock; start-up is refused before any file in the directory is opened. A lock left by a process that died is taken over.' },
  AdminCredentialsFileInvalid: { statusCode: 500, description: 'The admin key file <dataDir>/admin-credentials.json is not valid JSON with accessKeyId and secretAccessKey; start-up is refused.' },
  CertificateStateException: { statusCode: 406, description: 'The certificate\'s status forbids the call: UpdateCertificate of a REVOKED certificate, DeleteCertificate of an ACTIVE one, or RegisterCertificate of a certificate whose CA is not ACTIVE.' },
  CertificateValidationException: { statusCode: 400, description: 'A PEM is not an X.509 certificate, is expired, is not a CA certificate (RegisterCACertificate), or is not signed by a registered CA (RegisterCertificate).' },
  DeleteConflictException: { statusCode: 409, description: 'DeleteCertificate of a certificate still attached to a thing (DetachThingPrincipal first) or, without forceDelete, with policies attached; DeletePolicy of a policy still attached to a target or with non-default versions; DeletePolicyVersion of the default version.' },
  CaFilesInvalid: { statusCode: 500, description: 'The device CA key or certificate in <dataDir>/ca/ cannot be read; start-up is refused.' },
  CertificatesFileInvalid: { statusCode: 500, description: 'The certificate store <dataDir>/certificates.json is not valid; start-up is refused.' },
  MalformedPolicyException: { statusCode: 400, description: 'A policy document is not valid: not JSON, no Statement, an Effect other than Allow/Deny, no Action or Resource, an unsupported condition operator or key, or over 2,048 characters without whitespace; the message says which.' },
  VersionsLimitExceededException: { statusCode: 409, description: 'CreatePolicyVersion of a policy that already has 5 versions; delete one first (DeletePolicyVersion).' },
  PoliciesFileInvalid: { statusCode: 500, description: 'The policy store <dataDir>/policies.json is not valid (or a stored document no longer compiles); start-up is refused and the message names the file.' },
  PublishNotAuthorized: { statusCode: 403, description: 'An authenticated MQTT client published to a topic its policies do not allow (iot:Publish, or iot:RetainPublish for a retained message); the connection is closed without PUBACK, as AWS IoT does.' },
  SubscribeNotAuthorized: { statusCode: 403, description: 'An authenticated MQTT client subscribed to a topic filter its policies do not allow (iot:Subscribe); the connection is closed without SUBACK, as AWS IoT does.' },
  PasswordsFileInvalid: { statusCode: 500, description: 'The device password store <dataDir>/device-passwords.json is not valid; start-up is refused.' },
  RetainedFileInvalid: { statusCode: 500, description: 'The retained message journal <dataDir>/retained.jsonl has an unreadable line before its last one; start-up is refused and the message names the file and the line.' },
  SessionFileInvalid: { statusCode: 500, description: 'The MQTT session journal <dataDir>/mqtt-sessions.jsonl (subscriptions and queued QoS 1 messages of clean=false clients) has an unreadable line before its last one; start-up is refused and the message names the file and the line.' },
  NotSignedIn: { statusCode: 401, description: 'A request to one of our own /api/ routes (or the /api/live WebSocket) carries neither a valid operator session cookie nor a SigV4 signature: sign in with POST /api/session or sign the request; GET /api/session answers it when signed out.' },
  InvalidCredentials: { statusCode: 401, description: 'POST /api/session with a wrong username or password (one answer for both, so it does not tell which accounts exist).' },
  TooManyRequestsException: { statusCode: 429, description: 'POST /api/session from an address with 10 failed sign-ins in the last 10 minutes; the Retry-After header says how many seconds until it may try again.' },
  CrossOriginRequestRefused: { statusCode: 403, description: 'A state-changing request (POST, PUT, PATCH, DELETE) without a SigV4 signature, or a /api/live WebSocket, whose Origin header names another host than the request\'s Host: another site\'s page tried to use an operator\'s session.' },
  LastOperator: { statusCode: 409, description: 'DELETE /api/operators/{username} of the only operator; add another operator first, or nobody could sign in.' },
  OperatorsFileInvalid: { statusCode: 500, description: 'The operator store <dataDir>/operators.json, or the initial credentials file <dataDir>/operator-credentials.json when it is needed, is not valid; start-up is refused and the message names the file.' },
  ThrottlingException: { statusCode: 429, description: 'A retained publish on a new topic while the store holds its quota of retained messages (500,000, AWS\'s default); updates and deletions of retained topics are still taken. An MQTT client is disconnected without PUBACK.' },
  ClusterUnavailable: { statusCode: 503, description: 'Cluster mode: the Redis named by server.cluster.redisUrl (IOT_CLUSTER_REDIS_URL) cannot be reached. At start-up the server refuses to start and the message names the URL (password hidden); at run time the outage is logged once and every device PUBLISH is refused (connection closed without PUBACK, so the device sends it again) until the connection is back.' },
  ClusterBacklogFull: { statusCode: 503, description: 'Cluster mode: a channel\'s Redis stream already holds server.cluster.maxBacklog writes that the analytics node has not stored (it is down or lagging); the device PUBLISH whose rule writes to that channel is refused without PUBACK and counted (iotcore_cluster{counter="refusedBacklog"}).' },
  ClusterAnalyticsOwned: { statusCode: 500, description: 'Cluster mode: a node configured with cluster.analytics = owner found another node holding the analytics role in Redis; start-up is refused (one analytics node per cluster, the others use forward). The claim of a node that stopped lapses after 30 s.' },
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
