import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type onRequestHookHandler,
  type RouteOptions,
} from 'fastify';
import type { Logger } from 'pino';
import { GraphQLError } from './graphql/graphql-runtime.ts';
import { requireCaller, type ApiContext } from './context.ts';
import { fastifyClientError, toPublicError, type PublicError } from './errors.ts';
import { createRequestLimiter, testSendBudget } from './limits.ts';
import { registerGraphQLRoutes } from './graphql/executor.ts';
import type { GraphQLLimits } from '../config.ts';
import { registerRestRoutes } from './rest/routes.ts';
import type { Services } from '../services.ts';
import type { Config } from '../config.ts';

export interface AppOptions {
  services: Services;
  logger: Logger;
  /** Request limits, timeouts and the proxy setting. */
  config: Pick<Config, 'limits' | 'timeouts' | 'trustProxy'>;
  /** Throws when the server cannot serve (e.g. the database is away); GET /healthz answers 503 then. */
  checkHealth: () => Promise<void>;
  /** What one GraphQL request may ask for. */
  graphqlLimits: GraphQLLimits;
  /** Extra routes mounted by the composition root (metrics, the UI). */
  plugins?: Array<(app: FastifyInstance) => Promise<void> | void>;
}

/** Largest request body accepted; a single record's event payload has its own 1 MiB limit. */
export const BODY_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * Routes under these paths answer only to an API key. The test is made on the route as registered (so whatever
 * registers a route there later is covered too), never on the request's URL text, which the router decodes.
 */
const API_KEY_ROUTE = /^\/(graphql|metadata|rest)(\/|$)/;
const GRAPHQL_ROUTE = /^\/(graphql|metadata)(\/|$)/;

function isGraphQLRoute(request: FastifyRequest): boolean {
  return GRAPHQL_ROUTE.test(request.routeOptions.url ?? '');
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Answers an error in the shape of the matched route: GraphQL's `errors`, or REST's `{ error }`. */
function sendError(request: FastifyRequest, reply: FastifyReply, error: PublicError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) {
    reply.header('retry-after', String(error.retryAfterSeconds));
  }
  const { status, code, message, field } = error;
  if (isGraphQLRoute(request)) {
    return reply.code(status).send({ data: null, errors: [{ message, extensions: { code, ...(field ? { field } : {}) } }] });
  }
  return reply.code(status).send({ error: { code, message, ...(field ? { field } : {}) } });
}

/** An error before the route ran (e.g. the database is away while authenticating): 503 then, in the route's shape. */
function failedBeforeRoute(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const publicError = toPublicError(error);
  if (publicError.status >= 500) request.log.error({ err: error }, 'request failed before its route');
  return sendError(request, reply, publicError);
}

function unauthenticated(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const message = request.headers.authorization
    ? 'the API key is not valid (unknown or revoked)'
    : 'missing API key: send Authorization: Bearer <api key>';
  return sendError(request, reply, { status: 401, code: 'UNAUTHENTICATED', message });
}

function addRouteHook(route: RouteOptions, name: 'onRequest', hook: onRequestHookHandler): void {
  const existing = route[name];
  route[name] = [hook, ...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing])];
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { services, config } = options;
  const { timeouts } = config;
  const app: FastifyInstance = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy,
    // Slow or idle clients (slowloris, a body dripped byte by byte, keep-alive sockets left open) are cut.
    connectionTimeout: timeouts.idleMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    requestTimeout: timeouts.requestMs,
    http: {
      headersTimeout: timeouts.headersMs,
      // Node checks the two timeouts above on this period (30 s by default): a fraction of the shorter keeps them close.
      connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(Math.min(timeouts.headersMs, timeouts.requestMs) / 4))),
    },
    // Per-request lines would drown the delivery logs; errors are logged by the handlers below.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const limiter = await createRequestLimiter(app, config.limits);

  // Every request, even to an unknown route, counts against its address first: a flood is cut before any work.
  app.addHook('onRequest', async (request, reply) => {
    const refusal = await limiter.countAddress(request);
    if (refusal) return sendError(request, reply, toPublicError(refusal));
  });

  const authenticate: onRequestHookHandler = async (request, reply) => {
    if (request.method === 'OPTIONS') return;
    const token = bearerToken(request);
    let caller: Awaited<ReturnType<typeof services.workspaces.authenticate>>;
    try {
      // An address that guessed wrong too often is refused before its key is even looked up.
      const blocked = token ? await limiter.checkAuthFailures(request) : undefined;
      if (blocked) return sendError(request, reply, toPublicError(blocked));
      caller = token ? await services.workspaces.authenticate(token) : undefined;
      if (token && !caller) await limiter.authFailed(request);
    } catch (error) {
      // Answered here, in the shape of the route the request was for.
      return failedBeforeRoute(request, reply, error);
    }
    if (!caller) return unauthenticated(request, reply);
    request.caller = caller;
    const refusal = await limiter.countKey(request);
    if (refusal) return sendError(request, reply, toPublicError(refusal));
  };
  // Protection is a property of the route: added when it is registered, so no path spelling can route around it.
  app.addHook('onRoute', (route) => {
    if (API_KEY_ROUTE.test(route.url)) addRouteHook(route, 'onRequest', authenticate);
  });

  app.setErrorHandler((error: unknown, request, reply) => {
    const clientError = error instanceof GraphQLError ? undefined : fastifyClientError(error);
    if (clientError) return reply.code(clientError.status).send({ error: { code: clientError.code, message: clientError.message } });
    const publicError = toPublicError(error);
    if (publicError.retryAfterSeconds !== undefined) reply.header('retry-after', String(publicError.retryAfterSeconds));
    if (publicError.status >= 500) request.log.error({ err: error }, 'request failed');
    // REST tells a well-formed request that breaks a rule (422) from one it cannot read (400).
    if (publicError.code === 'BAD_USER_INPUT') publicError.status = 422;
    return reply.code(publicError.status).send({
      error: { code: publicError.code, message: publicError.message, ...(publicError.field ? { field: publicError.field } : {}) },
    });
  });

  await registerGraphQLRoutes(app, services, {
    limits: options.graphqlLimits,
    context: (request): Omit<ApiContext, 'budget'> => ({
      ...requireCaller(request),
      services,
      takeTestSend: testSendBudget(request, config.limits.testSendsPerRequest, limiter),
    }),
  });

  app.get('/healthz', async (_request, reply) => {
    try {
      await options.checkHealth();
      return { status: 'ok' };
    } catch (error) {
      return reply.code(503).send({ status: 'unavailable', error: toPublicError(error).message });
    }
  });

  await registerRestRoutes(app, services, (request) => testSendBudget(request, config.limits.testSendsPerRequest, limiter)());
  for (const plugin of options.plugins ?? []) await plugin(app);
  return app;
}
