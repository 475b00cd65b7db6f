import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { registerWebhookRoutes } from './webhooks.ts';
import { registerDeliveryRoutes } from './deliveries.ts';
import { registerRecordRoutes } from './records.ts';

/** Mounts every REST resource under /rest (CONTRACT.md section 7). */
export async function registerRestRoutes(app: FastifyInstance, services: Services): Promise<void> {
  await registerWebhookRoutes(app, services);
  await registerDeliveryRoutes(app, services);
  await registerRecordRoutes(app, services);
}
