import { sql, type Kysely } from 'kysely';

// deliveries is a queue: rows arrive and settle in bursts far faster than autovacuum's defaults (20 % of the
// table) notice. With stale statistics the planner believes few rows are due and answers the claim with a
// bitmap scan that sorts every due row instead of reading the first few in index order, so each claim costs
// time in proportion to the backlog. Analysing (and vacuuming) after 1 % of changes keeps the plan right.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE deliveries SET (
      autovacuum_analyze_scale_factor = 0.01,
      autovacuum_vacuum_scale_factor = 0.02,
      autovacuum_vacuum_insert_scale_factor = 0.02
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE deliveries RESET (autovacuum_analyze_scale_factor, autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor)
  `.execute(db);
}
