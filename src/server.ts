import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { sql } from 'kysely';
import { buildApp } from './api/app.ts';
import { privateTargetsNotice, type Config, type Role } from './config.ts';
import { systemClock, type Clock } from './domain/clock.ts';
import { createProcessLogger } from './logger.ts';
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
import { SWITCHBOARD_VERSION } from './version.ts';
import { pendingNextKey, resolveEncryptionKey, type EncryptionKey } from './webhooks/encryption-key.ts';
import { countUnopenableSecrets, sealPlainSecrets } from './webhooks/seal-at-rest.ts';
import { createSecretBox } from './webhooks/secret-box.ts';
import { startLocalAdminChannel, type LocalAdminChannel } from './local-admin/channel.ts';

export interface StartOptions {
  config: Config;
  role?: Role;
  clock?: Clock;
  logger?: Logger;
  /** An already open database (tests); otherwise one is opened from the config and closed on stop. */
  database?: Database;
  /** The process can no longer run safely (its DATA_DIR lock was taken over): the CLI exits. */
  onFatal?: (error: Error) => void;
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

/**
 * Resolves the key webhook secrets are sealed with (SWITCHBOARD_ENCRYPTION_KEY, else DATA_DIR/switchboard.key),
 * seals every secret still stored in plain text, and refuses to start when a stored secret does not open with
 * that key: better now, naming the key, than at every delivery.
 */
export async function prepareSecretsAtRest(config: Config, database: Database, logger: Logger): Promise<EncryptionKey> {
  const key = resolveEncryptionKey(config);
  if (key.created) logger.warn({ file: key.file }, 'generated the key that encrypts webhook secrets at rest: back it up with the database');
  const box = createSecretBox(key.key);
  const unopenable = await countUnopenableSecrets(database.db, box);
  if (unopenable > 0) {
    const where = key.source === 'key file' ? `the key file ${key.file}` : 'SWITCHBOARD_ENCRYPTION_KEY';
    const interrupted = key.source === 'key file' && pendingNextKey(config.dataDir) !== undefined;
    throw new Error(
      `${unopenable} webhook(s) hold a secret that ${where} does not open: they were sealed with another key. ` +
        (interrupted
          ? 'A `switchboard secrets reseal` was interrupted: run it again to finish.'
          : 'Configure the key they were sealed with (SWITCHBOARD_ENCRYPTION_KEY, or restore DATA_DIR/switchboard.key).'),
    );
  }
  const report = await sealPlainSecrets(database.db, box);
  if (report.rewritten > 0) logger.info({ count: report.rewritten }, 'sealed webhook secrets stored in plain text');
  return key;
}

export async function openConfiguredDatabase(config: Config, logger: Logger, onFatal?: (error: Error) => void): Promise<Database> {
  return openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    lockStaleMs: config.lockStaleMs,
    onLockLost: (error) => {
      logger.fatal({ err: error }, 'DATA_DIR lock lost: the embedded database is closed, this process stops serving');
      onFatal?.(error);
    },
    onConnectionError: (error) => logger.warn({ err: error }, 'database connection error'),
    onMaintenanceError: (error) => logger.warn({ err: error }, 'embedded database vacuum or analyse failed'),
  });
}

/** The composition root: database, services, HTTP API and delivery worker, as the role asks. */
export async function startSwitchboard(options: StartOptions): Promise<RunningSwitchboard> {
  const role = options.role ?? 'all';
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createProcessLogger(options.config);
  const database = options.database ?? (await openConfiguredDatabase(options.config, logger, options.onFatal));
  const ownsDatabase = !options.database;
  let closeLocalAdmin: () => Promise<void> | undefined = () => undefined;
  try {
    const notice = privateTargetsNotice(options.config);
    if (notice) logger.warn({ allowPrivateTargets: true, reason: options.config.privateTargetsDefault }, notice);
    await migrateToLatest(database.db);
    const key = await prepareSecretsAtRest(options.config, database, logger);
    const config: Config = { ...options.config, encryptionKey: key.key };
    const metrics = createMetrics(() => queueFigures(database.db), clock, { maxAgeMs: config.metricsMaxAgeMs });
    const services = createServices({ database, config, clock, logger, metrics });
    const bootstrap = await bootstrapDefaultWorkspace(database.db, services.workspaces, config.apiKey);

    // Only the process that opened the embedded database holds it: `switchboard apikey` reaches it here.
    const localAdmin: LocalAdminChannel | undefined =
      ownsDatabase && !config.databaseUrl ? await startLocalAdminChannel(config.dataDir, services.workspaces, logger) : undefined;
    closeLocalAdmin = () => localAdmin?.close();

    let app: FastifyInstance | undefined;
    let url: string | undefined;
    if (role !== 'worker') {
      app = await buildApp({
        services,
        logger,
        config,
        checkHealth: async () => {
          await sql`SELECT 1`.execute(database.db);
        },
        graphqlLimits: config.graphql,
        plugins: [metricsRoute(metrics, config.metricsToken), uiRoutes()],
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
        await Promise.all([worker?.stop(), retention?.stop(), app?.close(), closeLocalAdmin()]);
        await services.deliveryLog.close();
        await services.workspaces.close();
        await services.metadata.close();
        if (ownsDatabase) await database.close();
      })());
    return { url, database, services, app, bootstrap, worker, metrics, stop };
  } catch (error) {
    await closeLocalAdmin()?.catch(() => {});
    if (ownsDatabase) await database.close().catch(() => {});
    throw error;
  }
}
