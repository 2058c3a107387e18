// GET /api/ca-certificate.pem: our device CA's certificate, unauthenticated, so a device (or an
// operator) can verify the broker's TLS certificate on the MQTT over TLS port. Public by nature.
import type { Http } from '../server.js';

export function caCertificateRoutes(certificatePem: string) {
  return (app: Http) => {
    app.get('/api/ca-certificate.pem', async (_req, reply) => reply.type('application/x-pem-file').send(certificatePem));
  };
}
