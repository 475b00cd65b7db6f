import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Metrics } from '../observability/metrics.ts';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether the scraper may read: with a token, it must send it as a bearer token; without one, only a client on
 * this machine may, and not through a proxy (a local reverse proxy would otherwise expose it to everyone).
 */
function mayScrape(request: FastifyRequest, token: string | undefined): boolean {
  if (token) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    return match !== null && sameSecret(match[1]!, token);
  }
  const proxied = request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined;
  return !proxied && LOOPBACK.test(request.socket.remoteAddress ?? '');
}

/** GET /metrics in Prometheus text format, for the token's holder (SWITCHBOARD_METRICS_TOKEN) or loopback clients. */
export function metricsRoute(metrics: Metrics, token: string | undefined): (app: FastifyInstance) => void {
  return (app) => {
    app.get('/metrics', async (request, reply) => {
      if (!mayScrape(request, token)) {
        const message = token
          ? 'GET /metrics needs Authorization: Bearer <SWITCHBOARD_METRICS_TOKEN>'
          : 'GET /metrics answers loopback clients only; set SWITCHBOARD_METRICS_TOKEN to scrape from elsewhere';
        return reply.code(token ? 401 : 403).send({ error: { code: token ? 'UNAUTHENTICATED' : 'FORBIDDEN', message } });
      }
      const text = await metrics.render();
      return reply.type(metrics.registry.contentType).header('cache-control', 'no-store').send(text);
    });
  };
}
