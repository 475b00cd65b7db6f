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
import { SwitchboardError } from '../domain/errors.ts';
import { requireCaller, type ApiContext } from './context.ts';
import { sendError, toPublicError } from './errors.ts';
import { restValidatorCompiler } from './rest/validation.ts';
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

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

function unauthenticated(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const message = request.headers.authorization
    ? 'the API key is not valid (unknown or revoked)'
    : 'missing API key: send Authorization: Bearer <api key>';
  return sendError(request, reply, new SwitchboardError('UNAUTHENTICATED', message));
}

function addRouteHook(route: RouteOptions, name: 'onRequest', hook: onRequestHookHandler): void {
  const existing = route[name];
  route[name] = [hook, ...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing])];
}

/** A route as registered (Fastify's own HEAD routes for GET included): what the OpenAPI test checks coverage against. */
export interface RegisteredRoute {
  method: string;
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route of the app, in registration order. */
    registeredRoutes: readonly RegisteredRoute[];
  }
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
    if (refusal) return sendError(request, reply, refusal);
  });

  const authenticate: onRequestHookHandler = async (request, reply) => {
    if (request.method === 'OPTIONS') return;
    const token = bearerToken(request);
    let caller: Awaited<ReturnType<typeof services.workspaces.authenticate>>;
    try {
      // An address that guessed wrong too often is refused before its key is even looked up.
      const blocked = token ? await limiter.checkAuthFailures(request) : undefined;
      if (blocked) return sendError(request, reply, blocked);
      caller = token ? await services.workspaces.authenticate(token) : undefined;
      if (token && !caller) await limiter.authFailed(request);
    } catch (error) {
      // Answered here, in the shape of the route the request was for (503 while the database is away).
      return sendError(request, reply, error);
    }
    if (!caller) return unauthenticated(request, reply);
    request.caller = caller;
    const refusal = await limiter.countKey(request);
    if (refusal) return sendError(request, reply, refusal);
  };
  const routes: RegisteredRoute[] = [];
  app.decorate('registeredRoutes', routes);
  // Protection is a property of the route: added when it is registered, so no path spelling can route around it.
  app.addHook('onRoute', (route) => {
    if (API_KEY_ROUTE.test(route.url)) addRouteHook(route, 'onRequest', authenticate);
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });

  // Every error, from a handler or from Fastify itself (unreadable JSON, a body too large, a route schema's
  // refusal), is answered with its code's status, in the shape of the route; unknown routes in REST's envelope.
  app.setErrorHandler((error: unknown, request, reply) => sendError(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new SwitchboardError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0].slice(0, 200)}`)),
  );
  // Route schemas are checked by our compiler: bodies exactly as sent, query and path parameters read from text.
  app.setValidatorCompiler(restValidatorCompiler);

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
