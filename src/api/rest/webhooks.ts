import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidInput } from '../../domain/errors.ts';
import { requireCaller } from '../context.ts';
import type { Services } from '../../services.ts';
import type { CreateWebhookInput, UpdateWebhookInput } from '../../webhooks/service.ts';
import { dataOf, ERROR_RESPONSES, idParams, ref } from './schemas.ts';

const nullableString = { type: ['string', 'null'] };
const stringList = { type: ['array', 'null'], items: { type: 'string' } };
const ordering = { type: ['string', 'null'], enum: ['NONE', 'PER_RECORD', null] };

/** The fields a create, an update and Twenty's nested `update` may change (their rules are the service's). */
const CHANGE_FIELDS = {
  targetUrl: { type: 'string', description: 'Absolute http(s) URL, at most 2048 characters' },
  operations: { ...stringList, description: '{object}.{action} entries; default ["*.*"]' },
  description: nullableString,
  secret: { ...nullableString, description: 'Generated (whsec_…) when absent or empty' },
  filter: { description: 'A record filter (JSON) in the records list grammar; null: every record' },
  fields: { ...stringList, description: 'updated events: deliver only when one of these fields changed' },
  ordering,
};

const createBody = {
  type: 'object',
  properties: { id: { ...nullableString, description: 'Optional: a UUID chosen by the client' }, ...CHANGE_FIELDS },
  required: ['targetUrl'],
  additionalProperties: false,
};

const updateBody = {
  type: 'object',
  properties: {
    id: { ...nullableString, description: 'When given, the id of the path' },
    status: { type: ['string', 'null'], enum: ['ACTIVE', 'DISABLED', null] },
    update: { type: ['object', 'null'], properties: CHANGE_FIELDS, additionalProperties: false, description: "Twenty's nested form" },
    ...CHANGE_FIELDS,
  },
  additionalProperties: false,
};

const tags = ['webhooks'];
const webhook = ref('Webhook');
type WithId = FastifyRequest<{ Params: { id: string } }>;

/**
 * `/rest/webhooks` (CONTRACT.md section 7), answering in Twenty's REST shape: `{ data: { <name>: … } }`.
 * A body of the wrong shape or breaking a rule answers 422 naming the field, unknown ids 404, a taken id 409.
 */
export async function registerWebhookRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const webhooks = services.webhooks;
  const workspace = (request: FastifyRequest) => requireCaller(request).workspaceId;

  app.get('/rest/webhooks', {
    schema: { tags, summary: 'List webhooks', response: { 200: dataOf('webhooks', { type: 'array', items: webhook }, { totalCount: { type: 'integer' } }), ...ERROR_RESPONSES } },
    handler: async (request) => {
      const list = await webhooks.list(workspace(request));
      return { data: { webhooks: list }, totalCount: list.length };
    },
  });

  app.get('/rest/webhooks/:id', {
    schema: { tags, summary: 'Get a webhook', params: idParams('id'), response: { 200: dataOf('webhook', webhook), ...ERROR_RESPONSES } },
    handler: async (request: WithId) => ({ data: { webhook: await webhooks.get(workspace(request), request.params.id) } }),
  });

  app.post('/rest/webhooks', {
    schema: { tags, summary: 'Create a webhook (its secret is in this answer only)', body: createBody, response: { 201: dataOf('createWebhook', webhook), ...ERROR_RESPONSES } },
    handler: async (request, reply) => {
      const created = await webhooks.create(workspace(request), request.body as CreateWebhookInput);
      return reply.code(201).send({ data: { createWebhook: created } });
    },
  });

  app.patch('/rest/webhooks/:id', {
    schema: { tags, summary: 'Update a webhook (flat fields, or nested under update)', params: idParams('id'), body: updateBody, response: { 200: dataOf('updateWebhook', webhook), ...ERROR_RESPONSES } },
    handler: async (request: FastifyRequest<{ Params: { id: string }; Body: Omit<UpdateWebhookInput, 'id'> & { id?: string | null } }>) => {
      const { id } = request.params;
      const body = request.body ?? {};
      if (body.id !== undefined && body.id !== null && body.id.toLowerCase() !== id.toLowerCase()) throw invalidInput('id', 'differs from the id in the path');
      return { data: { updateWebhook: await webhooks.update(workspace(request), { ...body, id }) } };
    },
  });

  app.delete('/rest/webhooks/:id', {
    schema: { tags, summary: 'Delete a webhook (soft)', params: idParams('id'), response: { 200: dataOf('deleteWebhook', webhook), ...ERROR_RESPONSES } },
    handler: async (request: WithId) => ({ data: { deleteWebhook: await webhooks.delete(workspace(request), request.params.id) } }),
  });

  app.post('/rest/webhooks/:id/rotate-secret', {
    schema: { tags, summary: 'Rotate the secret (the previous one keeps signing for 24 h)', params: idParams('id'), response: { 200: dataOf('rotateWebhookSecret', webhook), ...ERROR_RESPONSES } },
    handler: async (request: WithId) => ({ data: { rotateWebhookSecret: await webhooks.rotateSecret(workspace(request), request.params.id) } }),
  });
}
