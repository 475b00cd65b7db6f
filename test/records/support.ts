import { sql } from 'kysely';
import { OBJECTS, type StandardObjectName as ObjectName } from '../../src/domain/records.ts';
import type { TestApp } from '../helpers/app.ts';

/** Every field of an object, for a GraphQL selection. */
export function selection(object: ObjectName): string {
  return ['id', ...OBJECTS[object].fields.map((field) => field.name), 'createdAt', 'updatedAt', 'deletedAt'].join(' ');
}

export interface StoredEventRow {
  id: string;
  operation: string;
  record_id: string;
  record: Record<string, unknown>;
  previous_record: Record<string, unknown> | null;
  updated_fields: string[] | null;
  created_at: Date;
  workspace_id: string;
}

/** Events of one record, oldest first. */
export async function eventsOf(app: TestApp, recordId: string): Promise<StoredEventRow[]> {
  return (await app.server.database.db
    .selectFrom('events')
    .selectAll()
    .where('record_id', '=', recordId)
    .orderBy('created_at')
    .execute()) as StoredEventRow[];
}

export async function countRows(app: TestApp, table: 'people' | 'companies' | 'opportunities' | 'events'): Promise<number> {
  const result = await sql<{ count: string }>`SELECT count(*) AS count FROM ${sql.table(table)}`.execute(app.server.database.db);
  return Number(result.rows[0].count);
}

/** Counts of every record table and the events table, to show a refused write stored nothing. */
export async function snapshotCounts(app: TestApp): Promise<Record<string, number>> {
  return {
    people: await countRows(app, 'people'),
    companies: await countRows(app, 'companies'),
    opportunities: await countRows(app, 'opportunities'),
    events: await countRows(app, 'events'),
  };
}
