// PGlite is loaded only when an embedded database is opened: importing it costs a process 40 MB of resident
// memory, which a worker on PostgreSQL has no use for.
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { acquireDataDirLock } from './data-dir-lock.ts';
import { startEmbeddedMaintenance } from './embedded-maintenance.ts';
import type { DB } from './schema.ts';

export type DatabaseKind = 'pglite' | 'postgres';
export type Unlisten = () => Promise<void>;

/** One database, PGlite or PostgreSQL, behind the same kysely dialect. */
export interface Database {
  readonly kind: DatabaseKind;
  readonly db: Kysely<DB>;
  /** Calls handler for every NOTIFY on channel after its transaction commits (from any process on PostgreSQL). */
  listen(channel: string, handler: (payload: string) => void): Promise<Unlisten>;
  /**
   * Vacuums and analyses what needs it now, where nothing else does (PGlite has no autovacuum; on PostgreSQL
   * this is the server's job and does nothing). Also runs every few seconds by itself.
   */
  maintain(): Promise<string[]>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres://… selects PostgreSQL. */
  databaseUrl?: string;
  /** PGlite data folder, locked for this process. */
  dataDir?: string;
  /** An already open PGlite (tests load one from a template); closed with the database. */
  pglite?: PGlite;
  /** PostgreSQL pool size. */
  poolSize?: number;
  /** Called when the PostgreSQL connection reports an error outside a query (e.g. the server restarted). */
  onConnectionError?: (error: Error) => void;
  /** Called when the embedded database's own vacuum or analyse fails. */
  onMaintenanceError?: (error: unknown) => void;
  /** How long a silent DATA_DIR lock holder is waited for before its lock is taken over (acquireDataDirLock). */
  lockStaleMs?: number;
  /**
   * Called when another process took this one's DATA_DIR lock (it stalled past the stale time). The database
   * is closed already, so nothing more is written; the process should stop serving.
   */
  onLockLost?: (error: Error) => void;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options);
  if (options.pglite) return wrapPglite(options.pglite, () => {}, options);
  if (!options.dataDir) throw new Error('openDatabase: give databaseUrl, dataDir or pglite');
  let database: Database | undefined;
  const lock = await acquireDataDirLock(options.dataDir, {
    staleMs: options.lockStaleMs,
    onLost: (error) => {
      // Another process writes to the folder now: writing on would lose its rows or ours.
      void database?.close().catch(() => {});
      options.onLockLost?.(error);
    },
  });
  const release = () => lock.release();
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const pglite = await PGlite.create(options.dataDir);
    database = await wrapPglite(pglite, release, options);
    return database;
  } catch (error) {
    release();
    throw error;
  }
}

async function wrapPglite(pglite: PGlite, release: () => void, options: OpenDatabaseOptions): Promise<Database> {
  // Its pages live in memory: a random read costs about what a sequential one does, and the planner should
  // know it, or it prefers scanning whole tables to a few hundred index lookups.
  // And analysing reads a smaller sample: the queries here need table sizes and rough distributions only.
  await pglite.exec('SET random_page_cost = 1.1; SET default_statistics_target = 20');
  // PGlite is a single connection: the pool hands it to one query or transaction at a time.
  const { createPgConfig } = await import('@electric-sql/pglite/node-postgres');
  const pool = new pg.Pool({ ...createPgConfig(pglite), max: 1 });
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const maintenance = startEmbeddedMaintenance(db, { onError: options.onMaintenanceError });
  let closing: Promise<void> | undefined;
  return {
    kind: 'pglite',
    db,
    async listen(channel, handler) {
      return pglite.listen(channel, handler);
    },
    maintain: () => maintenance.runOnce(),
    close: () =>
      // Closed by its owner on stop, and also at once when the DATA_DIR lock is lost: once only.
      (closing ??= (async () => {
        try {
          await maintenance.stop();
          await db.destroy();
          await pglite.close();
        } finally {
          release();
        }
      })()),
  };
}

async function openPostgres(connectionString: string, options: OpenDatabaseOptions): Promise<Database> {
  const onError = options.onConnectionError ?? (() => {});
  const pool = new pg.Pool({ connectionString, max: options.poolSize ?? 10 });
  // An idle client's error (server restart) must not crash the process; the pool replaces the client.
  pool.on('error', onError);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const listener = new NotificationListener(connectionString, onError);
  return {
    kind: 'postgres',
    db,
    listen: (channel, handler) => listener.listen(channel, handler),
    maintain: async () => [],
    async close() {
      await listener.close();
      await db.destroy();
    },
  };
}

/** One dedicated LISTEN connection, reconnected with its channels when the server goes away. */
class NotificationListener {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private readonly handlers = new Map<string, Set<(payload: string) => void>>();
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connectionString: string,
    private readonly onError: (error: Error) => void,
  ) {}

  async listen(channel: string, handler: (payload: string) => void): Promise<Unlisten> {
    let set = this.handlers.get(channel);
    const isNewChannel = !set;
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    const client = await this.connect();
    if (isNewChannel) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    return async () => {
      set.delete(handler);
    };
  }

  private connect(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.connectionString });
      client.on('notification', (message) => {
        for (const handler of this.handlers.get(message.channel) ?? []) handler(message.payload ?? '');
      });
      client.on('error', (error) => {
        this.onError(error);
        this.dropClient(client);
      });
      client.on('end', () => this.dropClient(client));
      try {
        await client.connect();
        for (const channel of this.handlers.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        this.client = client;
        return client;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  private dropClient(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer || this.handlers.size === 0) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      // Wake every listener after a reconnect: notifications sent while away were lost.
      this.connect().then(
        () => {
          for (const set of this.handlers.values()) for (const handler of set) handler('');
        },
        (error: Error) => {
          this.onError(error);
          this.scheduleReconnect();
        },
      );
    }, 500);
    this.reconnectTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client ?? (this.connecting ? await this.connecting.catch(() => undefined) : undefined);
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}
