import { sql, type Kysely } from 'kysely';

// Crash recovery in seconds instead of a lease: every worker keeps a row here fresh, and the deliveries it has
// leased name it (leased_by). A worker whose row goes stale is dead; any live worker then gives its leases back to
// the queue at once, whatever their lease time. leased_by has no index: it is read only when a worker has died.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE worker_heartbeats (
      worker_id uuid PRIMARY KEY,
      started_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL
    );
    ALTER TABLE deliveries ADD COLUMN leased_by uuid;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE worker_heartbeats; ALTER TABLE deliveries DROP COLUMN leased_by`.execute(db);
}
