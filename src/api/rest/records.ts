import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidInput, SwitchboardError } from '../../domain/errors.ts';
import type { ObjectSpec } from '../../domain/records.ts';
import { requireCaller } from '../context.ts';
import type { Services } from '../../services.ts';

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

/** `filter` and `orderBy` travel as JSON in the query string, in the GraphQL arguments' shape. */
function parseJsonParameter(value: string | undefined, name: string): unknown {
  if (value === undefined || value === '') return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw invalidInput(name, 'must be JSON, e.g. filter={"status":{"eq":"SENT"}} or orderBy=[{"createdAt":"DescNullsLast"}]');
  }
}

type ObjectRequest = FastifyRequest<{ Params: { plural: string; id: string }; Querystring: Record<string, string | undefined> }>;

/** The object a REST path names by its plural, in the caller's workspace (custom objects included). */
async function objectOf(services: Services, request: ObjectRequest): Promise<ObjectSpec> {
  const model = await services.metadata.model(requireCaller(request).workspaceId);
  const object = model.byPlural.get(request.params.plural);
  if (!object) throw new SwitchboardError('NOT_FOUND', `no object is named ${JSON.stringify(request.params.plural)} (plural) in this workspace`);
  return object;
}

function routes(scope: FastifyInstance, services: Services): void {
  const records = services.records;
  const workspace = (request: FastifyRequest) => requireCaller(request).workspaceId;

  scope.get('/rest/:plural', async (request: ObjectRequest) => {
    const { nameSingular: name, namePlural: plural } = await objectOf(services, request);
    const page = await records.list(workspace(request), name, {
      first: parseLimit(request.query.limit),
      after: request.query.cursor || undefined,
      includeDeleted: parseFlag(request.query.includeDeleted, 'includeDeleted'),
      filter: parseJsonParameter(request.query.filter, 'filter'),
      orderBy: parseJsonParameter(request.query.orderBy, 'orderBy'),
      argumentNames: { first: 'limit', after: 'cursor' },
    });
    return { data: { [plural]: page.edges.map((edge) => edge.node) }, pageInfo: page.pageInfo, totalCount: page.totalCount };
  });

  scope.get('/rest/:plural/:id', async (request: ObjectRequest) => {
    const { nameSingular: name } = await objectOf(services, request);
    return { data: { [name]: await records.get(workspace(request), name, request.params.id) } };
  });

  // One object creates one record; an array creates them all in one transaction (Twenty's batch).
  const create = async (request: ObjectRequest, reply: FastifyReply) => {
    const { nameSingular: name, typeName: type, typeNamePlural: typePlural } = await objectOf(services, request);
    if (Array.isArray(request.body)) {
      const created = await records.createMany(workspace(request), name, request.body, { path: 'body' });
      return reply.code(201).send({ data: { [`create${typePlural}`]: created } });
    }
    const created = await records.create(workspace(request), name, request.body ?? null, { path: 'body' });
    return reply.code(201).send({ data: { [`create${type}`]: created } });
  };
  scope.post('/rest/:plural', create);
  scope.post('/rest/batch/:plural', async (request: ObjectRequest, reply) => {
    const { typeName: type } = await objectOf(services, request);
    if (!Array.isArray(request.body)) throw invalidInput('body', `must be an array of ${type} objects`);
    return create(request, reply);
  });

  scope.patch('/rest/:plural/:id', async (request: ObjectRequest) => {
    const { nameSingular: name, typeName: type } = await objectOf(services, request);
    return { data: { [`update${type}`]: await records.update(workspace(request), name, request.params.id, request.body ?? null, { path: 'body' }) } };
  });

  // Soft delete by default; ?hard=true destroys the record for good.
  scope.delete('/rest/:plural/:id', async (request: ObjectRequest) => {
    const { nameSingular: name, typeName: type } = await objectOf(services, request);
    if (parseFlag(request.query.hard, 'hard')) {
      return { data: { [`destroy${type}`]: await records.destroy(workspace(request), name, request.params.id) } };
    }
    return { data: { [`delete${type}`]: await records.softDelete(workspace(request), name, request.params.id) } };
  });

  scope.post('/rest/:plural/:id/restore', async (request: ObjectRequest) => {
    const { nameSingular: name, typeName: type } = await objectOf(services, request);
    return { data: { [`restore${type}`]: await records.restore(workspace(request), name, request.params.id) } };
  });
}

/**
 * `/rest/{namePlural}` for every object of the caller's workspace, standard and custom (CONTRACT.md sections 7
 * and 9), in Twenty's REST shape (`{ data: { <operation>: … } }`). Unreadable JSON answers 400, input that breaks
 * a rule 422 (naming the field, e.g. `body.email` or `body[3].email`), unknown objects and ids 404, an oversized
 * record 413, a destroy of a referenced record 409.
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
    routes(scope, services);
  });
}
