import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidInput, notFound } from '../../domain/errors.ts';
import { INSTANT_RANGE, parseIsoDateTime } from '../../domain/records.ts';
import { DEFAULT_DELIVERY_PAGE_SIZE, type DeliveryWithAttempts } from '../../delivery-log/service.ts';
import type { DeliveryStatus } from '../../storage/schema.ts';
import { requireCaller, type TakeTestSend } from '../context.ts';
import type { Services } from '../../services.ts';
import { dataOf, DELIVERY_PAGE_LIMIT, ERROR_RESPONSES, idParams, pageOf, paginationQuery, ref } from './schemas.ts';

type DeliveryQuery = {
  status?: string;
  operation?: string;
  recordId?: string;
  eventId?: string;
  createdAfter?: string;
  createdBefore?: string;
  limit?: number;
  cursor?: string;
};

const isoText = (description: string) => ({ type: 'string', format: 'date-time', description: `ISO 8601, ${INSTANT_RANGE}; ${description}` });

const listQuery = {
  type: 'object',
  properties: {
    status: { type: 'string', description: 'PENDING, SUCCEEDED or FAILED' },
    operation: { type: 'string', description: 'One exact operation, e.g. person.updated' },
    recordId: { type: 'string', format: 'uuid' },
    eventId: { type: 'string', format: 'uuid' },
    createdAfter: isoText('inclusive'),
    createdBefore: isoText('exclusive'),
    ...paginationQuery(DELIVERY_PAGE_LIMIT, DEFAULT_DELIVERY_PAGE_SIZE),
  },
};

/** An ISO 8601 instant inside the storable range, or BAD_USER_INPUT naming `field`. */
function parseInstant(field: string, text: unknown): Date {
  const iso = typeof text === 'string' ? parseIsoDateTime(text) : undefined;
  if (!iso) throw invalidInput(field, `must be an ISO 8601 date ${INSTANT_RANGE}, e.g. 2024-03-04T11:00:00Z`);
  return new Date(iso);
}
const optionalInstant = (field: string, text: string | null | undefined) => (text === undefined || text === null ? undefined : parseInstant(field, text));

const tags = ['deliveries'];
type WithWebhook = FastifyRequest<{ Params: { id: string }; Querystring: DeliveryQuery }>;
type WithDelivery = FastifyRequest<{ Params: { id: string; deliveryId: string } }>;
type WithBody<B> = FastifyRequest<{ Params: { id: string }; Body: B }>;

