import { sql, type Kysely } from 'kysely';

// The queue's hot tables keep their links by code instead of foreign keys. Every delivery row inserted and every
// attempt stored ran a referential check that locked the referenced row (an event, a webhook, a delivery) FOR KEY
// SHARE, which writes that row's lock into its page and the WAL: per delivery, 44 µs of PostgreSQL time in four
// such checks and 160 of its 4,600 WAL bytes (pg_stat_statements, 10,000 deliveries). What the keys guaranteed:
// - a delivery's and a fan-out's event exists: both are written from the event (the fan-out in the event's own
//   statement, deliveries from the fan-out or from a replay that locks the event), and retention removes an event
//   only once it has no fan-out and no PENDING delivery, together with its deliveries and their attempts
//   (storage/delivery-log.ts deleteSettledEventsBefore), which the cascade used to do;
// - an attempt's delivery exists: settling inserts it joined to the delivery row it has just updated;
// - a delivery's webhook exists: webhooks are only soft-deleted; a claim treats a delivery whose webhook or event
//   row is gone as one that will not be sent (it ends FAILED without an attempt), so none can wait forever.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_event_id_fkey, DROP CONSTRAINT IF EXISTS deliveries_webhook_id_fkey;
    ALTER TABLE delivery_attempts DROP CONSTRAINT IF EXISTS delivery_attempts_delivery_id_fkey;
    ALTER TABLE pending_fanouts DROP CONSTRAINT IF EXISTS pending_fanouts_event_id_fkey;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE deliveries
      ADD CONSTRAINT deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE,
      ADD CONSTRAINT deliveries_webhook_id_fkey FOREIGN KEY (webhook_id) REFERENCES webhooks(id) ON DELETE CASCADE;
    ALTER TABLE delivery_attempts
      ADD CONSTRAINT delivery_attempts_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES deliveries(id) ON DELETE CASCADE;
    ALTER TABLE pending_fanouts
      ADD CONSTRAINT pending_fanouts_event_id_fkey FOREIGN KEY (event_id) REFERENCES events(id) ON DELETE CASCADE;
  `.execute(db);
}
