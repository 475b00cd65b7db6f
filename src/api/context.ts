import type { FastifyRequest } from 'fastify';
import { SwitchboardError } from '../domain/errors.ts';
import type { Services } from '../services.ts';
import type { RequestBudget } from './graphql/request-budget.ts';

/** Who is calling: set by the auth hook before any GraphQL resolver or REST handler runs. */
export interface Caller {
  workspaceId: string;
  apiKeyId: string;
}

export interface ApiContext extends Caller {
  services: Services;
  /** Takes one test send from this request's and this workspace's budgets; throws when either is spent. */
  takeTestSend(): Promise<void>;
  /** What this GraphQL request may still spend (time, bytes read). */
  budget: RequestBudget;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

/**
 * The request's caller. A handler reached without one (a route the auth hook did not cover) answers 401 rather
 * than serving, or failing on, a request of nobody.
 */
export function requireCaller(request: FastifyRequest): Caller {
  const caller = request.caller;
  if (!caller) throw new SwitchboardError('UNAUTHENTICATED', 'missing API key: send Authorization: Bearer <api key>');
  return caller;
}

/** Takes one test send from the request's and the workspace's budgets (REST); throws when either is spent. */
export type TakeTestSend = (request: FastifyRequest) => Promise<void>;
