import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { sql } from 'kysely';
import { buildApp } from './api/app.ts';
import type { Config, Role } from './config.ts';
import { systemClock, type Clock } from './domain/clock.ts';
import { createLogger } from './logger.ts';
import { createServices, type Services } from './services.ts';
import { openDatabase, type Database } from './storage/database.ts';
import { migrateToLatest } from './storage/migrate.ts';
import { queueFigures } from './storage/delivery-log.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { metricsRoute } from './api/metrics-route.ts';
import { uiRoutes } from './api/ui.ts';
import { startRetention, type Retention } from './delivery-log/retention.ts';
import { bootstrapDefaultWorkspace, type BootstrapResult } from './workspaces/bootstrap.ts';
import { createDeliveryWorker, type DeliveryWorker } from './delivery/worker.ts';
import { SWITCHBOARD_VERSION } from './delivery/version.ts';

export interface StartOptions {
  config: Config;
  role?: Role;
  clock?: Clock;
  logger?: Logger;
  /** An already open database (tests); otherwise one is opened from the config and closed on stop. */
  database?: Database;
}

export interface RunningSwitchboard {
  /** http://host:port, when the role serves HTTP. */
  url: string | undefined;
  database: Database;
  services: Services;
  app: FastifyInstance | undefined;
  bootstrap: BootstrapResult;
  metrics: Metrics;
  /** The delivery worker, when the role delivers (all, worker). */
  worker: DeliveryWorker | undefined;
  /** Stops taking work, lets in-flight work finish or returns it to the queue, then closes the database. */
  stop(): Promise<void>;
}

export async function openConfiguredDatabase(config: Config, logger: Logger): Promise<Database> {
  return openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    onConnectionError: (error) => logger.warn({ err: error }, 'database connection error'),
    onMaintenanceError: (error) => logger.warn({ err: error }, 'embedded database vacuum or analyse failed'),
  });
}

/** The composition root: database, services, HTTP API and delivery worker, as the role asks. */
export async function startSwitchboard(options: StartOptions): Promise<RunningSwitchboard> {
  const { config } = options;
  const role = options.role ?? 'all';
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel);
  const database = options.database ?? (await openConfiguredDatabase(config, logger));
  const ownsDatabase = !options.database;
  try {
    await migrateToLatest(database.db);
    const metrics = createMetrics(() => queueFigures(database.db), clock);
    const services = createServices({ database, config, clock, logger, metrics });
    const bootstrap = await bootstrapDefaultWorkspace(database.db, services.workspaces, config.apiKey);

    let app: FastifyInstance | undefined;
    let url: string | undefined;
    if (role !== 'worker') {
      app = await buildApp({
        services,
        logger,
        checkHealth: async () => {
          await sql`SELECT 1`.execute(database.db);
        },
        plugins: [metricsRoute(metrics), uiRoutes()],
      });
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    }

    let worker: DeliveryWorker | undefined;
    let retention: Retention | undefined;
    if (role !== 'api') {
      worker = createDeliveryWorker({ database, config, clock, logger, version: SWITCHBOARD_VERSION, metrics });
      await worker.start();
      retention = startRetention({ db: database.db, clock, logger, retentionMs: config.retentionMs });
    }

    let stopped: Promise<void> | undefined;
    const stop = () =>
      (stopped ??= (async () => {
        await Promise.all([worker?.stop(), retention?.stop(), app?.close()]);
        await services.deliveryLog.close();
        await services.metadata.close();
        if (ownsDatabase) await database.close();
      })());
    return { url, database, services, app, bootstrap, worker, metrics, stop };
  } catch (error) {
    if (ownsDatabase) await database.close().catch(() => {});
    throw error;
  }
}