/** The delivery log of one webhook under `/rest/webhooks/:id/…`, in the `{ data: { <name>: … } }` shape. */
export async function registerDeliveryRoutes(app: FastifyInstance, services: Services, takeTestSend: TakeTestSend): Promise<void> {
  const log = services.deliveryLog;
  const workspace = (request: FastifyRequest) => requireCaller(request).workspaceId;
  const delivery = ref('Delivery');

  /** The delivery of the path, which must be one of the path's webhook: another webhook's is not found here. */
  async function deliveryOfWebhook(request: WithDelivery): Promise<DeliveryWithAttempts> {
    const found = await log.get(workspace(request), request.params.deliveryId);
    if (found.webhookId !== request.params.id.toLowerCase()) throw notFound('delivery', request.params.deliveryId);
    return found;
  }

  app.get('/rest/webhooks/:id/deliveries', {
    schema: { tags, summary: "A webhook's deliveries, newest first", params: idParams('id'), querystring: listQuery, response: { 200: pageOf('webhookDeliveries', delivery), ...ERROR_RESPONSES } },
    handler: async (request: WithWebhook) => {
      const query = request.query;
      const page = await log.list(workspace(request), {
        webhookId: request.params.id,
        status: query.status?.toUpperCase() as DeliveryStatus | undefined,
        operation: query.operation,
        recordId: query.recordId,
        eventId: query.eventId,
        createdAfter: optionalInstant('createdAfter', query.createdAfter),
        createdBefore: optionalInstant('createdBefore', query.createdBefore),
        first: query.limit,
        after: query.cursor,
        argumentNames: { first: 'limit', after: 'cursor' },
      });
      return { data: { webhookDeliveries: page.edges.map((edge) => edge.node) }, pageInfo: page.pageInfo, totalCount: page.totalCount };
    },
  });

  app.get('/rest/webhooks/:id/deliveries/:deliveryId', {
    schema: { tags, summary: 'One delivery with its attempts', params: idParams('id', 'deliveryId'), response: { 200: dataOf('webhookDelivery', delivery), ...ERROR_RESPONSES } },
    handler: async (request: WithDelivery) => ({ data: { webhookDelivery: await deliveryOfWebhook(request) } }),
  });

  app.post('/rest/webhooks/:id/deliveries/:deliveryId/redeliver', {
    schema: { tags, summary: 'A new attempt now, whatever the status', params: idParams('id', 'deliveryId'), response: { 200: dataOf('redeliver', delivery), ...ERROR_RESPONSES } },
    handler: async (request: WithDelivery) => {
      await deliveryOfWebhook(request);
      return { data: { redeliver: await log.redeliver(workspace(request), request.params.deliveryId) } };
    },
  });

  app.post('/rest/webhooks/:id/recover', {
    schema: {
      tags,
      summary: 'Queue again every FAILED delivery created since a time',
      params: idParams('id'),
      body: { type: 'object', properties: { since: isoText('the oldest delivery to queue again') }, required: ['since'], additionalProperties: false },
      response: {
        200: dataOf('recoverWebhook', { type: 'object', properties: { webhookId: { type: 'string' }, since: { type: 'string', format: 'date-time' }, queued: { type: 'integer' } } }),
        ...ERROR_RESPONSES,
      },
    },
    handler: async (request: WithBody<{ since: string }>) => {
      const since = parseInstant('since', request.body.since);
      const queued = await log.recover(workspace(request), request.params.id, since);
      return { data: { recoverWebhook: { webhookId: request.params.id, since, queued } } };
    },
  });

  app.post('/rest/webhooks/:id/replay', {
    schema: {
      tags,
      summary: 'Queue a delivery for every stored event in [since, until) the webhook matches now',
      params: idParams('id'),
      body: {
        type: 'object',
        properties: { since: isoText('inclusive'), until: { ...isoText('exclusive; default now'), type: ['string', 'null'] } },
        required: ['since'],
        additionalProperties: false,
      },
      response: {
        200: dataOf('replayWebhookEvents', {
          type: 'object',
          properties: {
            webhookId: { type: 'string' },
            since: { type: 'string', format: 'date-time' },
            until: { type: 'string', format: 'date-time' },
            queued: { type: 'integer' },
            retainedSince: { type: ['string', 'null'], format: 'date-time', description: 'the oldest instant retention keeps, when the window starts before it; else null' },
          },
        }),
        ...ERROR_RESPONSES,
      },
    },
    handler: async (request: WithBody<{ since: string; until?: string | null }>) => {
      const since = parseInstant('since', request.body.since);
      const until = optionalInstant('until', request.body.until);
      return { data: { replayWebhookEvents: await log.replay(workspace(request), request.params.id, since, until) } };
    },
  });

  app.post('/rest/webhooks/:id/test', {
    schema: {
      tags,
      summary: 'Sign and send a sample event now; stores nothing',
      params: idParams('id'),
      body: { type: ['object', 'null'], properties: { operation: { type: ['string', 'null'], description: 'e.g. person.created' } }, additionalProperties: false },
      response: { 200: dataOf('sendTestWebhook', ref('TestAttempt')), ...ERROR_RESPONSES },
    },
    handler: async (request: WithBody<{ operation?: string | null } | null | undefined>) => {
      await takeTestSend(request);
      return { data: { sendTestWebhook: await log.sendTest(workspace(request), request.params.id, request.body?.operation) } };
    },
  });

  app.get('/rest/webhooks/:id/stats', {
    schema: { tags, summary: 'Attempt figures of the last 24 hours', params: idParams('id'), response: { 200: dataOf('webhookStats', ref('WebhookStats')), ...ERROR_RESPONSES } },
    handler: async (request: FastifyRequest<{ Params: { id: string } }>) => ({ data: { webhookStats: await log.stats(workspace(request), request.params.id) } }),
  });
}
