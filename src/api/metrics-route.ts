import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../observability/metrics.ts';

/** GET /metrics in Prometheus text format. Unauthenticated, like most scrape targets: it holds counts, no data. */
export function metricsRoute(metrics: Metrics): (app: FastifyInstance) => void {
  return (app) => {
    app.get('/metrics', async (_request, reply) => {
      const text = await metrics.render();
      return reply.type(metrics.registry.contentType).send(text);
    });
  };
}
