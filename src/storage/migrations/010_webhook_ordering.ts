import { sql, type Kysely } from 'kysely';

// PER_RECORD ordering (contract §10). Each event takes a number from a sequence when it is inserted, which a
// write does after updating (and so locking) its record: for one record the numbers follow the commit order.
// A delivery to a PER_RECORD webhook carries its record (ordering_key) and that number (ordering_seq); a claim
// passes it over while an earlier delivery of the same webhook and record is unsettled.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE webhooks ADD COLUMN ordering text NOT NULL DEFAULT 'NONE' CHECK (ordering IN ('NONE', 'PER_RECORD'));
    CREATE SEQUENCE events_commit_order;
    ALTER TABLE events ADD COLUMN commit_order bigint;
    ALTER TABLE events ALTER COLUMN commit_order SET DEFAULT nextval('events_commit_order');
    ALTER TABLE deliveries ADD COLUMN ordering_key uuid, ADD COLUMN ordering_seq bigint;
    CREATE INDEX deliveries_pending_per_record ON deliveries (webhook_id, ordering_key, ordering_seq)
      WHERE status = 'PENDING' AND ordering_key IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX deliveries_pending_per_record;
    ALTER TABLE deliveries DROP COLUMN ordering_key, DROP COLUMN ordering_seq;
    ALTER TABLE events DROP COLUMN commit_order;
    DROP SEQUENCE events_commit_order;
    ALTER TABLE webhooks DROP COLUMN ordering;
  `.execute(db);
}
