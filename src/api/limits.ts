import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RateLimitedError, SwitchboardError } from '../domain/errors.ts';
import type { RequestLimits } from '../config.ts';
import { requireCaller } from './context.ts';

export interface RequestLimiter {
  /** Counts a request against its address's budget; the refusal to answer when that is spent. */
  countAddress(request: FastifyRequest): Promise<RateLimitedError | undefined>;
  /** Counts an authenticated request against its key's budget. */
  countKey(request: FastifyRequest): Promise<RateLimitedError | undefined>;
  /** Whether the address has used up its failed authentications: asked before a key is even looked up. */
  checkAuthFailures(request: FastifyRequest): Promise<RateLimitedError | undefined>;
  authFailed(request: FastifyRequest): Promise<void>;
  /** Counts one test send against the caller's workspace's budget. */
  countTestSend(request: FastifyRequest): Promise<RateLimitedError | undefined>;
}

const TEST_SEND_WINDOW_MS = 60_000;
/** Counters kept per limit (least recently used dropped first), so a flood of addresses cannot grow memory. */
const TRACKED_KEYS = 20_000;

/**
 * In-memory counters of @fastify/rate-limit, per process: each API process enforces its own share. The answers
 * are written by the caller, in the shape of the route (GraphQL or REST).
 */
export async function createRequestLimiter(app: FastifyInstance, limits: RequestLimits): Promise<RequestLimiter> {
  await app.register(rateLimit, { global: false, cache: TRACKED_KEYS });

  type Limit = ReturnType<FastifyInstance['createRateLimit']>;
  const limit = (max: number, timeWindow: number, keyGenerator?: (request: FastifyRequest) => string): Limit | undefined =>
    max > 0 ? app.createRateLimit({ max, timeWindow, ...(keyGenerator ? { keyGenerator } : {}) }) : undefined;
  // Without a key generator the plugin keys by address (an IPv6 address by its /64).
  const byAddress = limit(limits.perAddress, limits.windowMs);
  const byKey = limit(limits.perKey, limits.windowMs, (request) => requireCaller(request).apiKeyId);
  const authFailures = limit(limits.authFailures, limits.authFailureWindowMs);
  const testSends = limit(limits.testSendsPerMinute, TEST_SEND_WINDOW_MS, (request) => requireCaller(request).workspaceId);

  const count = async (budget: Limit | undefined, request: FastifyRequest, what: (max: number, windowMs: number) => string) => {
    if (!budget) return undefined;
    const state = await budget(request);
    if (state.isAllowed || !state.isExceeded) return undefined;
    return new RateLimitedError(`rate limited: ${what(state.max, state.timeWindow)}; retry in ${state.ttlInSeconds} s`, state.ttl / 1000);
  };
  const per = (windowMs: number) => (windowMs % 1000 === 0 ? `${windowMs / 1000} s` : `${windowMs} ms`);

  return {
    countAddress: (request) => count(byAddress, request, (max, windowMs) => `more than ${max} requests from this address in ${per(windowMs)}`),
    countKey: (request) => count(byKey, request, (max, windowMs) => `more than ${max} requests with this API key in ${per(windowMs)}`),
    async checkAuthFailures(request) {
      if (!authFailures) return undefined;
      const state = await authFailures(request, { increment: false });
      if (state.isAllowed || state.remaining > 0) return undefined;
      return new RateLimitedError(
        `rate limited: ${state.max} failed authentications from this address in ${per(state.timeWindow)}; retry in ${state.ttlInSeconds} s`,
        state.ttl / 1000,
      );
    },
    async authFailed(request) {
      await authFailures?.(request);
    },
    countTestSend: (request) =>
      count(testSends, request, (max) => `more than ${max} test sends (sendTestWebhook) per workspace in 60 s`),
  };
}

/** The test sends one request may make: at most `perRequest` of them, each also counted against the workspace's minute. */
export function testSendBudget(request: FastifyRequest, perRequest: number, limiter: RequestLimiter): () => Promise<void> {
  let taken = 0;
  return async () => {
    taken += 1;
    if (perRequest > 0 && taken > perRequest) {
      throw new SwitchboardError('BAD_USER_INPUT', `sendTestWebhook: at most ${perRequest} test sends per request`);
    }
    const refusal = await limiter.countTestSend(request);
    if (refusal) throw refusal;
  };
}
