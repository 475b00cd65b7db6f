import { sql, type Kysely } from 'kysely';

// A webhook may screen events (contract §10): `filter`, a record filter kept as the caller's JSON, and `fields`,
// the names an updated event must touch. The write that screens an event leaves the webhooks it screened out on
// the event's fan-out row (filtered_webhook_ids), and the worker that turns the fan-out into deliveries adds them
// to an hourly tally per webhook: the write itself never updates a shared counter row.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE webhooks ADD COLUMN filter json, ADD COLUMN fields text[];
    ALTER TABLE pending_fanouts ADD COLUMN filtered_webhook_ids uuid[];
    CREATE TABLE webhook_filtered_counts (
      webhook_id uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
      hour timestamptz NOT NULL,
      filtered bigint NOT NULL,
      PRIMARY KEY (webhook_id, hour)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE webhook_filtered_counts;
    ALTER TABLE pending_fanouts DROP COLUMN filtered_webhook_ids;
    ALTER TABLE webhooks DROP COLUMN filter, DROP COLUMN fields;
  `.execute(db);
}
