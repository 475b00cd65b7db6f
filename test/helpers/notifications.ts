import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../../src/storage/database.ts';

export interface RecordedNotifications {
  /** Every payload received on the channel so far, in order (caughtUp's own marks left out). */
  readonly payloads: string[];
  /**
   * Returns once every notification committed before this call has arrived: it sends a mark of its own and waits
   * for it, and PostgreSQL delivers notifications in the order their transactions committed. "Nothing arrived"
   * is then a fact, not a guess after a sleep.
   */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/** Listens on `channel` and records what arrives. */
export async function recordNotifications(database: Database, channel: string): Promise<RecordedNotifications> {
  const payloads: string[] = [];
  const marks = new Map<string, () => void>();
  const unlisten = await database.listen(channel, (payload) => {
    const arrived = marks.get(payload);
    if (!arrived) return void payloads.push(payload);
    marks.delete(payload);
    arrived();
  });
  return {
    payloads,
    async caughtUp() {
      const mark = `caught-up:${randomUUID()}`;
      const arrived = new Promise<void>((resolve) => marks.set(mark, resolve));
      await sql`SELECT pg_notify(${channel}, ${mark})`.execute(database.db);
      await arrived;
    },
    stop: unlisten,
  };
}
