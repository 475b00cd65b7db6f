import { sql, type Kysely } from 'kysely';

// A worker whose endpoint for some webhook is full (a receiver that hangs) claims around that webhook's due
// deliveries. Through deliveries_due alone that means reading past all of them on every claim; this index lets
// the claim step from webhook to webhook and read only the first due rows of the ones it may send to.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX deliveries_pending_by_webhook ON deliveries (webhook_id, next_attempt_at) WHERE status = 'PENDING'
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX deliveries_pending_by_webhook`.execute(db);
}
