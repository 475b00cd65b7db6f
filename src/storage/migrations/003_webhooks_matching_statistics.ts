import { sql, type Kysely } from 'kysely';

// The planner assumes workspace_id and operation are independent. When one workspace subscribes many
// webhooks to `*.*` and another holds thousands of specific ones, that guess makes it hash-join over
// every webhook instead of looking up the few that match. Joint statistics keep the lookup an index scan.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE STATISTICS webhook_operations_workspace_operation (mcv, dependencies)
      ON workspace_id, operation FROM webhook_operations
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP STATISTICS webhook_operations_workspace_operation`.execute(db);
}
