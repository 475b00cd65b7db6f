import { sql, type Kysely } from 'kysely';

// The fan-out leaves the write's transaction: the write stores its event and, when webhooks match, one row here
// naming them; a worker turns that row into the delivery rows right after commit. A write with 100 matching
// webhooks then inserts one small row instead of 100 indexed delivery rows, and nothing can be lost between the
// two steps: the row is deleted in the same statement that inserts its deliveries.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE pending_fanouts (
      event_id uuid PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
      webhook_ids uuid[] NOT NULL,
      created_at timestamptz NOT NULL
    );
    CREATE INDEX pending_fanouts_oldest ON pending_fanouts (created_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE pending_fanouts`.execute(db);
}
