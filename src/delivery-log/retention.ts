import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import type { DB } from '../storage/schema.ts';
import { deleteFilteredCountsBefore, deleteSettledEventsBefore } from '../storage/delivery-log.ts';

export interface RetentionOptions {
  db: Kysely<DB>;
  clock: Clock;
  logger: Logger;
  /** Events (with their deliveries and attempts) older than this are removed once settled. */
  retentionMs: number;
  /** How often a sweep starts. */
  intervalMs?: number;
  /** Rows per DELETE: small, so each transaction is short and delivery is never held up. */
  batchSize?: number;
}

export interface Retention {
  /** One full sweep; resolves with the number of events removed. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

export function startRetention(options: RetentionOptions): Retention {
  const { db, clock, logger, retentionMs } = options;
  const batchSize = options.batchSize ?? 1_000;
  let stopped = false;
  let running: Promise<number> | undefined;

  const sweep = () =>
    (running ??= (async () => {
      const cutoff = new Date(clock.now().getTime() - retentionMs);
      let removed = 0;
      for (;;) {
        if (stopped) break;
        const deleted = await deleteSettledEventsBefore(db, cutoff, batchSize);
        removed += deleted;
        if (deleted < batchSize) break;
        // Let queued delivery work use the connection between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (!stopped) await deleteFilteredCountsBefore(db, cutoff);
      if (removed > 0) logger.info({ removed, cutoff }, 'retention removed old events with their deliveries');
      return removed;
    })().finally(() => (running = undefined)));

  const timer = setInterval(() => {
    sweep().catch((error) => logger.warn({ err: error }, 'retention sweep failed'));
  }, options.intervalMs ?? 10 * 60_000);
  timer.unref();

  return {
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => 0);
    },
  };
}
