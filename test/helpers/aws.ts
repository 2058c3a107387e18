// Configuration for the real AWS SDK clients against a test server: only the endpoint and the
// credentials differ from talking to AWS.
import type { RunningServer } from '../../broker/index.js';

export function awsClientConfig(server: RunningServer) {
  return {
    endpoint: `http://127.0.0.1:${server.httpPort}`,
    region: 'us-east-1',
    // Until the server issues admin keys, any well-formed key is accepted.
    credentials: server.adminCredentials ?? { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'unverified-secret' },
  };
}
