import { sql, type Kysely } from 'kysely';

// An attempt is found by its delivery and number (the log lists a delivery's attempts, retention deletes them by
// delivery), never by its own id: the unique (delivery_id, number) index becomes the primary key and the index on
// id goes. Each stored attempt writes one index entry less (of about 21 per delivery, pg_waldump over 10,000
// deliveries). The id column stays, as the API shows it. The key's index is built anew (a unique constraint's
// index cannot become a primary key's): on a large attempts table this migration takes as long as that build.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE delivery_attempts
      DROP CONSTRAINT delivery_attempts_pkey,
      DROP CONSTRAINT delivery_attempts_delivery_id_number_key,
      ADD CONSTRAINT delivery_attempts_pkey PRIMARY KEY (delivery_id, number);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_pkey;
    ALTER TABLE delivery_attempts ADD CONSTRAINT delivery_attempts_delivery_id_number_key UNIQUE (delivery_id, number);
    ALTER TABLE delivery_attempts ADD PRIMARY KEY (id);
  `.execute(db);
}
