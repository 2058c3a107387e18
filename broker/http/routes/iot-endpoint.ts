// DescribeEndpoint (control plane, `@aws-sdk/client-iot`): GET /endpoint?endpointType= → {endpointAddress}.
// Registered in the AWS scope of http/server.ts (SigV4, AWS error shape).
//
// The answer is `<host>:<port>` of this server's HTTP port, for every endpoint type. That one
// address serves the data plane (Publish, shadows, retained messages) and MQTT over WebSocket
// (`ws://<address>/mqtt`), as AWS's single data endpoint does; the plain MQTT TCP port is in
// the settings and in <dataDir>/ports.json. The host is the configured `server.host`, unless that
// is a wildcard (0.0.0.0, ::), which no client can connect to: then it is the host name the
// caller used to reach us (its Host header), and `localhost` without one.
import { BrokerError } from '../../errors.js';
import type { Http } from '../server.js';

/** the types AWS accepts; a missing type means the legacy `iot:Data` on AWS too */
export const ENDPOINT_TYPES = ['iot:Data', 'iot:Data-ATS', 'iot:CredentialProvider', 'iot:Jobs'] as const;

const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

export function iotEndpointRoutes(options: { host: string }) {
  return (app: Http) => {
    app.get<{ Querystring: { endpointType?: unknown } }>('/endpoint', async (req) => {
      const type = req.query.endpointType;
      if (type !== undefined && !(ENDPOINT_TYPES as readonly unknown[]).includes(type)) {
        throw new BrokerError('InvalidRequestException', `endpointType must be one of ${ENDPOINT_TYPES.join(', ')}`);
      }
      const host = endpointHost(options.host, req.headers.host);
      const port = req.socket.localPort;
      return { endpointAddress: port ? `${host}:${port}` : host };
    });
  };
}

/** The configured host unless it is a wildcard; then the Host header's name; else localhost. */
export function endpointHost(configured: string, hostHeader: string | undefined): string {
  if (!WILDCARD_HOSTS.has(configured)) return configured.includes(':') && !configured.startsWith('[') ? `[${configured}]` : configured;
  if (hostHeader) {
    try {
      const name = new URL(`http://${hostHeader}`).hostname;
      if (name) return name;
    } catch {
      // a malformed Host header: fall through
    }
  }
  return 'localhost';
}
