import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidInput, SwitchboardError } from '../../domain/errors.ts';
import { OBJECT_NAMES, OBJECTS, type ObjectSpec } from '../../domain/records.ts';
import { requireCaller } from '../context.ts';
import type { Services } from '../../services.ts';

type WithId = FastifyRequest<{ Params: { id: string } }>;
type ListRequest = FastifyRequest<{ Querystring: Record<string, string | undefined> }>;

function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw invalidInput('limit', `must be a whole number, not ${JSON.stringify(value)}`);
  return Number(value);
}

function parseFlag(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw invalidInput(name, `must be true or false, not ${JSON.stringify(value)}`);
}

function routesFor(scope: FastifyInstance, services: Services, object: ObjectSpec): void {
  const { nameSingular: name, namePlural: plural, typeName: type, typeNamePlural: typePlural } = object;
  const records = services.records;
  const workspace = (request: FastifyRequest) => requireCaller(request).workspaceId;
  const base = `/rest/${plural}`;

  scope.get(base, async (request: ListRequest) => {
    const page = await records.list(workspace(request), name, {
      first: parseLimit(request.query.limit),
      after: request.query.cursor || undefined,
      includeDeleted: parseFlag(request.query.includeDeleted, 'includeDeleted'),
      argumentNames: { first: 'limit', after: 'cursor' },
    });
    return { data: { [plural]: page.edges.map((edge) => edge.node) }, pageInfo: page.pageInfo, totalCount: page.totalCount };
  });

  scope.get(`${base}/:id`, async (request: WithId) => ({
    data: { [name]: await records.get(workspace(request), name, request.params.id) },
  }));

  // One object creates one record; an array creates them all in one transaction (Twenty's batch).
  const create = async (request: FastifyRequest, reply: FastifyReply) => {
    if (Array.isArray(request.body)) {
      const created = await records.createMany(workspace(request), name, request.body, { path: 'body' });
      return reply.code(201).send({ data: { [`create${typePlural}`]: created } });
    }
    const created = await records.create(workspace(request), name, request.body ?? null, { path: 'body' });
    return reply.code(201).send({ data: { [`create${type}`]: created } });
  };
  scope.post(base, create);
  scope.post(`/rest/batch/${plural}`, async (request, reply) => {
    if (!Array.isArray(request.body)) throw invalidInput('body', `must be an array of ${type} objects`);
    return create(request, reply);
  });

  scope.patch(`${base}/:id`, async (request: WithId) => ({
    data: { [`update${type}`]: await records.update(workspace(request), name, request.params.id, request.body ?? null, { path: 'body' }) },
  }));

  // Soft delete by default; ?hard=true destroys the record for good.
  scope.delete(`${base}/:id`, async (request: FastifyRequest<{ Params: { id: string }; Querystring: { hard?: string } }>) => {
    if (parseFlag(request.query.hard, 'hard')) {
      return { data: { [`destroy${type}`]: await records.destroy(workspace(request), name, request.params.id) } };
    }
    return { data: { [`delete${type}`]: await records.softDelete(workspace(request), name, request.params.id) } };
  });

  scope.post(`${base}/:id/restore`, async (request: WithId) => ({
    data: { [`restore${type}`]: await records.restore(workspace(request), name, request.params.id) },
  }));
}

/**
 * `/rest/people`, `/rest/companies`, `/rest/opportunities` (CONTRACT.md section 7) in Twenty's REST shape
 * (`{ data: { <operation>: … } }`). Unreadable JSON answers 400, input that breaks a rule 422 (naming the field,
 * e.g. `body.email` or `body[3].email`), unknown ids 404, an oversized record 413, a destroy of a referenced record 409.
 */
export async function registerRecordRoutes(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler((error, _request, reply) => {
      if (error instanceof SwitchboardError && error.code === 'BAD_USER_INPUT') {
        return reply.code(422).send({ error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } });
      }
      // Everything else is answered by the application's handler.
      throw error;
    });
    for (const name of OBJECT_NAMES) routesFor(scope, services, OBJECTS[name]);
  });
}
