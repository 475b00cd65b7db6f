import { sql, type Kysely } from 'kysely';

/**
 * PGlite runs PostgreSQL in one process with no autovacuum: left alone, its tables are never analysed (the
 * planner then guesses sizes from pages and answers a 200-row claim by scanning every delivery and every event)
 * and never vacuumed (the delivery queue, updated twice per delivery, grows without end). This does what
 * autovacuum would, on a timer, through the same single connection.
 */
export interface EmbeddedMaintenance {
  /** Vacuums and analyses the tables that need it now; resolves with what it did, e.g. `VACUUM deliveries`. */
  runOnce(): Promise<string[]>;
  stop(): Promise<void>;
}

export interface EmbeddedMaintenanceOptions {
  /** How often the table statistics are checked. */
  intervalMs?: number;
  onError?: (error: unknown) => void;
}

// Autovacuum's rule (threshold + scale factor × live rows), less eager than its defaults: each run holds the
// only connection, so delivery waits for it. The first analysis matters most: afterwards the planner scales
// its row estimates by the table's current size by itself, and only the shape of the data needs refreshing.
const ANALYZE_THRESHOLD = 1_000;
const ANALYZE_SCALE_FACTOR = 0.5;
const VACUUM_THRESHOLD = 2_000;
const VACUUM_SCALE_FACTOR = 0.2;

interface TableActivity {
  relname: string;
  live: number;
  dead: number;
  modified: number;
}

export function startEmbeddedMaintenance(db: Kysely<any>, options: EmbeddedMaintenanceOptions = {}): EmbeddedMaintenance {
  let running: Promise<string[]> | undefined;
  let stopped = false;

  const runOnce = () =>
    (running ??= (async () => {
      const done: string[] = [];
      // The one backend flushes its table counters to the statistics views at most once a second: read unflushed,
      // a vacuum counted before the updates it removed is followed by their dead rows arriving, phantom ones
      // that ask for another vacuum. This statement's end flushes them.
      await sql`SELECT pg_stat_force_next_flush()`.execute(db);
      const { rows } = await sql<TableActivity>`
        SELECT relname, n_live_tup::int AS live, n_dead_tup::int AS dead, n_mod_since_analyze::int AS modified
        FROM pg_stat_user_tables WHERE schemaname = 'public' ORDER BY relname
      `.execute(db);
      for (const table of rows) {
        if (stopped) break;
        const name = sql.table(table.relname);
        if (table.dead >= VACUUM_THRESHOLD + VACUUM_SCALE_FACTOR * table.live) {
          await sql`VACUUM ${name}`.execute(db);
          done.push(`VACUUM ${table.relname}`);
        }
        if (table.modified >= ANALYZE_THRESHOLD + ANALYZE_SCALE_FACTOR * table.live) {
          await sql`ANALYZE ${name}`.execute(db);
          done.push(`ANALYZE ${table.relname}`);
        }
      }
      return done;
    })().finally(() => (running = undefined)));

  const timer = setInterval(() => {
    runOnce().catch((error) => options.onError?.(error));
  }, options.intervalMs ?? 2_000);
  timer.unref();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => []);
    },
  };
}
