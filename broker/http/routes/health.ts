// GET /health: 200 once the server is ready (all listeners up, configuration applied), 503 while
// it starts or stops. GET /metrics: Prometheus text.
import type { Http } from '../server.js';
import type { Metrics } from '../../metrics.js';

export function healthRoutes(isReady: () => boolean, metrics: Metrics) {
  return (app: Http) => {
    app.get('/health', async (_req, reply) => {
      if (!isReady()) return reply.status(503).send({ status: 'starting' });
      return { status: 'ok' };
    });
    app.get('/metrics', async (_req, reply) => {
      const { contentType, body } = await metrics.render();
      return reply.type(contentType).send(body);
    });
  };
}
