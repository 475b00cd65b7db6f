import { sql, type Kysely } from 'kysely';

// Why and when a webhook was disabled (contract §10): GONE_410, FAILING_5_DAYS or BY_USER; cleared on re-enable.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE webhooks ADD COLUMN disabled_reason text, ADD COLUMN disabled_at timestamptz;
    UPDATE webhooks SET disabled_reason = 'BY_USER', disabled_at = updated_at WHERE status = 'DISABLED';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE webhooks DROP COLUMN disabled_reason, DROP COLUMN disabled_at`.execute(db);
}
