import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SwitchboardError } from '../../domain/errors.ts';
import { requireCaller } from '../context.ts';
import type { Services } from '../../services.ts';
import type { CreateWebhookInput, UpdateWebhookInput, WebhookFieldChanges } from '../../webhooks/service.ts';

/** A body whose shape is wrong (not an object, unknown field, wrong type): 400, before any rule is checked. */
class MalformedBody extends Error {
  constructor(
    readonly field: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

type FieldKind = 'string' | 'nullableString' | 'stringList' | 'object' | 'json';

function checkFields(body: unknown, fields: Record<string, FieldKind>, path = ''): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new MalformedBody(path || undefined, `${path || 'the body'} must be a JSON object`);
  }
  const record = body as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    const name = path ? `${path}.${key}` : key;
    const kind = fields[key];
    if (!kind) throw new MalformedBody(name, `${name}: unknown field (expected ${Object.keys(fields).join(', ')})`);
    if (value === null || value === undefined || kind === 'json') continue;
    const ok =
      kind === 'stringList'
        ? Array.isArray(value) && value.every((item) => typeof item === 'string')
        : kind === 'object'
          ? typeof value === 'object' && !Array.isArray(value)
          : typeof value === 'string';
    if (!ok) {
      const expected = kind === 'stringList' ? 'an array of strings' : kind === 'object' ? 'an object' : 'a string';
      throw new MalformedBody(name, `${name}: must be ${expected}`);
    }
  }
  return record;
}

const CHANGE_FIELDS: Record<string, FieldKind> = {
  targetUrl: 'string',
  operations: 'stringList',
  description: 'nullableString',
  secret: 'nullableString',
  // Checked by the service, which names the bad part of a filter.
  filter: 'json',
  fields: 'stringList',
  ordering: 'string',
};

function parseCreate(body: unknown): CreateWebhookInput {
  const record = checkFields(body, { id: 'string', ...CHANGE_FIELDS });
  if (typeof record.targetUrl !== 'string') throw new MalformedBody('targetUrl', 'targetUrl: is required');
  return record as unknown as CreateWebhookInput;
}

function parseUpdate(id: string, body: unknown): UpdateWebhookInput {
  const record = checkFields(body, { id: 'string', status: 'string', update: 'object', ...CHANGE_FIELDS });
  if (record.id !== undefined && record.id !== null && String(record.id).toLowerCase() !== id.toLowerCase()) {
    throw new MalformedBody('id', 'id: differs from the id in the path');
  }
  const update = record.update === undefined || record.update === null ? record.update : checkFields(record.update, CHANGE_FIELDS, 'update');
  return { ...(record as Omit<UpdateWebhookInput, 'id'>), update: update as WebhookFieldChanges | null | undefined, id };
}

/**
 * `/rest/webhooks` (CONTRACT.md section 7), answering in Twenty's REST shape: `{ data: { <name>: … } }`.
 * Malformed bodies answer 400, rule violations 422, unknown ids 404, a taken id 409.
 */
export async function registerWebhookRoutes(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler((error, _request, reply) => {
      if (error instanceof MalformedBody) {
        return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: error.message, ...(error.field ? { field: error.field } : {}) } });
      }
      if (error instanceof SwitchboardError && error.code === 'BAD_USER_INPUT') {
        return reply.code(422).send({ error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } });
      }
      // Everything else is answered by the application's handler.
      throw error;
    });

    const webhooks = services.webhooks;
    const workspace = (request: FastifyRequest) => requireCaller(request).workspaceId;
    type WithId = FastifyRequest<{ Params: { id: string } }>;

    scope.get('/rest/webhooks', async (request) => {
      const list = await webhooks.list(workspace(request));
      return { data: { webhooks: list }, totalCount: list.length };
    });

    scope.get('/rest/webhooks/:id', async (request: WithId) => ({
      data: { webhook: await webhooks.get(workspace(request), request.params.id) },
    }));

    scope.post('/rest/webhooks', async (request, reply: FastifyReply) => {
      const created = await webhooks.create(workspace(request), parseCreate(request.body));
      return reply.code(201).send({ data: { createWebhook: created } });
    });

    scope.patch('/rest/webhooks/:id', async (request: WithId) => ({
      data: { updateWebhook: await webhooks.update(workspace(request), parseUpdate(request.params.id, request.body)) },
    }));

    scope.delete('/rest/webhooks/:id', async (request: WithId) => ({
      data: { deleteWebhook: await webhooks.delete(workspace(request), request.params.id) },
    }));

    scope.post('/rest/webhooks/:id/rotate-secret', async (request: WithId) => ({
      data: { rotateWebhookSecret: await webhooks.rotateSecret(workspace(request), request.params.id) },
    }));
  });
}
