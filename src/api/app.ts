import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { GraphQLError } from './graphql/graphql-runtime.ts';
import { fastifyClientError, toPublicError } from './errors.ts';
import { isGraphQLPath, registerGraphQLRoutes } from './graphql/executor.ts';
import { registerRestRoutes } from './rest/routes.ts';
import type { Services } from '../services.ts';

export interface AppOptions {
  services: Services;
  logger: Logger;
  /** Throws when the server cannot serve (e.g. the database is away); GET /healthz answers 503 then. */
  checkHealth: () => Promise<void>;
  /** Extra routes mounted by the composition root (metrics, the UI). */
  plugins?: Array<(app: FastifyInstance) => Promise<void> | void>;
}

/** Largest request body accepted; a single record's event payload has its own 1 MiB limit. */
export const BODY_LIMIT_BYTES = 8 * 1024 * 1024;

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** An error before the route ran (e.g. the database is away while authenticating): 503 then, in the route's shape. */
function failedBeforeRoute(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const { status, code, message } = toPublicError(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed before its route');
  if (isGraphQLPath(request.url)) {
    return reply.code(status).send({ data: null, errors: [{ message, extensions: { code } }] });
  }
  return reply.code(status).send({ error: { code, message } });
}

function unauthenticated(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const message = request.headers.authorization
    ? 'the API key is not valid (unknown or revoked)'
    : 'missing API key: send Authorization: Bearer <api key>';
  if (isGraphQLPath(request.url)) {
    return reply.code(401).send({ data: null, errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] });
  }
  return reply.code(401).send({ error: { code: 'UNAUTHENTICATED', message } });
}

function isProtected(url: string): boolean {
  return isGraphQLPath(url) || url.startsWith('/rest/');
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { services } = options;
  const app: FastifyInstance = Fastify({ loggerInstance: options.logger as FastifyBaseLogger, bodyLimit: BODY_LIMIT_BYTES,
    // Per-request lines would drown the delivery logs; errors are logged by the handlers below.
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.addHook('onRequest', async (request, reply) => {
    if (!isProtected(request.url) || request.method === 'OPTIONS') return;
    const token = bearerToken(request);
    let caller: Awaited<ReturnType<typeof services.workspaces.authenticate>>;
    try {
      caller = token ? await services.workspaces.authenticate(token) : undefined;
    } catch (error) {
      // Answered here, in the shape of the route the request was for.
      return failedBeforeRoute(request, reply, error);
    }
    if (!caller) return unauthenticated(request, reply);
    request.caller = caller;
  });

  app.setErrorHandler((error: unknown, request, reply) => {
    const clientError = error instanceof GraphQLError ? undefined : fastifyClientError(error);
    if (clientError) return reply.code(clientError.status).send({ error: { code: clientError.code, message: clientError.message } });
    const publicError = toPublicError(error);
    if (publicError.status >= 500) request.log.error({ err: error }, 'request failed');
    // REST tells a well-formed request that breaks a rule (422) from one it cannot read (400).
    if (publicError.code === 'BAD_USER_INPUT') publicError.status = 422;
    return reply.code(publicError.status).send({
      error: { code: publicError.code, message: publicError.message, ...(publicError.field ? { field: publicError.field } : {}) },
    });
  });

  await registerGraphQLRoutes(app, services);

  app.get('/healthz', async (_request, reply) => {
    try {
      await options.checkHealth();
      return { status: 'ok' };
    } catch (error) {
      return reply.code(503).send({ status: 'unavailable', error: toPublicError(error).message });
    }
  });

  await registerRestRoutes(app, services);
  for (const plugin of options.plugins ?? []) await plugin(app);
  return app;
}
