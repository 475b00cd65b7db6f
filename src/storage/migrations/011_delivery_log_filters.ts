import { sql, type Kysely } from 'kysely';

// The delivery log filters one webhook's deliveries by status or operation, newest first, and finds the
// deliveries of one record: each filter reads its first page in index order instead of walking every delivery
// of the webhook (100,000 and more) to find the few that match.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX deliveries_by_webhook_status ON deliveries (webhook_id, status, created_at DESC, id DESC);
    CREATE INDEX deliveries_by_webhook_operation ON deliveries (webhook_id, operation, created_at DESC, id DESC);
    CREATE INDEX events_by_record ON events (workspace_id, record_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP INDEX events_by_record; DROP INDEX deliveries_by_webhook_operation; DROP INDEX deliveries_by_webhook_status;
  `.execute(db);
}
