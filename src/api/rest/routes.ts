import type { TakeTestSend } from '../context.ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidInput } from '../../domain/errors.ts';
import type { Services } from '../../services.ts';
import { registerWebhookRoutes } from './webhooks.ts';
import { registerDeliveryRoutes } from './deliveries.ts';
import { registerRecordRoutes } from './records.ts';

/**
 * Every REST parameter is read as one string: a repeated one (`?status=FAILED&status=PENDING`, which the query
 * parser turns into an array) is refused here, naming it, rather than reaching a handler that expects a string.
 */
async function refuseRepeatedQueryParameters(request: FastifyRequest): Promise<void> {
  const query = request.query as Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(query ?? {})) {
    if (typeof value !== 'string') throw invalidInput(name, 'must be given once, as a single value');
  }
}

/** Mounts every REST resource under /rest (CONTRACT.md section 7). */
export async function registerRestRoutes(app: FastifyInstance, services: Services, takeTestSend: TakeTestSend): Promise<void> {
  await app.register(async (rest) => {
    rest.addHook('preHandler', refuseRepeatedQueryParameters);
    await registerWebhookRoutes(rest, services);
    await registerDeliveryRoutes(rest, services, takeTestSend);
    await registerRecordRoutes(rest, services);
  });
}
