import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DocumentNode, GraphQLError as GraphQLErrorInstance, GraphQLSchema, ParseOptions, ValidationRule } from 'graphql';
import type { Services } from '../../services.ts';
import type { ApiContext } from '../context.ts';
import { fastifyClientError, toPublicError } from '../errors.ts';
import { execute, GraphQLError, parse, specifiedRules, validate } from './graphql-runtime.ts';
import { workspaceSchema } from './schema.ts';

/**
 * Validation rules run on every document after graphql's own and before anything executes.
 * THE place to plug checks of a whole document in (e.g. cost limits): a rule that reports an error stops the
 * request with HTTP 400 and nothing runs.
 */
export const EXTRA_VALIDATION_RULES: ValidationRule[] = [];

/** Options of graphql's parser (e.g. `maxTokens`, which bounds the work of parsing a hostile document). */
export const PARSE_OPTIONS: ParseOptions = {};

interface GraphQLBody {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

interface FormattedError {
  message: string;
  locations?: GraphQLErrorInstance['locations'];
  path?: GraphQLErrorInstance['path'];
  extensions: { code: string; field?: string };
}

function badRequest(reply: FastifyReply, message: string, code = 'BAD_REQUEST'): FastifyReply {
  return reply.code(400).send({ data: null, errors: [{ message, extensions: { code } }] });
}

/** What a client may see of one error; `unavailable` when the database being away caused it (HTTP 503). */
function formatError(error: GraphQLErrorInstance, logger: FastifyBaseLogger): { formatted: FormattedError; unavailable: boolean } {
  const original = error.originalError;
  const where = { locations: error.locations, path: error.path };
  if (!original || original instanceof GraphQLError) {
    // Raised by graphql itself or by a scalar: the message is already meant for the client.
    const code = (original?.extensions?.code ?? error.extensions?.code ?? 'GRAPHQL_VALIDATION_FAILED') as string;
    return { formatted: { message: error.message, ...where, extensions: { code } }, unavailable: false };
  }
  const clientError = fastifyClientError(original);
  if (clientError) return { formatted: { message: clientError.message, ...where, extensions: { code: clientError.code } }, unavailable: false };
  const publicError = toPublicError(original);
  if (publicError.status >= 500 && publicError.status !== 503) logger.error({ err: original }, 'GraphQL resolver failed');
  return {
    formatted: {
      message: publicError.message,
      ...where,
      extensions: { code: publicError.code, ...(publicError.field ? { field: publicError.field } : {}) },
    },
    unavailable: publicError.status === 503,
  };
}

/**
 * Runs one GraphQL request against the caller's workspace schema (its custom objects and fields included).
 * HTTP status: 400 when the document cannot run (syntax, validation, variables), 503 when the database is away,
 * else 200 with data and any resolver errors.
 */
async function runGraphQL(request: FastifyRequest, reply: FastifyReply, services: Services): Promise<FastifyReply> {
  const caller = request.caller;
  if (!caller) throw new Error('GraphQL request reached the route without a caller');
  const body = (request.body ?? {}) as GraphQLBody;
  if (typeof body !== 'object' || Array.isArray(body)) return badRequest(reply, 'the body must be a JSON object { query, variables, operationName }');
  if (typeof body.query !== 'string' || body.query.length === 0) return badRequest(reply, 'query: must be a GraphQL document (a string)');
  if (body.variables !== undefined && body.variables !== null && (typeof body.variables !== 'object' || Array.isArray(body.variables))) {
    return badRequest(reply, 'variables: must be an object');
  }
  if (body.operationName !== undefined && body.operationName !== null && typeof body.operationName !== 'string') {
    return badRequest(reply, 'operationName: must be a string');
  }

  let document: DocumentNode;
  try {
    document = parse(body.query, PARSE_OPTIONS);
  } catch (error) {
    return badRequest(reply, (error as Error).message, 'GRAPHQL_PARSE_FAILED');
  }
  // The schema is taken once: a metadata change during this request does not alter what it runs against.
  const schema: GraphQLSchema = workspaceSchema(await services.metadata.model(caller.workspaceId));
  const validationErrors = validate(schema, document, [...specifiedRules, ...EXTRA_VALIDATION_RULES]);
  if (validationErrors.length > 0) {
    return reply.code(400).send({ data: null, errors: validationErrors.map((error) => formatError(error, request.log).formatted) });
  }

  const contextValue: ApiContext = { ...caller, services };
  const result = await execute({
    schema,
    document,
    contextValue,
    variableValues: (body.variables ?? undefined) as Record<string, unknown> | undefined,
    operationName: (body.operationName ?? undefined) as string | undefined,
  });
  const formatted = (result.errors ?? []).map((error) => formatError(error, request.log));
  const errors = formatted.map((entry) => entry.formatted);
  // No data at all: the document could not start (bad variables, unknown operation name).
  const status = !('data' in result) || result.data === undefined ? 400 : formatted.some((entry) => entry.unavailable) ? 503 : 200;
  return reply.code(status).send({ data: result.data ?? null, ...(errors.length > 0 ? { errors } : {}) });
}

/** Whether a URL is served by the GraphQL routes (their errors take GraphQL's shape). */
export function isGraphQLPath(url: string): boolean {
  return url.startsWith('/graphql') || url.startsWith('/metadata');
}

/**
 * POST /graphql and POST /metadata (Twenty's clients send metadata documents there): one schema, the caller's
 * workspace's. Errors fastify raises before the route (unreadable JSON, a body too large) answer in GraphQL's shape.
 */
export async function registerGraphQLRoutes(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler((error, request, reply) => {
      const clientError = fastifyClientError(error);
      if (clientError) {
        return reply.code(clientError.status).send({ data: null, errors: [{ message: clientError.message, extensions: { code: clientError.code } }] });
      }
      const publicError = toPublicError(error);
      if (publicError.status >= 500 && publicError.status !== 503) request.log.error({ err: error }, 'GraphQL request failed');
      return reply.code(publicError.status).send({
        data: null,
        errors: [{ message: publicError.message, extensions: { code: publicError.code, ...(publicError.field ? { field: publicError.field } : {}) } }],
      });
    });
    for (const path of ['/graphql', '/metadata']) scope.post(path, (request, reply) => runGraphQL(request, reply, services));
  });
}
