import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidInput, SwitchboardError } from '../../domain/errors.ts';
import type { ObjectSpec } from '../../domain/records.ts';
import { DEFAULT_PAGE_SIZE } from '../../records/service.ts';
import { requireCaller } from '../context.ts';
import type { Services } from '../../services.ts';
import { recordValidators } from './record-schemas.ts';
import { ERROR_RESPONSES, paginationQuery, ref, RECORD_PAGE_LIMIT } from './schemas.ts';
import { assertValid } from './validation.ts';

/**
 * The routes' own schemas are the same for every object (Fastify's are fixed when a route is registered); a body is
 * checked against its object's schema, built from the workspace's metadata (record-schemas.ts), in the handler.
 * The OpenAPI document of a workspace replaces these generic paths by one per object (openapi.ts).
 */
export const RECORD_ROUTE_TAG = 'records';

const pluralParams = { type: 'object', required: ['plural'], properties: { plural: { type: 'string', description: "The object's namePlural" } } };
const recordParams = {
  type: 'object',
  required: ['plural', 'id'],
  properties: { ...pluralParams.properties, id: { type: 'string', description: 'A UUID (any other value names nothing: 404)' } },
};
const listQuery = {
  type: 'object',
  properties: {
    ...paginationQuery(RECORD_PAGE_LIMIT, DEFAULT_PAGE_SIZE),
    includeDeleted: { type: 'boolean', description: 'Include soft-deleted records' },
    filter: { type: 'string', description: 'JSON: { field: { eq neq in gt gte lt lte like ilike is } }, and, or, not' },
    orderBy: { type: 'string', description: 'JSON: [{ field: AscNullsFirst|AscNullsLast|DescNullsFirst|DescNullsLast }]' },
  },
};
const deleteQuery = { type: 'object', properties: { hard: { type: 'boolean', description: 'Destroy for good instead of a soft delete' } } };
/** Every record answer: `{ data: { <operation>: record or records } }`; the workspace's document says which. */
const recordAnswer = { type: 'object', properties: { data: { type: 'object', additionalProperties: true } } };
const pageAnswer = { ...recordAnswer, properties: { ...recordAnswer.properties, pageInfo: ref('PageInfo'), totalCount: { type: 'integer' } } };

/** `filter` and `orderBy` travel as JSON in the query string, in the GraphQL arguments' shape. */
function parseJsonParameter(value: string | undefined, name: string): unknown {
  if (value === undefined || value === '') return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw invalidInput(name, 'must be JSON, e.g. filter={"status":{"eq":"SENT"}} or orderBy=[{"createdAt":"DescNullsLast"}]');
  }
}

type ObjectRequest = FastifyRequest<{
  Params: { plural: string; id: string };
  Querystring: { limit?: number; cursor?: string; includeDeleted?: boolean; filter?: string; orderBy?: string; hard?: boolean };
}>;

/** The object a REST path names by its plural, in the caller's workspace (custom objects included). */
async function objectOf(services: Services, request: ObjectRequest): Promise<ObjectSpec> {
  const model = await services.metadata.model(requireCaller(request).workspaceId);
  const object = model.byPlural.get(request.params.plural);
  if (!object) throw new SwitchboardError('NOT_FOUND', `no object is named ${JSON.stringify(request.params.plural)} (plural) in this workspace`);
  return object;
}

/**
 * `/rest/{namePlural}` for every object of the caller's workspace, standard and custom (CONTRACT.md sections 7
 * and 9), in Twenty's REST shape (`{ data: { <operation>: … } }`). Unreadable JSON answers 400, input that breaks
 * a rule 422 (naming the field, e.g. `body.email` or `body[3].email`), unknown objects and ids 404, an oversized
 * record 413, a destroy of a referenced record 409.
 */
