import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import type { Database } from '../storage/database.ts';
import { heartbeat, listWorkers, registerWorker, releaseDeadWorkers, unregisterWorker } from '../storage/queue/index.ts';

/** Workers of this process that have not stopped: on an embedded database, every other one is dead. */
const liveInThisProcess = new Set<string>();

/** A worker silent for this many heartbeats is taken for dead (one late beat on a busy machine is not death). */
export const MISSED_HEARTBEATS_FOR_DEAD = 4;

export interface HeartbeatOptions {
  database: Database;
  clock: Clock;
  logger: Logger;
  workerId: string;
  intervalMs: number;
  /** Another worker took this one for dead and gave its leases back: claims held in memory are no longer its own. */
  onDeclaredDead(): void;
  /** Deliveries of dead workers went back to the queue. */
  onReleased(count: number): void;
}

export interface HeartbeatLoop {
  stop(): Promise<void>;
}

/**
 * Keeps this worker's heartbeat row fresh and, on every beat, gives back the leases of workers that stopped
 * beating: after a kill -9 their deliveries are sent again within MISSED_HEARTBEATS_FOR_DEAD + 1 intervals,
 * however long the delivery timeout and lease are.
 */
export async function startHeartbeat(options: HeartbeatOptions): Promise<HeartbeatLoop> {
  const { database, clock, logger, workerId, intervalMs } = options;
  const db = database.db;
  await registerWorker(db, workerId, clock.now());
  liveInThisProcess.add(workerId);
  // An embedded database is opened by one process at a time (the data folder's lock): a worker row of another
  // process is a crashed one's, released now rather than after the silence that proves it elsewhere.
  if (database.kind === 'pglite') {
    const orphans = (await listWorkers(db)).filter((id) => !liveInThisProcess.has(id));
    const now = clock.now();
    const released = await releaseDeadWorkers(db, orphans, now, new Date(now.getTime() + 1));
    if (orphans.length > 0) logger.info({ workers: orphans, released }, 'released the deliveries of workers that stopped heartbeating');
  }
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  async function beat(): Promise<void> {
    const now = clock.now();
    const staleBefore = new Date(now.getTime() - MISSED_HEARTBEATS_FOR_DEAD * intervalMs);
    try {
      const seen = await heartbeat(db, workerId, now, staleBefore);
      if (!seen.alive) {
        logger.warn({ workerId }, 'this worker was taken for dead (no heartbeat for too long); its leases were released');
        await registerWorker(db, workerId, now);
        options.onDeclaredDead();
      }
      const released = await releaseDeadWorkers(db, seen.stale, now, staleBefore);
      if (released > 0 || seen.stale.length > 0) {
        logger.info({ workers: seen.stale, released }, 'released the deliveries of workers that stopped heartbeating');
      }
      if (released > 0) options.onReleased(released);
    } catch (error) {
      if (!stopped) logger.warn({ err: error }, 'worker heartbeat failed');
    }
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = beat().finally(schedule);
    }, intervalMs);
    timer.unref();
  }

  running = beat().finally(schedule);
  return {
    async stop() {
      stopped = true;
      liveInThisProcess.delete(workerId);
      clearTimeout(timer);
      await running;
      await unregisterWorker(db, workerId).catch((error) => logger.warn({ err: error }, 'removing the worker heartbeat failed'));
    },
  };
}
