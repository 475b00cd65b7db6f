import type { Services } from '../services.ts';
import type { RequestBudget } from './graphql/request-budget.ts';

/** Who is calling: set by the auth hook before any GraphQL resolver or REST handler runs. */
export interface Caller {
  workspaceId: string;
  apiKeyId: string;
}

export interface ApiContext extends Caller {
  services: Services;
  /** What this GraphQL request may still spend (time, bytes read). */
  budget: RequestBudget;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}
