import type { FastifyInstance } from 'fastify';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { GraphQLLimits } from '../../config.ts';
import type { ErrorCode } from '../../domain/errors.ts';
import { checkDocumentCost, limitMessage } from './cost-limits.ts';
import { GraphQLError, Location } from './graphql-runtime.ts';

/** Routes that execute GraphQL documents: their bodies get the GraphQL body limit instead of the global one. */
export const GRAPHQL_ROUTE_PATHS: ReadonlySet<string> = new Set(['/graphql', '/metadata']);

/** Mercurius' options that bound parsing: it stops lexing at maxTokens. */
export function graphqlParseOptions(limits: GraphQLLimits): { maxTokens: number } {
  return { maxTokens: limits.maxTokens };
}

/** Gives GraphQL routes registered after this call their own, smaller, body limit. */
export function limitGraphQLBodies(app: FastifyInstance, limits: GraphQLLimits): void {
  app.addHook('onRoute', (route) => {
    if (GRAPHQL_ROUTE_PATHS.has(route.url)) route.bodyLimit = limits.maxBodyBytes;
  });
}

const TOKENS_EXCEEDED = /^Syntax Error: Document contains more that? (\d+) tokens/;

/**
 * The QUERY_TOO_COMPLEX message for graphql's parse errors that mean "too large": past maxTokens, or nested deeper than
 * the parser's stack (the depth limit is checked after parsing).
 */
export function parseLimitMessage(parseError: Error, limits: GraphQLLimits): string | undefined {
  const match = TOKENS_EXCEEDED.exec(parseError.message);
  if (match) return limitMessage('maxTokens', undefined, Number(match[1]));
  if (parseError instanceof RangeError) return limitMessage('maxDepth', undefined, limits.maxDepth);
  return undefined;
}

/**
 * A document refused before execution, in the shape mercurius gives its own validation errors (a 400 listing them),
 * so the answer is a 400 whatever error formatter runs.
 */
export function documentRefusal(code: ErrorCode, message: string): Error {
  return Object.assign(new Error(message), { statusCode: 400, errors: [new GraphQLError(message, { extensions: { code } })] });
}

function refuseCostly(document: DocumentNode, schema: GraphQLSchema, limits: GraphQLLimits, variables?: Record<string, unknown>): void {
  const verdict = checkDocumentCost(document, schema, limits, variables);
  if (!verdict.ok) throw documentRefusal('QUERY_TOO_COMPLEX', verdict.message);
}

/**
 * Checks every document mercurius runs: its size before parsing, its shape before validation (validation compares
 * selections pairwise, so a flood of fields must not reach it), and its cost again with the request's variables
 * before execution (mercurius skips parsing and validation for documents it has cached, never this).
 */
export function installGraphQLLimits(app: FastifyInstance, limits: GraphQLLimits): void {
  app.graphql.addHook('preParsing', async (_schema, source) => {
    const bytes = Buffer.byteLength(source);
    if (bytes > limits.maxDocumentBytes) {
      throw documentRefusal('QUERY_TOO_COMPLEX', limitMessage('maxDocumentBytes', bytes, limits.maxDocumentBytes));
    }
  });
  app.graphql.addHook('preValidation', async (schema, document) => {
    // Mercurius reads a query that is not GraphQL as a JSON syntax tree, which bypasses the token limit.
    if (!(document.loc instanceof Location)) {
      throw documentRefusal('BAD_USER_INPUT', 'query: must be a GraphQL document (text), not a syntax tree');
    }
    refuseCostly(document, schema, limits);
  });
  app.graphql.addHook('preExecution', async (schema, document, _context, variables) => {
    refuseCostly(document, schema, limits, variables ?? undefined);
  });
}