export async function registerRecordRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const records = services.records;
  const workspace = (request: FastifyRequest) => requireCaller(request).workspaceId;
  const tags = [RECORD_ROUTE_TAG];
  const response = (answer: object, status = 200) => ({ [status]: answer, ...ERROR_RESPONSES });

  app.get('/rest/:plural', {
    schema: { tags, summary: 'List records', params: pluralParams, querystring: listQuery, response: response(pageAnswer) },
    handler: async (request: ObjectRequest) => {
      const { nameSingular: name, namePlural: plural } = await objectOf(services, request);
      const page = await records.list(workspace(request), name, {
        first: request.query.limit,
        after: request.query.cursor || undefined,
        includeDeleted: request.query.includeDeleted ?? false,
        filter: parseJsonParameter(request.query.filter, 'filter'),
        orderBy: parseJsonParameter(request.query.orderBy, 'orderBy'),
        argumentNames: { first: 'limit', after: 'cursor' },
      });
      return { data: { [plural]: page.edges.map((edge) => edge.node) }, pageInfo: page.pageInfo, totalCount: page.totalCount };
    },
  });

  app.get('/rest/:plural/:id', {
    schema: { tags, summary: 'Get a record', params: recordParams, response: response(recordAnswer) },
    handler: async (request: ObjectRequest) => {
      const { nameSingular: name } = await objectOf(services, request);
      return { data: { [name]: await records.get(workspace(request), name, request.params.id) } };
    },
  });

  // One object creates one record; an array creates them all in one transaction (Twenty's batch).
  const create = async (object: ObjectSpec, request: ObjectRequest, reply: FastifyReply) => {
    const { nameSingular: name, typeName: type, typeNamePlural: typePlural } = object;
    const validators = recordValidators(object);
    if (Array.isArray(request.body)) {
      assertValid(validators.batch, request.body, 'body');
      const created = await records.createMany(workspace(request), name, request.body, { path: 'body' });
      return reply.code(201).send({ data: { [`create${typePlural}`]: created } });
    }
    assertValid(validators.create, request.body ?? null, 'body');
    const created = await records.create(workspace(request), name, request.body, { path: 'body' });
    return reply.code(201).send({ data: { [`create${type}`]: created } });
  };
  app.post('/rest/:plural', {
    schema: { tags, summary: 'Create a record, or a batch from an array', params: pluralParams, response: response(recordAnswer, 201) },
    handler: async (request: ObjectRequest, reply) => create(await objectOf(services, request), request, reply),
  });
  app.post('/rest/batch/:plural', {
    schema: { tags, summary: 'Create a batch of records', params: pluralParams, response: response(recordAnswer, 201) },
    handler: async (request: ObjectRequest, reply) => {
      const object = await objectOf(services, request);
      if (!Array.isArray(request.body)) throw invalidInput('body', `must be an array of ${object.typeName} objects`);
      return create(object, request, reply);
    },
  });

  app.patch('/rest/:plural/:id', {
    schema: { tags, summary: 'Update a record', params: recordParams, response: response(recordAnswer) },
    handler: async (request: ObjectRequest) => {
      const object = await objectOf(services, request);
      assertValid(recordValidators(object).update, request.body ?? null, 'body');
      const updated = await records.update(workspace(request), object.nameSingular, request.params.id, request.body, { path: 'body' });
      return { data: { [`update${object.typeName}`]: updated } };
    },
  });

  // Soft delete by default; ?hard=true destroys the record for good.
  app.delete('/rest/:plural/:id', {
    schema: { tags, summary: 'Delete a record (soft; ?hard=true destroys it)', params: recordParams, querystring: deleteQuery, response: response(recordAnswer) },
    handler: async (request: ObjectRequest) => {
      const { nameSingular: name, typeName: type } = await objectOf(services, request);
      if (request.query.hard) return { data: { [`destroy${type}`]: await records.destroy(workspace(request), name, request.params.id) } };
      return { data: { [`delete${type}`]: await records.softDelete(workspace(request), name, request.params.id) } };
    },
  });

  app.post('/rest/:plural/:id/restore', {
    schema: { tags, summary: 'Restore a soft-deleted record', params: recordParams, response: response(recordAnswer) },
    handler: async (request: ObjectRequest) => {
      const { nameSingular: name, typeName: type } = await objectOf(services, request);
      return { data: { [`restore${type}`]: await records.restore(workspace(request), name, request.params.id) } };
    },
  });
}
