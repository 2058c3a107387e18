// Coded errors of the simulator. One table so the lead can document every code in one place.

/** Every error code the simulator raises, with its HTTP-style status and a one-line description. */
export const SIM_ERRORS = {
  InvalidArgumentException: {
    statusCode: 400,
    description: 'A command-line flag or fleet option is missing, unknown or out of range.',
  },
  ConnectionFailedException: {
    statusCode: 502,
    description: 'No device of the fleet could connect to the broker before the connect deadline.',
  },
  ShardFailedException: {
    statusCode: 500,
    description: 'A shard process of a --shards run failed to start or ended without a result; the summary covers the other shards.',
  },
  ProvisioningFailedException: {
    statusCode: 502,
    description: 'Provisioning a device (thing, certificate, policy) or fetching the CA from the AWS API endpoint failed.',
  },
  MetricsUnavailableException: {
    statusCode: 502,
    description: "The server's /metrics could not be read, or has no row-lag histogram (or no such --datastore); the run goes on without publish-to-row latency.",
  },
} as const;

export type SimErrorCode = keyof typeof SIM_ERRORS;

export class SimError extends Error {
  readonly code: SimErrorCode;
  readonly statusCode: number;

  constructor(code: SimErrorCode, message: string) {
    super(message);
    this.name = 'SimError';
    this.code = code;
    this.statusCode = SIM_ERRORS[code].statusCode;
  }
}
