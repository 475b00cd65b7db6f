import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DocumentNode, GraphQLError as GraphQLErrorInstance, GraphQLSchema, ValidationRule } from 'graphql';
import type { GraphQLLimits } from '../../config.ts';
import type { ErrorCode } from '../../domain/errors.ts';
import type { Services } from '../../services.ts';
import { requireCaller, type ApiContext } from '../context.ts';
import { graphqlErrorBody, toPublicError } from '../errors.ts';
import { limitMessage } from './cost-limits.ts';
import { execute, GraphQLError, parse, specifiedRules, validate } from './graphql-runtime.ts';
import { checkDocumentLimits, graphqlParseOptions, GRAPHQL_ROUTE_PATHS, limitGraphQLBodies, parseLimitMessage } from './limits.ts';
import { RequestBudget } from './request-budget.ts';
import { workspaceSchema } from './schema.ts';

/**
 * Validation rules run on every document after graphql's own and before anything executes. A rule that reports
 * an error stops the request with HTTP 400 and nothing runs. (The cost limits are not here: they run before
 * validation, which compares selections pairwise and must not meet a flood of fields.)
 */
export const EXTRA_VALIDATION_RULES: ValidationRule[] = [];

export interface GraphQLRouteOptions {
  /** What one GraphQL request may ask for. */
  limits: GraphQLLimits;
  /** The context of one request's resolvers, but for its budget (the caller, the services, the test-send budget). */
  context(request: FastifyRequest): Omit<ApiContext, 'budget'>;
}

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

/** What a client may see of one error, and the HTTP status and Retry-After it calls for (none: 200). */
interface ClassifiedError {
  formatted: FormattedError;
  status?: number;
  retryAfterSeconds?: number;
}

function refuse(reply: FastifyReply, message: string, code: ErrorCode | 'BAD_REQUEST' | 'GRAPHQL_PARSE_FAILED' = 'BAD_REQUEST'): FastifyReply {
  return reply.code(400).send({ data: null, errors: [{ message, extensions: { code } }] });
}

function refuseWith(reply: FastifyReply, error: GraphQLErrorInstance): FastifyReply {
  return reply.code(400).send({ data: null, errors: [{ message: error.message, extensions: { code: error.extensions?.code } }] });
}

function classifyError(error: GraphQLErrorInstance, logger: FastifyBaseLogger, limits: GraphQLLimits): ClassifiedError {
  const original = error.originalError;
  const where = { locations: error.locations, path: error.path };
  if (!original || original instanceof GraphQLError) {
    // Raised by graphql itself or by a scalar: the message is already meant for the client.
    const code = (original?.extensions?.code ?? error.extensions?.code ?? 'GRAPHQL_VALIDATION_FAILED') as string;
    return { formatted: { message: error.message, ...where, extensions: { code } } };
  }
  const publicError = toPublicError(original);
  if (publicError.status >= 500 && publicError.status !== 503) logger.error({ err: original }, 'GraphQL resolver failed');
  return {
    formatted: {
      message: publicError.message,
      ...where,
      extensions: { code: publicError.code, ...(publicError.field ? { field: publicError.field } : {}) },
    },
    // The database being away is the server's condition and a rate limit the caller's pace, not the query's.
    status: publicError.status === 503 || publicError.status === 429 ? publicError.status : undefined,
    retryAfterSeconds: publicError.retryAfterSeconds,
  };
}

/** A query sent as a JSON syntax tree (which some servers accept) instead of GraphQL text. */
function isSyntaxTree(query: string): boolean {
  if (!query.trimStart().startsWith('{"')) return false;
  try {
    const parsed: unknown = JSON.parse(query);
    return typeof parsed === 'object' && parsed !== null && 'kind' in parsed;
  } catch {
    return false;
  }
}

const SYNTAX_TREE_REFUSAL = 'query: must be a GraphQL document (text), not a syntax tree';

/**
 * Runs one GraphQL request against the caller's workspace schema (its custom objects and fields included), within
 * the GraphQL limits: the document's size, its tokens (while parsing), its shape and cost (after parsing, before
 * validation, and again with the variables before executing), then time and bytes read while resolving.
 * HTTP status: 400 when the document cannot run (syntax, limits, validation, variables), 429 when a rate limit
 * refused a field, 503 when the database is away, else 200 with data and any resolver errors.
 */
