import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { FieldKind, FieldValue, RecordRow } from '../domain/records.ts';
import type { DB } from './schema.ts';

/** One of the record tables. */
export type RecordTable = 'people' | 'companies' | 'opportunities';

/** A column to write, with the kind that decides its SQL array type in multi-row inserts. */
export interface ColumnSpec {
  column: string;
  kind: FieldKind | 'uuid' | 'timestamp';
}

const SQL_TYPE: Record<ColumnSpec['kind'], string> = {
  uuid: 'uuid',
  reference: 'uuid',
  timestamp: 'timestamptz',
  datetime: 'timestamptz',
  text: 'text',
  email: 'text',
  integer: 'integer',
  number: 'double precision',
};

/**
 * Inserts rows in one statement (`INSERT … SELECT * FROM unnest(…)`: one parameter per column, whatever the
 * row count) and returns them as stored, in input order.
 */
export async function insertRecords(
  trx: Kysely<DB>,
  table: RecordTable,
  columns: readonly ColumnSpec[],
  rows: ReadonlyArray<Record<string, FieldValue>>,
): Promise<RecordRow[]> {
  const names = sql.join(columns.map((spec) => sql.ref(spec.column)));
  const arrays = sql.join(
    columns.map((spec) => sql`${rows.map((row) => row[spec.column] ?? null)}::${sql.raw(SQL_TYPE[spec.kind])}[]`),
  );
  const result = await sql<RecordRow>`
    INSERT INTO ${sql.table(table)} (${names})
    SELECT * FROM unnest(${arrays})
    RETURNING *
  `.execute(trx);
  const byId = new Map(result.rows.map((row) => [String(row.id), row]));
  return rows.map((row) => byId.get(String(row.id))!);
}

export interface FindOptions {
  /** Lock the row for an update in this transaction (others wait until it commits). */
  forUpdate?: boolean;
}

export async function findRecord(
  db: Kysely<DB>,
  table: RecordTable,
  workspaceId: string,
  id: string,
  options: FindOptions = {},
): Promise<RecordRow | undefined> {
  const lock = options.forUpdate ? sql`FOR UPDATE` : sql``;
  const result = await sql<RecordRow>`
    SELECT * FROM ${sql.table(table)} WHERE workspace_id = ${workspaceId} AND id = ${id} ${lock}
  `.execute(db);
  return result.rows[0];
}

/**
 * The given ids that exist in the workspace, with their deletedAt, locked FOR KEY SHARE so that the rows cannot
 * be destroyed before this transaction commits (a reference to them is being written).
 */
export async function lockReferencedRecords(
  trx: Kysely<DB>,
  table: RecordTable,
  workspaceId: string,
  ids: readonly string[],
): Promise<Map<string, { deletedAt: Date | null }>> {
  if (ids.length === 0) return new Map();
  const result = await sql<{ id: string; deleted_at: Date | null }>`
    SELECT id, deleted_at FROM ${sql.table(table)}
    WHERE workspace_id = ${workspaceId} AND id = ANY(${[...ids]}::uuid[])
    ORDER BY id
    FOR KEY SHARE
  `.execute(trx);
  return new Map(result.rows.map((row) => [row.id, { deletedAt: row.deleted_at }]));
}

/** Which of the ids are taken in the table (in any workspace: ids are globally unique). */
export async function existingIds(trx: Kysely<DB>, table: RecordTable, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const result = await sql<{ id: string }>`
    SELECT id FROM ${sql.table(table)} WHERE id = ANY(${[...ids]}::uuid[])
  `.execute(trx);
  return new Set(result.rows.map((row) => row.id));
}

export async function updateRecord(
  trx: Kysely<DB>,
  table: RecordTable,
  workspaceId: string,
  id: string,
  columns: Record<string, FieldValue>,
): Promise<RecordRow> {
  const assignments = sql.join(Object.entries(columns).map(([column, value]) => sql`${sql.ref(column)} = ${value}`));
  const result = await sql<RecordRow>`
    UPDATE ${sql.table(table)} SET ${assignments}
    WHERE workspace_id = ${workspaceId} AND id = ${id}
    RETURNING *
  `.execute(trx);
  const row = result.rows[0];
  if (!row) throw new Error(`updateRecord: ${table} ${id} vanished inside its own transaction`);
  return row;
}

export async function deleteRecord(trx: Kysely<DB>, table: RecordTable, workspaceId: string, id: string): Promise<void> {
  await sql`DELETE FROM ${sql.table(table)} WHERE workspace_id = ${workspaceId} AND id = ${id}`.execute(trx);
}

/** How many rows of `table` hold `id` in `column` (soft-deleted ones too: they can be restored). */
export async function countReferences(
  trx: Kysely<DB>,
  table: RecordTable,
  column: string,
  workspaceId: string,
  id: string,
): Promise<number> {
  const result = await sql<{ count: string }>`
    SELECT count(*) AS count FROM ${sql.table(table)} WHERE workspace_id = ${workspaceId} AND ${sql.ref(column)} = ${id}
  `.execute(trx);
  return Number(result.rows[0]?.count ?? 0);
}

export interface PageQuery {
  /** Rows strictly after this (createdAt, id) position. */
  after?: { createdAt: string; id: string };
  limit: number;
  includeDeleted: boolean;
}

/** One page in (created_at, id) order (the tables' page index), plus the total of matching rows. */
export async function listRecords(
  db: Kysely<DB>,
  table: RecordTable,
  workspaceId: string,
  query: PageQuery,
): Promise<{ rows: RecordRow[]; totalCount: number }> {
  const notDeleted: RawBuilder<unknown> = query.includeDeleted ? sql`` : sql`AND deleted_at IS NULL`;
  const after = query.after
    ? sql`AND (created_at, id) > (${query.after.createdAt}::timestamptz, ${query.after.id}::uuid)`
    : sql``;
  const page = await sql<RecordRow>`
    SELECT * FROM ${sql.table(table)}
    WHERE workspace_id = ${workspaceId} ${notDeleted} ${after}
    ORDER BY created_at, id
    LIMIT ${query.limit}
  `.execute(db);
  const total = await sql<{ count: string }>`
    SELECT count(*) AS count FROM ${sql.table(table)} WHERE workspace_id = ${workspaceId} ${notDeleted}
  `.execute(db);
  return { rows: page.rows, totalCount: Number(total.rows[0]?.count ?? 0) };
}
