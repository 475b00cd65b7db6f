import type { FastifyInstance } from 'fastify';
import type { DocumentNode, GraphQLError as GraphQLErrorInstance, GraphQLSchema } from 'graphql';
import type { GraphQLLimits } from '../../config.ts';
import type { ErrorCode } from '../../domain/errors.ts';
import { checkDocumentCost, limitMessage } from './cost-limits.ts';
import { GraphQLError } from './graphql-runtime.ts';

/** Routes that execute GraphQL documents: their bodies get the GraphQL body limit instead of the global one. */
export const GRAPHQL_ROUTE_PATHS: ReadonlySet<string> = new Set(['/graphql', '/metadata']);

/** graphql's parser options that bound parsing: it stops lexing at maxTokens. */
export function graphqlParseOptions(limits: GraphQLLimits): { maxTokens: number } {
  return { maxTokens: limits.maxTokens };
}

/** Gives GraphQL routes registered after this call (in this scope) their own, smaller, body limit. */
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

/** A document refused before execution, as one GraphQL error carrying its code (answered with HTTP 400). */
export function documentRefusal(code: ErrorCode, message: string): GraphQLErrorInstance {
  return new GraphQLError(message, { extensions: { code } });
}

/**
 * The refusal of a document past a shape or cost limit, or undefined when it is within them. Run right after
 * parsing (validation compares selections pairwise, so a flood of fields must not reach it) and again with the
 * request's variables before execution (page sizes may come from variables).
 */
export function checkDocumentLimits(
  document: DocumentNode,
  schema: GraphQLSchema,
  limits: GraphQLLimits,
  variables?: Record<string, unknown>,
): GraphQLErrorInstance | undefined {
  const verdict = checkDocumentCost(document, schema, limits, variables);
  return verdict.ok ? undefined : documentRefusal('QUERY_TOO_COMPLEX', verdict.message);
}