async function runGraphQL(request: FastifyRequest, reply: FastifyReply, services: Services, options: GraphQLRouteOptions): Promise<FastifyReply> {
  const { limits } = options;
  const caller = requireCaller(request);
  const body = (request.body ?? {}) as GraphQLBody;
  if (typeof body !== 'object' || Array.isArray(body)) return refuse(reply, 'the body must be a JSON object { query, variables, operationName }');
  if (typeof body.query === 'object' && body.query !== null) return refuse(reply, SYNTAX_TREE_REFUSAL, 'BAD_USER_INPUT');
  if (typeof body.query !== 'string' || body.query.length === 0) return refuse(reply, 'query: must be a GraphQL document (a string)');
  if (body.variables !== undefined && body.variables !== null && (typeof body.variables !== 'object' || Array.isArray(body.variables))) {
    return refuse(reply, 'variables: must be an object');
  }
  if (body.operationName !== undefined && body.operationName !== null && typeof body.operationName !== 'string') {
    return refuse(reply, 'operationName: must be a string');
  }
  const variables = (body.variables ?? undefined) as Record<string, unknown> | undefined;

  const bytes = Buffer.byteLength(body.query);
  if (bytes > limits.maxDocumentBytes) {
    return refuse(reply, limitMessage('maxDocumentBytes', bytes, limits.maxDocumentBytes), 'QUERY_TOO_COMPLEX');
  }
  let document: DocumentNode;
  try {
    document = parse(body.query, graphqlParseOptions(limits));
  } catch (error) {
    const tooLarge = parseLimitMessage(error as Error, limits);
    if (tooLarge) return refuse(reply, tooLarge, 'QUERY_TOO_COMPLEX');
    if (isSyntaxTree(body.query)) return refuse(reply, SYNTAX_TREE_REFUSAL, 'BAD_USER_INPUT');
    return refuse(reply, (error as Error).message, 'GRAPHQL_PARSE_FAILED');
  }
  // The schema is taken once: a metadata change during this request does not alter what it runs against.
  const schema: GraphQLSchema = workspaceSchema(await services.metadata.model(caller.workspaceId));
  const shapeRefusal = checkDocumentLimits(document, schema, limits);
  if (shapeRefusal) return refuseWith(reply, shapeRefusal);
  const validationErrors = validate(schema, document, [...specifiedRules, ...EXTRA_VALIDATION_RULES]);
  if (validationErrors.length > 0) {
    return reply.code(400).send({ data: null, errors: validationErrors.map((error) => classifyError(error, request.log, limits).formatted) });
  }
  // Page sizes given in variables are known only now.
  const costRefusal = checkDocumentLimits(document, schema, limits, variables);
  if (costRefusal) return refuseWith(reply, costRefusal);

  const contextValue: ApiContext = { ...options.context(request), budget: new RequestBudget(limits) };
  const result = await execute({
    schema,
    document,
    contextValue,
    variableValues: variables,
    operationName: (body.operationName ?? undefined) as string | undefined,
  });
  const classified = (result.errors ?? []).map((error) => classifyError(error, request.log, limits));
  const errors = classified.map((entry) => entry.formatted);
  const tooComplex = errors.filter((error) => error.extensions.code === 'QUERY_TOO_COMPLEX');
  // A query past a limit is refused whole; a mutation keeps what tells the caller which writes happened.
  if (tooComplex.length > 0 && !contextValue.budget.wroteData) {
    return reply.code(400).send({ data: null, errors: tooComplex.slice(0, 1) });
  }
  const retryAfter = classified.find((entry) => entry.retryAfterSeconds !== undefined)?.retryAfterSeconds;
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  // No data at all: the document could not start (bad variables, unknown operation name).
  const status =
    !('data' in result) || result.data === undefined
      ? 400
      : (classified.find((entry) => entry.status === 503)?.status ?? classified.find((entry) => entry.status === 429)?.status ?? 200);
  return reply.code(status).send({ data: result.data ?? null, ...(errors.length > 0 ? { errors } : {}) });
}

/**
 * POST /graphql and POST /metadata (Twenty's clients send metadata documents there): one schema, the caller's
 * workspace's, and a smaller body limit than the rest of the API. Errors fastify raises before the route
 * (unreadable JSON, a body too large) answer in GraphQL's shape.
 */
export async function registerGraphQLRoutes(app: FastifyInstance, services: Services, options: GraphQLRouteOptions): Promise<void> {
  const { limits } = options;
  await app.register(async (scope) => {
    limitGraphQLBodies(scope, limits);
    scope.setErrorHandler((error, request, reply) => {
      const publicError = toPublicError(error);
      // Fastify's own 413 names its limit; GraphQL's body limit is the one that applies here.
      if (publicError.code === 'PAYLOAD_TOO_LARGE') publicError.message = limitMessage('maxBodyBytes', undefined, limits.maxBodyBytes);
      if (publicError.retryAfterSeconds !== undefined) reply.header('retry-after', String(publicError.retryAfterSeconds));
      if (publicError.status >= 500 && publicError.status !== 503) request.log.error({ err: error }, 'GraphQL request failed');
      return reply.code(publicError.status).send(graphqlErrorBody(publicError));
    });
    for (const path of GRAPHQL_ROUTE_PATHS) scope.post(path, (request, reply) => runGraphQL(request, reply, services, options));
  });
}
