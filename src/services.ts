import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Clock } from './domain/clock.ts';
import type { Database } from './storage/database.ts';
import type { Metrics } from './observability/metrics.ts';
import { createWorkspaceService, type WorkspaceService } from './workspaces/api-keys.ts';
import { createWebhookService, type WebhookService } from './webhooks/service.ts';
import { createDeliveryLogService, REPLAY_LIMITS, type DeliveryLogService } from './delivery-log/service.ts';
import { createTestWebhookSender } from './delivery/test-webhook.ts';
import { createRecordService, type RecordService } from './records/service.ts';
import { createMetadataService, type MetadataService } from './metadata/service.ts';

/** What every service is built from. */
export interface ServiceDeps {
  database: Database;
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Counters the services report to (GET /metrics); absent in one-shot CLI commands. */
  metrics?: Metrics;
}

/** The application's services: the API and the CLI talk to these, never to storage directly. */
export interface Services {
  workspaces: WorkspaceService;
  webhooks: WebhookService;
  deliveryLog: DeliveryLogService;
  records: RecordService;
  /** Objects and fields (Twenty's data model) and the cached data model of each workspace. */
  metadata: MetadataService;
}

export function createServices(deps: ServiceDeps): Services {
  const { database, clock } = deps;
  const metadata = createMetadataService(database, clock);
  return {
    metadata,
    workspaces: createWorkspaceService(database.db, clock),
    webhooks: createWebhookService({
      db: database.db,
      config: deps.config,
      clock,
      logger: deps.logger,
      dataModel: metadata.model,
    }),
    deliveryLog: createDeliveryLogService(
      database.db,
      clock,
      createTestWebhookSender(deps.config, clock),
      REPLAY_LIMITS,
      deps.config.retentionMs,
      metadata.model,
    ),
    records: createRecordService(database.db, clock, metadata.model, deps.metrics),
  };
}
