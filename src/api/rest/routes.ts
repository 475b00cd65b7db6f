import type { TakeTestSend } from '../context.ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidInput } from '../../domain/errors.ts';
import type { Services } from '../../services.ts';
import { registerWebhookRoutes } from './webhooks.ts';
import { registerDeliveryRoutes } from './deliveries.ts';
import { registerRecordRoutes } from './records.ts';
import { registerOpenApi, registerOpenApiRoute, registerReferencePage } from './openapi.ts';
import { addSharedSchemas } from './schemas.ts';

/**
 * Every REST parameter is read as one value: a repeated one (`?status=FAILED&status=PENDING`, which the query
 * parser turns into an array) is refused here, naming it, before the route's schema reads it.
 */
async function refuseRepeatedQueryParameters(request: FastifyRequest): Promise<void> {
  const query = request.query as Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(query ?? {})) {
    if (typeof value !== 'string') throw invalidInput(name, 'must be given once, as a single value');
  }
}

/**
 * Mounts every REST resource under /rest (CONTRACT.md sections 7 and 11), each route declaring its parameters,
 * body and answers as JSON Schema (validated by rest/validation.ts, serialised by Fastify, documented by
 * GET /rest/openapi.json), and the API reference page at /docs.
 */
export async function registerRestRoutes(app: FastifyInstance, services: Services, takeTestSend: TakeTestSend): Promise<void> {
  // On the root instance: @fastify/swagger reads its shared schemas and collects the routes registered after it.
  addSharedSchemas(app);
  await registerOpenApi(app);
  await app.register(async (rest) => {
    rest.addHook('preValidation', refuseRepeatedQueryParameters);
    await registerWebhookRoutes(rest, services);
    await registerDeliveryRoutes(rest, services, takeTestSend);
    await registerRecordRoutes(rest, services);
    registerOpenApiRoute(rest, services);
  });
  await registerReferencePage(app);
}
