import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidInput } from '../../domain/errors.ts';
import { INSTANT_RANGE, parseIsoDateTime } from '../../domain/records.ts';
import type { DeliveryStatus } from '../../storage/schema.ts';
import { requireCaller, type TakeTestSend } from '../context.ts';
import type { Services } from '../../services.ts';

type DeliveryQuery = {
  status?: string;
  operation?: string;
  recordId?: string;
  eventId?: string;
  createdAfter?: string;
  createdBefore?: string;
  limit?: string;
  cursor?: string;
};
type WithWebhook = FastifyRequest<{ Params: { id: string }; Querystring: DeliveryQuery }>;

function parseInstant(field: string, text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const iso = parseIsoDateTime(text);
  if (!iso) throw invalidInput(field, `must be an ISO 8601 date ${INSTANT_RANGE}, e.g. 2024-03-04T11:00:00Z`);
  return new Date(iso);
}

/** A query parameter given twice arrives as an array: one value per filter. */
function single(query: DeliveryQuery): DeliveryQuery {
  for (const [name, value] of Object.entries(query)) {
    if (typeof value !== 'string') throw invalidInput(name, 'must be given once');
  }
  return query;
}
type WithDelivery = FastifyRequest<{ Params: { id: string; deliveryId: string } }>;

function parseLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const limit = Number(text);
  if (!Number.isInteger(limit)) throw invalidInput('limit', 'must be an integer');
  return limit;
}

/** A JSON object body, or {} when there is none. */
function bodyObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw invalidInput('body', 'must be a JSON object');
  return body as Record<string, unknown>;
}

function parseDate(value: unknown, field: string): Date {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(Date.parse(value))) {
    throw invalidInput(field, 'must be an ISO 8601 date, e.g. 2024-03-04T11:00:00Z');
  }
  return new Date(value);
}

/** The delivery log of one webhook under `/rest/webhooks/:id/…`, in the `{ data: { <name>: … } }` shape. */
export async function registerDeliveryRoutes(app: FastifyInstance, services: Services, takeTestSend: TakeTestSend): Promise<void> {
  const log = services.deliveryLog;
  const workspace = (request: FastifyRequest) => requireCaller(request).workspaceId;

  app.get('/rest/webhooks/:id/deliveries', async (request: WithWebhook) => {
    const query = single(request.query ?? {});
    const page = await log.list(workspace(request), {
      webhookId: request.params.id,
      status: query.status?.toUpperCase() as DeliveryStatus | undefined,
      operation: query.operation,
      recordId: query.recordId,
      eventId: query.eventId,
      createdAfter: parseInstant('createdAfter', query.createdAfter),
      createdBefore: parseInstant('createdBefore', query.createdBefore),
      first: parseLimit(query.limit),
      after: query.cursor,
      argumentNames: { first: 'limit', after: 'cursor' },
    });
    return {
      data: { webhookDeliveries: page.edges.map((edge) => edge.node) },
      pageInfo: page.pageInfo,
      totalCount: page.totalCount,
    };
  });

  app.get('/rest/webhooks/:id/deliveries/:deliveryId', async (request: WithDelivery) => {
    const delivery = await log.get(workspace(request), request.params.deliveryId);
    if (delivery.webhookId !== request.params.id) throw invalidInput('deliveryId', 'belongs to another webhook');
    return { data: { webhookDelivery: delivery } };
  });

  app.post('/rest/webhooks/:id/deliveries/:deliveryId/redeliver', async (request: WithDelivery) => {
    const current = await log.get(workspace(request), request.params.deliveryId);
    if (current.webhookId !== request.params.id) throw invalidInput('deliveryId', 'belongs to another webhook');
    return { data: { redeliver: await log.redeliver(workspace(request), request.params.deliveryId) } };
  });

  app.post('/rest/webhooks/:id/recover', async (request: FastifyRequest<{ Params: { id: string }; Body: { since?: unknown } }>) => {
    const given = request.body?.since;
    const iso = typeof given === 'string' ? parseIsoDateTime(given) : undefined;
    if (!iso) throw invalidInput('since', `must be an ISO 8601 date ${INSTANT_RANGE}, e.g. 2024-03-04T11:00:00Z`);
    const since = new Date(iso);
    const queued = await log.recover(workspace(request), request.params.id, since);
    return { data: { recoverWebhook: { webhookId: request.params.id, since, queued } } };
  });

  app.post('/rest/webhooks/:id/replay', async (request: FastifyRequest<{ Params: { id: string }; Body: unknown }>) => {
    const body = bodyObject(request.body);
    const since = parseDate(body.since, 'since');
    const until = body.until === undefined || body.until === null ? undefined : parseDate(body.until, 'until');
    return { data: { replayWebhookEvents: await log.replay(workspace(request), request.params.id, since, until) } };
  });

  app.post('/rest/webhooks/:id/test', async (request: FastifyRequest<{ Params: { id: string }; Body: unknown }>) => {
    const body = bodyObject(request.body);
    if (body.operation !== undefined && body.operation !== null && typeof body.operation !== 'string') {
      throw invalidInput('operation', 'must be a string such as person.created');
    }
    await takeTestSend(request);
    return { data: { sendTestWebhook: await log.sendTest(workspace(request), request.params.id, body.operation as string | null | undefined) } };
  });

  app.get('/rest/webhooks/:id/stats', async (request: FastifyRequest<{ Params: { id: string } }>) => ({
    data: { webhookStats: await log.stats(workspace(request), request.params.id) },
  }));
}
