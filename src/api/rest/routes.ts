import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';

/** Mounts every REST resource under /rest (CONTRACT.md section 7). */
export async function registerRestRoutes(_app: FastifyInstance, _services: Services): Promise<void> {}
