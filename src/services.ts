import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Clock } from './domain/clock.ts';
import type { Database } from './storage/database.ts';
import { createWorkspaceService, type WorkspaceService } from './workspaces/api-keys.ts';
import { createWebhookService, type WebhookService } from './webhooks/service.ts';
import { createRecordService, type RecordService } from './records/service.ts';

/** What every service is built from. */
export interface ServiceDeps {
  database: Database;
  config: Config;
  clock: Clock;
  logger: Logger;
}

/** The application's services: the API and the CLI talk to these, never to storage directly. */
export interface Services {
  workspaces: WorkspaceService;
  webhooks: WebhookService;
  records: RecordService;
}

export function createServices(deps: ServiceDeps): Services {
  const { database, clock } = deps;
  return {
    workspaces: createWorkspaceService(database.db, clock),
    webhooks: createWebhookService({ db: database.db, config: deps.config, clock, logger: deps.logger }),
    records: createRecordService(database.db, clock),
  };
}
