import type { Services } from '../services.ts';

/** Who is calling: set by the auth hook before any GraphQL resolver or REST handler runs. */
export interface Caller {
  workspaceId: string;
  apiKeyId: string;
}

export interface ApiContext extends Caller {
  services: Services;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}
